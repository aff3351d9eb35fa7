#include "tape.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <stdexcept>
#include <string>

#include <xtensor/xreducer.hpp>

#include "inspect/trace.hpp"
#include "sweep.hpp"

namespace tapegrad {

Tape& Tape::current() {
    thread_local Tape tape;
    return tape;
}

Tensor Tape::push(const char* op, const InputRef* inputs, std::size_t count, Array&& value,
                  detail::Derivative&& derivative) {
    if (records_.size() >= prune_at_ && !sweeping_) {  // a create_graph sweep holds indices
        prune();
        live_after_prune_ = records_.size();
        prune_at_ = std::max<std::size_t>(4096, 2 * live_after_prune_);
    }
    auto output = make_node(std::move(value), /*requires_grad=*/true, next_seq_);
    output->tape = this;

    Record& r = records_.emplace_back(op, next_seq_++, std::move(derivative));
    for (std::size_t i = 0; i < count; ++i) {
        const Tensor& t = *inputs[i];
        if (!t.defined()) continue;
        if (t.node()->tape && t.node()->tape != this) {
            records_.pop_back();
            throw std::logic_error(std::string(op) +
                                   ": an input is the output of an op recorded on another "
                                   "thread; tapegrad keeps one tape per thread, so a graph must "
                                   "be built on one thread (pass detached values between threads)");
        }
        r.inputs.push_back(t);
    }
    r.output = output;
    return Tensor(std::move(output));
}

std::size_t Tape::index_of(std::uint64_t seq) const {
    std::size_t lo = 0, hi = records_.size();  // records are in the order of their seq
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (records_[mid].seq < seq) lo = mid + 1;
        else hi = mid;
    }
    return lo < records_.size() && records_[lo].seq == seq ? lo : records_.size();
}

void Tape::release(Record& r) {
    r.output->record = Node::released;
    r.output.reset();
    r.inputs.clear();
    r.derivative = nullptr;
}

namespace detail {
void throw_no_derivative(const char* op) {
    throw std::logic_error(std::string("backward: ") + op +
                           " cannot be differentiated twice yet: create_graph is not supported "
                           "through it (its backward is not written as tensor ops)");
}
}  // namespace detail

void Tape::add_listener(SweepListener* listener) { listeners_.push_back(listener); }

void Tape::remove_listener(SweepListener* listener) {
    listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener), listeners_.end());
}

void Tape::prune() {
    // A record whose output only the record itself holds can never be reached by a backward().
    // Going from the end, dropping such a record can free earlier ones in the same pass.
    for (std::size_t i = records_.size(); i-- > 0;) {
        Record& r = records_[i];
        if (r.output.use_count() == 1) {
            r.output.reset();
            r.inputs.clear();
            r.derivative = nullptr;
        }
    }
    records_.erase_if(0, records_.size(), [](const Record& r) { return r.output == nullptr; });
}

void Tape::clear() {
    for (std::size_t i = 0; i < records_.size(); ++i)
        if (records_[i].output) records_[i].output->record = Node::released;
    records_.erase_from(0);
    prune_at_ = 4096;
    live_after_prune_ = 0;
}

void Tape::print(std::ostream& out) const { print_records(out, snapshot(*this)); }

void print_tape() {
    const Tape& tape = Tape::current();
    const TapeRecorder* recorder = tape.recorder();
    if (recorder && recorder->sweeps() > 0) {
        const std::vector<TracedRecord> last = recorder->last_sweep();
        std::cout << "backward() went through " << last.size()
                  << (last.size() == 1 ? " record" : " records")
                  << " (gradient norms after the sweep):\n";
        print_records(std::cout, last);
    }
    if (tape.size() > 0) {
        std::cout << "tape: " << tape.size() << (tape.size() == 1 ? " record" : " records")
                  << " waiting for backward():\n";
        tape.print(std::cout);
    } else if (!recorder || recorder->sweeps() == 0) {
        std::cout << "tape: empty (backward() releases the records it used; start a TapeRecorder "
                     "before the forward pass to keep a summary of them)\n";
    }
}

Array unbroadcast(const Array& dy, const Shape& shape) {
    if (std::equal(dy.shape().begin(), dy.shape().end(), shape.begin(), shape.end())) return dy;
    if (dy.dimension() < shape.size())
        throw std::logic_error("unbroadcast: a gradient of shape " + shape_str(dy.shape()) +
                               " cannot come from broadcasting shape " + shape_str(shape));
    const std::size_t lead = dy.dimension() - shape.size();
    std::vector<std::size_t> axes;
    for (std::size_t i = 0; i < dy.dimension(); ++i)
        if (i < lead || (shape[i - lead] == 1 && dy.shape()[i] != 1)) axes.push_back(i);
    Array summed = detail::sum_axes(dy, axes);
    summed.reshape(shape);
    return summed;
}

namespace detail {
Array sum_axes(const Array& x, const std::vector<std::size_t>& axes) {
    if (x.size() > 0) return xt::sum(x, axes, xt::evaluation_strategy::immediate);
    Shape kept;
    for (std::size_t i = 0; i < x.dimension(); ++i)
        if (!std::binary_search(axes.begin(), axes.end(), i)) kept.push_back(x.shape()[i]);
    return Array(xt::zeros<float>(kept));
}
}  // namespace detail

}  // namespace tapegrad
