#include "tape.hpp"

#include <algorithm>
#include <deque>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include <xtensor/xreducer.hpp>

#include "../backend/parallel.hpp"
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

bool needs_record(const InputRef* inputs, std::size_t count) {
    if (no_grad_depth != 0) return false;
    for (std::size_t i = 0; i < count; ++i)
        if (inputs[i]->defined() && inputs[i]->requires_grad()) return true;
    return false;
}

Tensor Tape::push(const char* op, const InputRef* inputs, std::size_t count, Array&& value,
                  detail::BackwardFn&& backward) {
    if (records_.size() >= prune_at_ && !sweeping_) {  // a create_graph sweep holds indices
        prune();
        live_after_prune_ = records_.size();
        prune_at_ = std::max<std::size_t>(4096, 2 * live_after_prune_);
    }
    auto output = make_node(std::move(value), /*requires_grad=*/true, next_seq_);
    output->tape = this;

    Record& r = records_.emplace_back(op, next_seq_++, std::move(backward));
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
        r.inputs.push_back(t.node());
    }
    r.output = output;
    return Tensor(std::move(output));
}

std::size_t Tape::index_of(std::uint64_t seq) const {
    auto it = std::lower_bound(records_.begin(), records_.end(), seq,
                               [](const Record& r, std::uint64_t s) { return r.seq < s; });
    if (it == records_.end() || it->seq != seq) return records_.size();
    return static_cast<std::size_t>(it - records_.begin());
}

namespace {

// The sweep running on this thread: where accumulate_grad() sends gradients while it runs.
//
// An op's output sums the gradient arriving at it in its own `grad` slot, which it does not
// otherwise use, and passes it on when its record runs. Leaves, and op outputs that keep their
// gradient (retain_grad, or any tensor while a TapeRecorder traces), sum theirs aside, in `kept`,
// so that grad() changes only when the whole sweep succeeded.
struct ActiveSweep {
    std::uint64_t id = 0;
    std::size_t outstanding = 0;  // op outputs reached whose record has not run
    bool keep_all = false;        // a recorder traces this sweep
    // node.slot indexes it; a deque, so that a gradient being passed on stays where it is while
    // the closure adds more entries.
    std::deque<std::pair<std::shared_ptr<Node>, detail::GradSlot<Array>>> kept;

