#include "tape.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <stdexcept>
#include <string>

#include <xtensor/xreducer.hpp>

#include "inspect/trace.hpp"

namespace tapegrad {

namespace {

// A node whose record was used by a backward() and released carries this as its creator.
constexpr std::uint64_t released = UINT64_MAX;

thread_local int no_grad_depth = 0;

}  // namespace

Tape& Tape::current() {
    thread_local Tape tape;
    return tape;
}

bool grad_enabled() { return no_grad_depth == 0; }
NoGrad::NoGrad() { ++no_grad_depth; }
NoGrad::~NoGrad() { --no_grad_depth; }

bool needs_record(std::initializer_list<Tensor> inputs) {
    if (!grad_enabled()) return false;
    for (const Tensor& t : inputs)
        if (t.defined() && t.requires_grad()) return true;
    return false;
}

Tensor Tape::push(const char* op, std::initializer_list<Tensor> inputs, Array&& value,
                  detail::BackwardFn&& backward) {
    if (records_.size() >= prune_at_) {
        prune();
        prune_at_ = std::max<std::size_t>(4096, 2 * records_.size());
    }
    auto output = make_node(std::move(value), /*requires_grad=*/true, next_seq_);

    Record& r = records_.emplace_back();
    r.op = op;
    r.seq = next_seq_++;
    for (const Tensor& t : inputs)
        if (t.defined()) r.inputs.push_back(t.node());
    r.output = output;
    r.backward = std::move(backward);
    return Tensor(std::move(output));
}

std::size_t Tape::index_of(std::uint64_t seq) const {
    auto it = std::lower_bound(records_.begin(), records_.end(), seq,
                               [](const Record& r, std::uint64_t s) { return r.seq < s; });
    if (it == records_.end() || it->seq != seq) return records_.size();
    return static_cast<std::size_t>(it - records_.begin());
}

void Tape::backward_from(const Node& output) {
    if (output.creator == 0) return;  // a leaf: its gradient is already seeded
    std::size_t end = output.creator == released ? records_.size() : index_of(output.creator);
    if (end == records_.size())
        throw std::logic_error(
            "backward: the graph that produced this tensor was already released by an earlier "
            "backward() (or by Tape::clear()); run the forward pass again before calling "
            "backward a second time");

    for (std::size_t i = end + 1; i-- > 0;) {
        Record& r = records_[i];
        if (r.output->grad) {
            for (std::size_t k = 0; k < r.inputs.size(); ++k)
                if (r.inputs[k]->creator == released && r.inputs[k]->requires_grad)
                    throw std::logic_error(
                        std::string("backward: ") + r.op +
                        " uses a value whose graph was already released by an earlier "
                        "backward(); run the forward pass again");
            if (recorder_) recorder_->run_backward(i, r);  // calls r.backward, noting what it did
            else r.backward(*r.output->grad, r.output->value);
        } else if (recorder_) {
            recorder_->skip(i, r);
        }
        // Released as soon as it is used: its closure may hold large saved arrays.
        r.output->creator = released;
        r.output.reset();
        r.inputs.clear();
        r.backward = nullptr;
    }
    if (recorder_) recorder_->end_sweep();  // reads the final gradients, lets go of the nodes
    // The next prune waits until the tape is twice as long as this graph was: a program that
    // builds graphs of this size and calls backward() on them never pays for a pruning pass.
    records_.erase(records_.begin(), records_.begin() + static_cast<std::ptrdiff_t>(end + 1));
    prune_at_ = std::max<std::size_t>(4096, 2 * (end + 1));
}

void Tape::prune() {
    // A record whose output only the record itself holds can never be reached by a backward().
    // Going from the end, dropping such a record can free earlier ones in the same pass.
    for (std::size_t i = records_.size(); i-- > 0;) {
        Record& r = records_[i];
        if (r.output.use_count() == 1) {
            r.output.reset();
            r.inputs.clear();
            r.backward = nullptr;
        }
    }
    records_.erase(std::remove_if(records_.begin(), records_.end(),
                                  [](const Record& r) { return r.output == nullptr; }),
                   records_.end());
}

void Tape::clear() {
    for (Record& r : records_) r.output->creator = released;
    records_.clear();
    prune_at_ = 4096;
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
    Array summed = xt::sum(dy, axes, xt::evaluation_strategy::immediate);
    summed.reshape(shape);
    return summed;
}

}  // namespace tapegrad
