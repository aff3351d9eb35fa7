// How reverse mode works here
// ===========================
//
// Every differentiable op computes its value and, if any input wants a gradient, appends one
// record to the current thread's tape: the op's name, its inputs, its output, and a closure that
// knows the op's local derivative. The tape is a plain vector, in execution order.
//
// backward() seeds the output's gradient with 1 and walks the tape once, from the end to the
// start. Execution order is already a valid order for the reverse sweep: when a record is reached,
// every later op that used its output has already added its share to that output's gradient. So
// there is no graph search and no recursion; a chain of 100,000 ops is just a loop of 100,000.
//
// A worked example with three ops, x = 2 and w = 3:
//
//     a = x * w        record #0  mul   a = 6
//     b = a + x        record #1  add   b = 8
//     c = b * b        record #2  mul   c = 64
//
// c.backward() sets dc = 1 and replays the tape in reverse. In each record the incoming gradient
// is `dy` (the gradient of c with respect to the record's output); the gradients the record sends
// to its inputs are `dx`, `dw`, `db`, and they are always *added* to what the inputs already have:
//
//     #2  mul  c = b * b    dy = 1    db += dy * b = 8,  db += dy * b = 8     -> db = 16
//     #1  add  b = a + x    dy = 16   da += 16,          dx += 16             -> dx = 16
//     #0  mul  a = x * w    dy = 16   dx += dy * w = 48, dw += dy * x = 32    -> dx = 64, dw = 32
//
// Check by hand: c = (xw + x)^2, dc/dx = 2(xw + x)(w + 1) = 64 and dc/dw = 2(xw + x) x = 32.
// Note how x collected gradient from two records (#1 and #0): that is why gradients accumulate.
//
// A sweep runs only the records whose output a gradient reached: the graph of its output.
// Records of other graphs (another loss, an evaluation pass) keep their place, so graphs
// recorded in any interleaving can each be backpropagated, in any order. The records a sweep
// ran are released, so the memory of one training step does not carry into the next;
// backward(GradOptions{true}) keeps them for another sweep. Records nobody can reach any more
// (their output is no longer held by a user or by a later record) are pruned as the tape grows,
// so forward passes without backward() do not leak. NoGrad switches recording off, for
// evaluation and parameter updates.
//
// During a sweep an op's output sums the gradient arriving at it and passes it on when its record
// runs, keeping none (unless retain_grad() asked); a leaf's gradient is summed aside and added to
// its grad() at the end. So a backward() that throws (the zero_one loss refuses by design)
// changes no grad(): the records it ran are released, the rest of its graph stays on the tape
// as it was, and every other graph is untouched. The error names the op.
//
// Each thread has its own tape: a graph is built and backpropagated on one thread, and the
// error says so when it is not.
//
// To look at a computation after backward() has released it, start a TapeRecorder
// (core/inspect/trace.hpp) before the forward pass: backward() then copies a short summary of each record
// into it, and print_tape() shows the gradients too. core/inspect/graph.hpp draws the records as a graph.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <type_traits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "../backend/chunked_vector.hpp"  // ChunkedVector: records that never move
#include "derivative.hpp"   // Derivative: the closure type, like std::function
#include "tensor.hpp"
#include "tensor_list.hpp"  // Inputs and Grads: small vectors of Tensors

namespace tapegrad {

class TapeRecorder;   // core/inspect/trace.hpp
class SweepListener;  // core/sweep.hpp

// An input of record(): the op's Tensor by reference. The inputs outlive the call, and a copy of
// each handle would cost two atomic operations on its reference count.
class InputRef {
  public:
    InputRef(const Tensor& t) : t_(&t) {}  // NOLINT: implicit, so that {a, b} reads as Tensors
    const Tensor& operator*() const { return *t_; }
    const Tensor* operator->() const { return t_; }

  private:
    const Tensor* t_;
};

// One op on the tape: its name, its inputs, its output, and its derivative. The derivative is a
// function of the inputs, the output y and the gradient dy arriving at y; it returns the gradient
// of each input, written as tensor ops:
//     Grads derivative(const Inputs& in, const Tensor& y, const Tensor& dy)
// A backward() runs it with recording off; a create_graph backward() records it, so that the
// gradients can be differentiated again. An op may also have a fast path, the same function
// written on arrays where a benchmark showed it faster (docs/performance.md): backward() runs
// that one, create_graph the tensor form.
struct Record {
    Record(const char* op_, std::uint64_t seq_, detail::Derivative&& derivative_)
        : op(op_), seq(seq_), derivative(std::move(derivative_)) {}

    const char* op;          // "matmul", "sigmoid", ...
    std::uint64_t seq;       // position in the thread's history
    Inputs inputs;
    std::shared_ptr<Node> output;
    detail::Derivative derivative;
};

class Tape {
  public:
    // The tape of the calling thread.
    static Tape& current();

    std::size_t size() const { return records_.size(); }
    const Record& operator[](std::size_t i) const { return records_[i]; }

    // One line per record: index, op and inputs, input shapes, output shape, the value of a
    // one-element output (and the gradient norms, when backward has reached it).
    void print(std::ostream& out) const;

    // Drops every record (the values users hold stay valid, their history is forgotten).
    void clear();

    // Drops the records no backward() can reach any more: those whose output nobody but the
    // tape holds. push() does this as the tape grows; once a program has dropped every handle,
    // prune() leaves the tape empty.
    void prune();

    // Appends a record; used by record() below. `inputs` points to `count` tensors (undefined
    // ones are skipped).
    Tensor push(const char* op, const InputRef* inputs, std::size_t count, Array&& value,
                detail::Derivative&& derivative);