    bool aside(const Node& n) const { return n.creator == 0 || n.retains_grad || keep_all; }
    // The gradient summed so far for a node this sweep has reached.
    detail::GradSlot<Array>& incoming(Node& n) { return aside(n) ? kept[n.slot].second : n.grad; }
};
thread_local ActiveSweep* active_sweep = nullptr;

// Hooks may replace a complete gradient; the replacement must keep its shape.
void run_hooks(Node& node, std::shared_ptr<Node>& dy) {
    for (auto& hook : node.extras->hooks) {
        std::shared_ptr<Node> replacement = hook(dy);
        if (!replacement) continue;
        if (replacement->value.shape() != node.value.shape())
            throw std::logic_error("register_hook: a hook returned a gradient of shape " +
                                   shape_str(replacement->value.shape()) +
                                   " for a tensor of shape " + shape_str(node.value.shape()));
        dy = std::move(replacement);
    }
}

void run_hooks(Node& node, Array& dy) {
    auto as_node = make_node(std::move(dy), false);
    run_hooks(node, as_node);
    dy = as_node.use_count() == 1 ? std::move(as_node->value) : as_node->value;
}

// sum += dx for two arrays of the same shape: one plain loop (xtensor's += walks the arrays
// through its general assignment, which does not vectorise), split over the threads when large.
inline void add_into(Array& sum, const Array& dx) {
    float* s = sum.data();
    const float* d = dx.data();
    auto add = [s, d](std::size_t begin, std::size_t end) {
        float* __restrict to = s;
        const float* __restrict from = d;
        for (std::size_t i = begin; i < end; ++i) to[i] += from[i];
    };
    const std::size_t n = sum.size();
    // parallel_for would run a small n on one part too; testing first keeps the scalar ops of the
    // tape from building a std::function for every gradient they sum.
    if (n < 2 * min_floats_per_thread) add(0, n);
    else parallel_for(n, [&](std::size_t begin, std::size_t end, int) { add(begin, end); },
                      min_floats_per_thread);
}

void keep_grad(Node& node, Array&& dy) {
    if (node.grad && node.grad->shape() == dy.shape()) add_into(*node.grad, dy);
    else if (node.grad) *node.grad += dy;  // a grad the user set to another shape: as xtensor does
    else node.grad.emplace(std::move(dy));
}

// Marks `node` as reached by this sweep the first time a gradient arrives at it.
inline void reach(ActiveSweep& sweep, const std::shared_ptr<Node>& node) {
    Node& n = *node;
    if (n.sweep == sweep.id) return;
    n.sweep = sweep.id;
    if (sweep.aside(n)) {
        n.slot = static_cast<std::uint32_t>(sweep.kept.size());
        sweep.kept.emplace_back(node, detail::GradSlot<Array>());
    } else {
        n.grad.reset();  // the slot starts empty
    }
    if (n.creator != 0 && n.creator != released) ++sweep.outstanding;
}

// Where the gradient arriving at `node` is summed, reaching it first.
inline detail::GradSlot<Array>& incoming(ActiveSweep& sweep, const std::shared_ptr<Node>& node) {
    reach(sweep, node);
    return sweep.incoming(*node);
}

// a + b of two gradients of the same shape, recorded (and differentiable again): how a
// create_graph sweep sums the gradients arriving at one tensor.
Tensor add_gradients(const Tensor& a, const Tensor& b) {
    return record(
        "add", {a, b}, a.value() + b.value(),
        [a, b](const Array& dy, const Array&) {
            a.accumulate_grad(dy);
            b.accumulate_grad(dy);
        },
        [](const std::vector<Tensor>&, const Tensor&, const Tensor& dy) {
            return std::vector<Tensor>{dy, dy};
        });
}

// With create_graph: the gradient arriving at `node` is a recorded tensor; several add up
// through a recorded add.
void add_incoming_node(ActiveSweep& sweep, const std::shared_ptr<Node>& node, const Tensor& dx) {
    reach(sweep, node);
    if (dx.value().shape() != node->value.shape())
        throw std::logic_error("accumulate_grad: gradient of shape " + shape_str(dx.shape()) +
                               " for a tensor of shape " + shape_str(node->value.shape()) +
                               " (an op's tensor backward forgot to sum it back to its input)");
    std::shared_ptr<Node>& sum = node->more().incoming_node;
    sum = sum ? add_gradients(Tensor(sum), dx).node() : dx.node();
}

// One record of a create_graph sweep: its tensor backward runs as ordinary, recorded ops. Those
// ops append records to this tape, which may move `records`: what the record holds is copied out
// before its closure runs.
template <class Capture>
void run_tensor_backward(std::vector<Record>& records, std::size_t i, ActiveSweep& state,
                         bool into_grad, Capture& capture) {
    const Record& r = records[i];
    const char* op = r.op;
    if (!r.backward.has_tensor_backward())
        throw std::logic_error(std::string("backward: ") + op +
                               " cannot be differentiated twice yet: create_graph is not "
                               "supported through it (its backward is not written as tensor "
                               "ops)");
    const std::shared_ptr<Node> out = r.output;
    std::vector<std::shared_ptr<Node>> inputs_nodes;
    std::vector<Tensor> inputs;
    for (std::size_t k = 0; k < r.inputs.size(); ++k) {
        inputs_nodes.push_back(r.inputs[k]);
        inputs.emplace_back(r.inputs[k]);
    }
    std::shared_ptr<Node> g = std::move(out->more().incoming_node);
    if (out->has_hooks()) run_hooks(*out, g);
    if (!into_grad) capture(*out, g);
    if (into_grad && out->retains_grad) keep_grad(*out, Array(g->value));
    // The closure is moved out while it runs (its ops may move `records`), then put back.
    detail::BackwardFn backward = std::move(records[i].backward);
    std::vector<Tensor> dx;
    try {
        dx = backward.tensor_backward(inputs, Tensor(out), Tensor(g));
    } catch (const std::exception& e) {
        records[i].backward = std::move(backward);
        if (std::string(e.what()).rfind(op, 0) == 0) throw;
        throw std::runtime_error(std::string("backward of ") + op + ": " + e.what());
    }
    records[i].backward = std::move(backward);
    for (std::size_t k = 0; k < inputs_nodes.size() && k < dx.size(); ++k)
        if (dx[k].defined() && inputs_nodes[k]->requires_grad)
            add_incoming_node(state, inputs_nodes[k], dx[k]);
}

// For a GradientObserver: when each watched leaf's gradient is complete. The last record to add
// to it is the earliest one (lowest index) at or below the root's that takes it as an input, so
// the reverse sweep is done with it once it moves below that index.
class ReadyLeaves {
  public:
    ReadyLeaves(GradientObserver& observer, const std::vector<Record>& records,
                std::size_t end, bool root_is_op)
        : observer_(observer), leaves_(observer.watched()) {
        std::unordered_map<const Node*, std::size_t> index;
        for (std::size_t k = 0; k < leaves_.size(); ++k) index.emplace(leaves_[k].node().get(), k);
        first_use_.assign(leaves_.size(), unused);
        for (std::size_t i = 0; root_is_op && i <= end; ++i)
            for (std::size_t j = 0; j < records[i].inputs.size(); ++j) {
                auto it = index.find(records[i].inputs[j].get());
                if (it != index.end() && first_use_[it->second] == unused)
                    first_use_[it->second] = i;
            }
        for (std::size_t k = 0; k < leaves_.size(); ++k) order_.push_back(k);
        std::stable_sort(order_.begin(), order_.end(), [&](std::size_t a, std::size_t b) {
            return first_use_[a] + 1 > first_use_[b] + 1;  // unused (the largest) + 1 wraps to 0
        });
    }

