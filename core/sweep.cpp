#include "sweep.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>

#include "../backend/fast_paths.hpp"
#include "../backend/parallel.hpp"
#include "tape.hpp"

namespace tapegrad {

namespace {
std::atomic<bool>& fast_derivatives_on() {
    static std::atomic<bool> on{fast_path_starts_on("derivatives")};
    return on;
}
}  // namespace

void use_fast_derivatives(bool on) { fast_derivatives_on() = on; }
bool fast_derivatives() { return fast_derivatives_on(); }

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

void run_hooks(Node& node, Tensor& dy) {
    std::shared_ptr<Node> g = dy.node();
    run_hooks(node, g);
    dy = Tensor(std::move(g));
}

// a + b of two gradients of the same shape, recorded (and differentiable again): how a
// create_graph sweep sums the gradients arriving at one tensor.
Tensor add_gradients(const Tensor& a, const Tensor& b) {
    return record("add", {a, b}, a.value() + b.value(),
                  [](const Inputs&, const Tensor&, const Tensor& dy) { return Grads{dy, dy}; });
}

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

// An error from a record's backward, naming its op unless the message does already.
[[noreturn]] void rethrow_naming(const char* op, const std::exception& e) {
    const std::string what = e.what();
    if (what.rfind(op, 0) == 0 || what.rfind("backward", 0) == 0) throw;
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
        add(root_, Tensor(std::move(dy)));
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
        run_record(i);  // dy -> dx for each input (with create_graph, recorded on the tape)
        tell([&](SweepListener& l) { l.after_record(*this, i, tape_.records_[i]); });
        if (!keep_graph_) {  // let go as soon as used: it may hold large saved arrays
            tape_.release(tape_.records_[i]);
            ++released_;
        }
    }
}

// One record: dy, the complete gradient of its output, becomes a dx for each input. The record
// stays where it is while a create_graph sweep appends the records of its derivative.
void Sweep::run_record(std::size_t i) {
    const Record& r = tape_.records_[i];
    check_inputs_alive(r);
    Node& out = *r.output;
    Tensor dy(std::move(out.arriving));
    if (out.has_hooks()) run_hooks(out, dy);
    if (!into_grad()) capture(out, dy.node());
    if (keeps(out)) out.arriving = dy.node();  // for grad(), at the end
    const Grads dx = derive(r, Tensor(r.output), dy);
    for (std::size_t k = 0; k < dx.size() && k < r.inputs.size(); ++k)
        if (dx[k].defined() && r.inputs[k].requires_grad()) add(r.inputs[k].node(), dx[k]);
}

// The record's derivative: with recording off (its fast path, if it has one), or recorded for
// create_graph.
Grads Sweep::derive(const Record& r, const Tensor& y, const Tensor& dy) {
    try {
        if (create_) return r.derivative(r.inputs, y, dy);
        NoGrad off;
        return r.derivative.has_fast() && fast_derivatives() ? r.derivative.fast(r.inputs, y, dy)
                                                             : r.derivative(r.inputs, y, dy);
    } catch (const std::exception& e) {
        rethrow_naming(r.op, e);
    }
}

namespace {
[[noreturn, gnu::cold, gnu::noinline]] void throw_released(const char* op) {
    throw std::logic_error(
        std::string("backward: ") + op +
        " uses a value whose graph was already released by an earlier backward(); run the "
        "forward pass again, or pass GradOptions{true} (retain_graph) to the first backward to "
        "keep it");
}
}  // namespace

void Sweep::check_inputs_alive(const Record& r) const {
    for (std::size_t k = 0; k < r.inputs.size(); ++k) {
        const Node& in = *r.inputs[k].node();
        if (in.record == Node::released && in.requires_grad) throw_released(r.op);
    }
}

