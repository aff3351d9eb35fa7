#include "sweep.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "../backend/parallel.hpp"
#include "tape.hpp"

namespace tapegrad {

namespace {

// The sweep running on this thread: where Tensor::accumulate_grad sends gradients while it runs
// (null with create_graph, whose gradients are recorded tensors).
thread_local Sweep* active_sweep = nullptr;

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

// Adds a finished gradient to what the user reads in grad().
void keep_grad(Node& node, Array&& dy) {
    if (node.grad && node.grad->shape() == dy.shape()) add_into(*node.grad, dy);
    else if (node.grad) *node.grad += dy;  // a grad the user set to another shape: as xtensor does
    else node.grad.emplace(std::move(dy));
}

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

// An error from a record's backward, naming its op unless the message does already.
[[noreturn]] void rethrow_naming(const char* op, const std::exception& e) {
    if (std::string(e.what()).rfind(op, 0) == 0) throw;
    throw std::runtime_error(std::string("backward of ") + op + ": " + e.what());
}

}  // namespace

Sweep::Sweep(Tape& tape, const std::shared_ptr<Node>& root, const GradOptions& options,
             const std::vector<const Node*>& captured)
    : tape_(tape), root_(root), create_(options.create_graph),
      // create_graph records the sweep, which refers to this graph's values: it keeps the
      // graph, as PyTorch's create_graph does by default.
      keep_graph_(options.retain_graph || options.create_graph),
      keep_all_(tape.recorder() != nullptr), captured_(captured), result_(captured.size()) {
    if (tape.sweeping_)
        throw std::logic_error("backward: called from inside another backward() on the same "
                               "thread (from a backward closure or a hook), which is not "
                               "supported");
    if (root->record == Node::released)
        throw std::logic_error(
            "backward: the graph that produced this tensor was already released by an earlier "
            "backward() (or by Tape::clear()); run the forward pass again, or pass "
            "GradOptions{true} (retain_graph) to the first backward to keep it");
    if (!root->is_leaf()) {
        if (root->tape != &tape)
            throw std::logic_error(
                "backward: this tensor was computed on another thread than the one calling "
                "backward(); tapegrad keeps one tape per thread, so call backward() on the thread "
                "that ran the forward pass");
        end_ = tape.index_of(root->record);
        if (end_ == tape.records_.size())
            throw std::logic_error("backward: the record that produced this tensor is no longer "
                                   "on the tape (Tape::clear()); run the forward pass again");
    }
    lowest_ = end_ + 1;
}

std::vector<std::shared_ptr<Node>> Sweep::run(Array dy) {
    id_ = ++tape_.sweeps_;
    tape_.sweeping_ = true;
    active_sweep = create_ ? nullptr : this;
    try {
        if (create_) add_tensor(root_, Tensor(std::move(dy)));
        else add(root_, std::move(dy));
        tell([this](SweepListener& l) { l.started(*this); });
        run_records();
        tell([this](SweepListener& l) { l.finished(*this); });
        hand_over();
    } catch (...) {
        roll_back();
        throw;
    }
    active_sweep = nullptr;
    tape_.sweeping_ = false;
    tell([this](SweepListener& l) { l.ended(*this); });
    drop_released();
    return std::move(result_);
}

// The loop. From the root's record down, each record a gradient reached runs once its output's
// gradient is complete (every later record that used it has run), until none is waiting:
// records of other graphs are not touched.
void Sweep::run_records() {
    for (std::size_t i = end_ + 1; waiting_ > 0 && i > 0;) {
        --i;
        const Node* out = tape_.records_[i].output.get();
        if (!out || out->sweep != id_) continue;  // not reached: another graph's record
        lowest_ = i;
        --waiting_;
        tell([&](SweepListener& l) { l.before_record(*this, i, tape_.records_[i]); });
        if (create_) run_tensor_record(i);  // records its backward, appending to the tape
        else run_record(tape_.records_[i]);
        tell([&](SweepListener& l) { l.after_record(*this, i, tape_.records_[i]); });
        if (!keep_graph_) {  // let go as soon as used: it may hold large saved arrays
            tape_.release(tape_.records_[i]);
            ++released_;
        }
    }
}

// One record: dy, the complete gradient of its output, becomes a dx for each input.
void Sweep::run_record(Record& r) {
    check_inputs_alive(r);
    Node& out = *r.output;
    Array& dy = *out.arriving;
    if (out.has_hooks()) run_hooks(out, dy);
    if (!into_grad()) capture(out, make_node(Array(dy), false));
    try {
        r.backward(dy, out.value);  // adds each dx to its input through accumulate_grad
    } catch (const std::exception& e) {
        rethrow_naming(r.op, e);
    }
    // Passed on: freed, unless the output keeps it (handed over at the end) or is about to be
    // freed with its record anyway.
    const bool keeps = out.retains_grad || keep_all_;
    if (!keeps && (keep_graph_ || r.output.use_count() > 1)) out.arriving.reset();
}

// One record of a create_graph sweep: its tensor backward runs as ordinary, recorded ops. Those
// ops append records to the tape, which may move its records: what the record holds is copied
// out before its closure runs.
void Sweep::run_tensor_record(std::size_t i) {
    Record& r = tape_.records_[i];
    check_inputs_alive(r);
    const char* op = r.op;
    if (!r.backward.has_tensor_backward())
        throw std::logic_error(std::string("backward: ") + op +
                               " cannot be differentiated twice yet: create_graph is not "
                               "supported through it (its backward is not written as tensor "
                               "ops)");
    const std::shared_ptr<Node> out = r.output;
    std::vector<Tensor> inputs;
    for (std::size_t k = 0; k < r.inputs.size(); ++k) inputs.emplace_back(r.inputs[k]);
    std::shared_ptr<Node> g = std::move(out->more().arriving_tensor);
    if (out->has_hooks()) run_hooks(*out, g);
    if (!into_grad()) capture(*out, g);
    if (into_grad() && out->retains_grad) keep_grad(*out, Array(g->value));
    // The closure is moved out while it runs (its ops may move the records), then put back.
    detail::BackwardFn backward = std::move(r.backward);
    std::vector<Tensor> dx;
    try {
        dx = backward.tensor_backward(inputs, Tensor(out), Tensor(g));
    } catch (const std::exception& e) {
        tape_.records_[i].backward = std::move(backward);
        rethrow_naming(op, e);
    }
    tape_.records_[i].backward = std::move(backward);
    for (std::size_t k = 0; k < inputs.size() && k < dx.size(); ++k)
        if (dx[k].defined() && inputs[k].requires_grad()) add_tensor(inputs[k].node(), dx[k]);
}

void Sweep::check_inputs_alive(const Record& r) const {
    for (std::size_t k = 0; k < r.inputs.size(); ++k)
        if (r.inputs[k]->record == Node::released && r.inputs[k]->requires_grad)
            throw std::logic_error(
                std::string("backward: ") + r.op +
                " uses a value whose graph was already released by an earlier backward(); run "
                "the forward pass again, or pass GradOptions{true} (retain_graph) to the first "
                "backward to keep it");
}

// Marks `node` as reached by this sweep the first time a gradient arrives at it.
void Sweep::reach(const std::shared_ptr<Node>& node) {
    Node& n = *node;
    if (n.sweep == id_) return;
    n.sweep = id_;
    n.arriving.reset();
    if (n.is_leaf() || n.retains_grad || keep_all_) keepers_.push_back(node);
    if (!n.is_leaf() && n.record != Node::released) ++waiting_;
}

void Sweep::add(const std::shared_ptr<Node>& node, Array&& dx) {
    reach(node);
    if (node->arriving) add_into(*node->arriving, dx);
    else node->arriving.emplace(std::move(dx));
}

// With create_graph: the gradient arriving at `node` is a recorded tensor; several add up
// through a recorded add.
void Sweep::add_tensor(const std::shared_ptr<Node>& node, const Tensor& dx) {
    reach(node);
    if (dx.value().shape() != node->value.shape())
        throw std::logic_error("accumulate_grad: gradient of shape " + shape_str(dx.shape()) +
                               " for a tensor of shape " + shape_str(node->value.shape()) +
                               " (an op's tensor backward forgot to sum it back to its input)");
    std::shared_ptr<Node>& sum = node->more().arriving_tensor;
    sum = sum ? add_gradients(Tensor(sum), dx).node() : dx.node();
}

const Array* Sweep::arriving(const Node& node) const {
    return node.sweep == id_ && node.arriving ? &*node.arriving : nullptr;
}

Array& Sweep::arriving_or_zeros(const std::shared_ptr<Node>& node) {
    reach(node);
    if (!node->arriving) node->arriving.emplace(xt::zeros<float>(node->value.shape()));
    return *node->arriving;
}

// grad(): the complete gradient of a node it asked for.
void Sweep::capture(const Node& node, const std::shared_ptr<Node>& g) {
    for (std::size_t k = 0; k < captured_.size(); ++k)
        if (captured_[k] == &node)
            result_[k] = result_[k] ? add_gradients(Tensor(result_[k]), Tensor(g)).node() : g;
}

// The sweep succeeded: the leaves' gradients, and those of outputs that keep theirs, go to
// grad() (or to grad()'s result).
void Sweep::hand_over() {
    for (const std::shared_ptr<Node>& node : keepers_) {
        if (create_) {
            std::shared_ptr<Node> g = node->extras ? std::move(node->extras->arriving_tensor)
                                                   : nullptr;
            if (!node->is_leaf() || !g) continue;  // an output's was handled when its record ran
            if (node->has_hooks()) run_hooks(*node, g);
            if (into_grad()) keep_grad(*node, Array(g->value));
            else capture(*node, g);
            continue;
        }
        if (!node->arriving) continue;
        Array dy = std::move(*node->arriving);
        node->arriving.reset();
        if (node->is_leaf() && node->has_hooks()) run_hooks(*node, dy);
        if (into_grad()) keep_grad(*node, std::move(dy));
        else if (node->is_leaf()) capture(*node, make_node(std::move(dy), false));
    }
}

// The sweep threw. The tape stays consistent: records not yet run keep their place and closure,
// no gradient is left half-summed, and no grad() has changed.
void Sweep::roll_back() {
    tell([this](SweepListener& l) { l.failed(*this); });
    for (Record& r : tape_.records_)
        if (r.output && r.output->sweep == id_) {
            r.output->arriving.reset();
            if (r.output->extras) r.output->extras->arriving_tensor.reset();
        }
    for (const std::shared_ptr<Node>& node : keepers_) {
        node->arriving.reset();
        if (node->extras) node->extras->arriving_tensor.reset();
    }
    active_sweep = nullptr;
    tape_.sweeping_ = false;
    if (released_)
        tape_.records_.erase(std::remove_if(tape_.records_.begin(), tape_.records_.end(),
                                            [](const Record& r) { return !r.output; }),
                             tape_.records_.end());
    tell([this](SweepListener& l) { l.ended(*this); });
}

// Erases the records the sweep released. Only those of the swept range can have been; often
// all of them were.
void Sweep::drop_released() {
    if (!released_) return;
    auto& records = tape_.records_;
    const auto first = records.begin() + static_cast<std::ptrdiff_t>(lowest_);
    const auto last = records.begin() + static_cast<std::ptrdiff_t>(end_ + 1);
    if (released_ == end_ + 1 - lowest_) records.erase(first, last);
    else records.erase(std::remove_if(first, last, [](const Record& r) { return !r.output; }),
                       last);
    // The next prune waits until the tape is twice as long as this graph was (a program that
    // builds graphs of this size and calls backward() on them never pays for a pruning pass),
    // and twice what the last prune kept (so that pruning stays rare when other graphs are kept
    // alive).
    tape_.prune_at_ = std::max<std::size_t>({4096, 2 * released_, 2 * tape_.live_after_prune_});
}

template <class F>
void Sweep::tell(F&& f) {
    for (SweepListener* listener : tape_.listeners_) f(*listener);
}

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
    if (active_sweep) return active_sweep->add(node_, std::move(dx));
    if (node.grad) add_into(*node.grad, dx);
    else node.grad.emplace(std::move(dx));
}

}  // namespace tapegrad