    // Reports every leaf whose first use is above record `i`: the sweep is about to run record i.
    void report_above(std::size_t i, ActiveSweep& sweep) {
        while (next_ < order_.size() && first_use_[order_[next_]] != unused &&
               first_use_[order_[next_]] > i)
            report(order_[next_++], sweep);
    }
    // The sweep is over: the rest, then finish().
    void report_rest(ActiveSweep& sweep) {
        while (next_ < order_.size()) report(order_[next_++], sweep);
        observer_.finish();
    }

  private:
    static constexpr std::size_t unused = SIZE_MAX;

    void report(std::size_t k, ActiveSweep& sweep) {
        const std::shared_ptr<Node>& node = leaves_[k].node();
        detail::GradSlot<Array>& dx = incoming(sweep, node);
        if (!dx) dx.emplace(xt::zeros<float>(node->value.shape()));  // not reached: zero
        observer_.ready(k, *dx);
    }

    GradientObserver& observer_;
    const std::vector<Tensor>& leaves_;
    std::vector<std::size_t> first_use_;  // per leaf: the lowest record index using it
    std::vector<std::size_t> order_;      // leaves by first use, highest first
    std::size_t next_ = 0;                // order_[0 .. next_) reported
};

}  // namespace

namespace detail {

const Array* incoming_gradient(Node& node) {
    ActiveSweep* sweep = active_sweep;
    if (!sweep || node.sweep != sweep->id) return nullptr;
    const detail::GradSlot<Array>& sum = sweep->incoming(node);
    return sum ? &*sum : nullptr;
}

}  // namespace detail

namespace {
// Out of line, so that the hot path of accumulate_grad stays small enough to inline its moves.
[[noreturn, gnu::cold, gnu::noinline]] void throw_gradient_shape(const Array& dx, const Node& node) {
    throw std::logic_error("accumulate_grad: gradient of shape " + shape_str(dx.shape()) +
                           " for a tensor of shape " + shape_str(node.value.shape()) +
                           " (an op forgot to unbroadcast its gradient)");
}

// dx.shape() == value.shape(), without the call to memcmp that costs a scalar op more.
inline bool same_shape(const Array& a, const Array& b) {
    const auto& p = a.shape();
    const auto& q = b.shape();
    if (p.size() != q.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i)
        if (p[i] != q[i]) return false;
    return true;
}
}  // namespace