// Marks `node` as reached by this sweep the first time a gradient arrives at it.
void Sweep::reach(const std::shared_ptr<Node>& node) {
    Node& n = *node;
    if (n.sweep == id_) return;
    n.sweep = id_;
    n.arriving.reset();
    if (n.is_leaf() || keeps(n)) keepers_.push_back(node);
    if (!n.is_leaf() && n.record != Node::released) ++waiting_;
}

// dx joins what arrives at `node`. First order: the first dx is taken as it is; a later one is
// added in place when the sum is this sweep's alone, else into a new array (a derivative may
// hand the same tensor to several inputs). create_graph: a recorded add, differentiable again.
void Sweep::add(const std::shared_ptr<Node>& node, const Tensor& dx) {
    reach(node);
    if (!same_shape(dx.value(), node->value)) throw_gradient_shape(dx.value(), *node);
    std::shared_ptr<Node>& sum = node->arriving;
    if (!sum) {
        sum = dx.node();
    } else if (create_) {
        sum = add_gradients(Tensor(sum), dx).node();
    } else if (sum.use_count() == 1) {
        add_into(sum->value, dx.value());
    } else {
        Array total = sum->value;
        add_into(total, dx.value());
        sum = make_node(std::move(total), false);
    }
}

const Array* Sweep::arriving(const Node& node) const {
    return node.sweep == id_ && node.arriving ? &node.arriving->value : nullptr;
}

Array& Sweep::arriving_or_zeros(const std::shared_ptr<Node>& node) {
    reach(node);
    std::shared_ptr<Node>& sum = node->arriving;
    if (!sum) sum = make_node(xt::zeros<float>(node->value.shape()), false);
    else if (sum.use_count() > 1) sum = make_node(Array(sum->value), false);  // ours to change
    return sum->value;
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
        if (!node->arriving) continue;
        std::shared_ptr<Node> g = std::move(node->arriving);
        if (node->is_leaf() && node->has_hooks()) run_hooks(*node, g);
        if (into_grad()) keep_grad(*node, g.use_count() == 1 ? std::move(g->value) : Array(g->value));
        else if (node->is_leaf()) capture(*node, g);
    }
}

// The sweep threw. The tape stays consistent: records not yet run keep their place and closure,
// no gradient is left half-summed, and no grad() has changed.
void Sweep::roll_back() {
    tell([this](SweepListener& l) { l.failed(*this); });
    for (std::size_t i = 0; i < tape_.records_.size(); ++i) {
        const Record& r = tape_.records_[i];
        if (r.output && r.output->sweep == id_) r.output->arriving.reset();
    }
    for (const std::shared_ptr<Node>& node : keepers_) node->arriving.reset();
    active_sweep = nullptr;
    tape_.sweeping_ = false;
    if (released_)
        tape_.records_.erase_if(0, tape_.records_.size(), [](const Record& r) { return !r.output; });
    tell([this](SweepListener& l) { l.ended(*this); });
}

// Erases the records the sweep released. Only those of the swept range can have been; often
// all of them were.
void Sweep::drop_released() {
    if (!released_) return;
    if (released_ == end_ + 1 - lowest_ && end_ + 1 == tape_.records_.size())
        tape_.records_.erase_from(lowest_);  // the usual case: the graph was the tape's end
    else
        tape_.records_.erase_if(lowest_, end_ + 1, [](const Record& r) { return !r.output; });
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


// Here rather than in tensor.cpp: every gradient of a sweep arrives through it.
[[gnu::flatten]] void Tensor::accumulate_grad(Array dx) const {
    Node& node = checked();
    if (!node.requires_grad) return;
    if (!same_shape(dx, node.value)) throw_gradient_shape(dx, node);
    // While a backward() runs, into the gradient it is summing for this tensor; else into grad().
    if (active_sweep) return active_sweep->add(node_, Tensor(std::move(dx)));
    if (node.grad) add_into(*node.grad, dx);
    else node.grad.emplace(std::move(dx));
}

}  // namespace tapegrad