    // Who is told what each sweep on this tape does (core/sweep.hpp), in the order added.
    void add_listener(SweepListener* listener);
    void remove_listener(SweepListener* listener);
    const std::vector<SweepListener*>& listeners() const { return listeners_; }

    // The recorder that names tensors in listings and keeps what sweeps release (null: none).
    // Set by TapeRecorder's constructor and destructor.
    TapeRecorder* recorder() const { return recorder_; }
    void set_recorder(TapeRecorder* recorder) { recorder_ = recorder; }

  private:
    friend class Sweep;  // core/sweep.hpp: one backward() over this tape's records
    std::size_t index_of(std::uint64_t seq) const;
    void release(Record& r);

    detail::ChunkedVector<Record> records_;  // appending never moves a record
    std::uint64_t next_seq_ = 1;
    std::size_t prune_at_ = 4096;
    std::size_t live_after_prune_ = 0;  // records the last prune() kept
    TapeRecorder* recorder_ = nullptr;
    std::vector<SweepListener*> listeners_;
    std::uint64_t sweeps_ = 0;  // backward() calls so far: each marks the nodes it reaches
    bool sweeping_ = false;
};

// The gradients of `output` with respect to each of `inputs`, as torch.autograd.grad: nothing is
// added to any grad(). An input the output does not depend on is an error naming its position,
// or an undefined Tensor with options.allow_unused; an input that does not require a gradient
// is an error. `output` must hold one element unless options.grad_output gives the seed.
std::vector<Tensor> grad(const Tensor& output, const std::vector<Tensor>& inputs,
                         const GradOptions& options = {});

namespace detail {
inline thread_local int no_grad_depth = 0;  // NoGrad scopes open on this thread
}  // namespace detail

// Whether ops record at all on this thread (false inside a NoGrad scope).
inline bool grad_enabled() { return detail::no_grad_depth == 0; }

// RAII: nothing is recorded while it lives. Nests.
class NoGrad {
  public:
    NoGrad() { ++detail::no_grad_depth; }
    ~NoGrad() { --detail::no_grad_depth; }
    NoGrad(const NoGrad&) = delete;
    NoGrad& operator=(const NoGrad&) = delete;
};

// True when recording is on and at least one of the `count` inputs requires a gradient.
inline bool needs_record(const InputRef* inputs, std::size_t count) {
    if (detail::no_grad_depth != 0) return false;
    for (std::size_t i = 0; i < count; ++i)
        if (inputs[i]->defined() && inputs[i]->requires_grad()) return true;
    return false;
}

// An op's fast path: its derivative written on arrays (see Record). record() takes it as
// fast_path(closure), after the derivative.
template <class F>
struct FastPath {
    F f;
};
template <class F>
FastPath<std::decay_t<F>> fast_path(F&& f) {
    return {std::forward<F>(f)};
}

// The value argument of record(): an Array the op just computed, taken over without a copy, or
// anything else an Array can be made from (an lvalue, an xtensor expression), made into one.
class OpValue {
  public:
    OpValue(Array&& value) : value_(&value) {}  // NOLINT: implicit, as the Array it stands for
    template <class E>
    OpValue(E&& value) : made_(std::forward<E>(value)), value_(&*made_) {}  // NOLINT: the same
    OpValue(const OpValue&) = delete;
    OpValue& operator=(const OpValue&) = delete;
    Array&& take() { return std::move(*value_); }

  private:
    std::optional<Array> made_;
    Array* value_;
};

// What every op returns: its value, recorded with its derivative (and fast path) when a gradient
// is needed. The closures are only built in that case.
template <class D>
Tensor record(const char* op, std::initializer_list<InputRef> inputs, OpValue value, D&& derivative) {
    if (!needs_record(inputs.begin(), inputs.size())) return Tensor(value.take());
    return Tape::current().push(op, inputs.begin(), inputs.size(), value.take(),
                                detail::Derivative(std::forward<D>(derivative)));
}

template <class D, class F>
Tensor record(const char* op, std::initializer_list<InputRef> inputs, OpValue value, D&& derivative,
              FastPath<F>&& fast) {
    if (!needs_record(inputs.begin(), inputs.size())) return Tensor(value.take());
    return Tape::current().push(op, inputs.begin(), inputs.size(), value.take(),
                                detail::Derivative(std::forward<D>(derivative), std::move(fast.f)));
}

// The same for ops with a variable number of inputs (concat, stack).
template <class D>
Tensor record(const char* op, const std::vector<Tensor>& inputs, OpValue value, D&& derivative) {
    const std::vector<InputRef> refs(inputs.begin(), inputs.end());
    if (!needs_record(refs.data(), refs.size())) return Tensor(value.take());
    return Tape::current().push(op, refs.data(), refs.size(), value.take(),
                                detail::Derivative(std::forward<D>(derivative)));
}

namespace detail {
// The sum of x over `axes` (sorted, each once), which the result drops. An empty x gives zeros
// of the result's shape: xtensor's immediate reducer offsets a null pointer on an empty array.
Array sum_axes(const Array& x, const std::vector<std::size_t>& axes);
}  // namespace detail

// The one helper every broadcasting op uses: sums a gradient of the broadcast shape back to
// the shape of the input that was broadcast (over leading axes it lacked and axes where it had 1).
Array unbroadcast(const Array& dy, const Shape& shape);

// Prints the calling thread's tape to stdout: the records waiting for backward() and, when a
// TapeRecorder is active, those its most recent backward() went through, with their gradients.
void print_tape();

}  // namespace tapegrad