// Here rather than in tensor.cpp: every gradient of a sweep arrives through it.
[[gnu::flatten]] void Tensor::accumulate_grad(Array dx) const {
    Node& node = checked();
    if (!node.requires_grad) return;
    if (!same_shape(dx, node.value)) throw_gradient_shape(dx, node);
    // While a backward() runs, into the gradient it is summing for this tensor; else into grad().
    detail::GradSlot<Array>& sum = active_sweep ? incoming(*active_sweep, node_) : node.grad;
    if (sum) add_into(*sum, dx);
    else sum.emplace(std::move(dx));
}

inline void Tape::release(Record& r) {
    r.output->creator = released;
    r.output.reset();
    r.inputs.clear();
    r.backward = nullptr;
}

std::vector<std::shared_ptr<Node>> Tape::sweep(const std::shared_ptr<Node>& root, Array dy,
                                               const GradOptions& options,
                                               const std::vector<const Node*>& captured) {
    if (sweeping_)
        throw std::logic_error("backward: called from inside another backward() on the same "
                               "thread (from a backward closure or a hook), which is not "
                               "supported");
    if (root->creator == released)
        throw std::logic_error(
            "backward: the graph that produced this tensor was already released by an earlier "
            "backward() (or by Tape::clear()); run the forward pass again, or pass "
            "GradOptions{true} (retain_graph) to the first backward to keep it");
    std::size_t end = 0;
    if (root->creator != 0) {
        if (root->tape != this)
            throw std::logic_error(
                "backward: this tensor was computed on another thread than the one calling "
                "backward(); tapegrad keeps one tape per thread, so call backward() on the thread "
                "that ran the forward pass");
        end = index_of(root->creator);
        if (end == records_.size())
            throw std::logic_error("backward: the record that produced this tensor is no longer "
                                   "on the tape (Tape::clear()); run the forward pass again");
    }
    // create_graph records the sweep, which refers to this graph's values: it keeps the graph,
    // as PyTorch's create_graph does by default.
    const bool create = options.create_graph;
    const bool keep_graph = options.retain_graph || create;
    const bool into_grad = captured.empty();
    std::vector<std::shared_ptr<Node>> result(captured.size());
    auto capture = [&](const Node& node, const std::shared_ptr<Node>& g) {
        for (std::size_t k = 0; k < captured.size(); ++k)
            if (captured[k] == &node)
                result[k] = result[k] ? add_gradients(Tensor(result[k]), Tensor(g)).node() : g;
    };

    if (observer_ && create && into_grad)
        throw std::logic_error("backward: create_graph is not supported while a gradient "
                               "observer (such as distributed::GradReducer) watches this thread's "
                               "sweeps; use grad() for the inner gradients");

    ActiveSweep state;
    std::optional<ReadyLeaves> ready;
    if (observer_ && into_grad) ready.emplace(*observer_, records_, end, root->creator != 0);
    state.id = ++sweeps_;
    state.keep_all = recorder_ != nullptr;
    sweeping_ = true;
    active_sweep = create ? nullptr : &state;  // with create_graph, gradients are tensors
    if (create) {
        add_incoming_node(state, root, Tensor(std::move(dy)));
    } else {
        Tensor(root).accumulate_grad(std::move(dy));  // into the sweep's slot, as any gradient
    }
    std::size_t released_count = 0, lowest = end + 1;  // the records swept: [lowest, end]
    try {
        // From the root's record down, running each record whose output a gradient reached,
        // until every such output's record has run: records of other graphs are not touched.
        for (std::size_t i = end + 1; state.outstanding > 0 && i > 0;) {
            lowest = --i;
            if (ready) ready->report_above(i, state);
            Record& r = records_[i];
            if (!r.output) continue;
            Node& out = *r.output;
            if (out.sweep != state.id) continue;  // not reached: another graph's record
            --state.outstanding;
            for (std::size_t k = 0; k < r.inputs.size(); ++k)
                if (r.inputs[k]->creator == released && r.inputs[k]->requires_grad)
                    throw std::logic_error(
                        std::string("backward: ") + r.op +
                        " uses a value whose graph was already released by an earlier "
                        "backward(); run the forward pass again, or pass GradOptions{true} "
                        "(retain_graph) to the first backward to keep it");
            if (create) {
                run_tensor_backward(records_, i, state, into_grad, capture);
            } else {
                Array& g = *state.incoming(out);
                if (out.has_hooks()) run_hooks(out, g);
                if (!into_grad) capture(out, make_node(Array(g), false));
                try {
                    if (recorder_) recorder_->run_backward(i, r);  // calls r.backward, noting dx
                    else r.backward(g, out.value);
                } catch (const std::exception& e) {
                    // The message names the op; one that does already is passed on as it is.
                    if (std::string(e.what()).rfind(r.op, 0) == 0) throw;
                    throw std::runtime_error(std::string("backward of ") + r.op + ": " + e.what());
                }
                // Passed on (kept ones wait below). A node about to be freed with its record
                // takes the gradient with it.
                if (!state.aside(out) && (keep_graph || r.output.use_count() > 1))
                    out.grad.reset();
            }
            if (!keep_graph) {
                release(records_[i]);  // as soon as it is used: it may hold large saved arrays
                ++released_count;
            }
        }
        if (ready) ready->report_rest(state);
        // Leaves and kept outputs: their gradient is complete now.
        for (auto& [node, sum] : state.kept) {
            const bool leaf = node->creator == 0;
            if (create) {
                std::shared_ptr<Node> g = std::move(node->more().incoming_node);
                if (!leaf || !g) continue;  // an output's was handled when its record ran
                if (node->has_hooks()) run_hooks(*node, g);
                if (into_grad) keep_grad(*node, Array(g->value));
                else capture(*node, g);
                continue;
            }
            if (!sum) continue;
            if (leaf && node->has_hooks()) run_hooks(*node, *sum);
            if (into_grad) keep_grad(*node, std::move(*sum));
            else if (leaf) capture(*node, make_node(std::move(*sum), false));
        }
    } catch (...) {
        if (ready) observer_->abandon();
        // The tape stays consistent: records not yet run keep their place and closure, no
        // gradient is left half-summed, and no leaf's grad() has changed.
        for (Record& r : records_)
            if (r.output && r.output->sweep == state.id) {
                if (!state.aside(*r.output)) r.output->grad.reset();
                if (r.output->extras) r.output->extras->incoming_node.reset();
            }
        for (auto& entry : state.kept)
            if (entry.first->extras) entry.first->extras->incoming_node.reset();
        active_sweep = nullptr;
        sweeping_ = false;
        if (released_count) {
            records_.erase(std::remove_if(records_.begin(), records_.end(),
                                          [](const Record& r) { return r.output == nullptr; }),
                           records_.end());
        }
        if (recorder_) recorder_->end_sweep();
        throw;
    }
    active_sweep = nullptr;
    sweeping_ = false;
    if (recorder_) recorder_->end_sweep();  // reads the final gradients, lets go of the nodes
    if (released_count) {
        // Only the records of the swept range can have been released; often all of them were.
        const auto first = records_.begin() + static_cast<std::ptrdiff_t>(lowest);
        const auto last = records_.begin() + static_cast<std::ptrdiff_t>(end + 1);
        if (released_count == end + 1 - lowest) records_.erase(first, last);
        else records_.erase(std::remove_if(first, last,
                                           [](const Record& r) { return r.output == nullptr; }),
                            last);
        // The next prune waits until the tape is twice as long as this graph was (a program that
        // builds graphs of this size and calls backward() on them never pays for a pruning
        // pass), and twice what the last prune kept (so that pruning stays rare when other
        // graphs are kept alive).
        prune_at_ = std::max<std::size_t>({4096, 2 * released_count, 2 * live_after_prune_});
    }
    return result;
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
    for (Record& r : records_)
        if (r.output) r.output->creator = released;
    records_.clear();
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
