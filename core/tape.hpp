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
// After the sweep the records are released, so the memory of one training step does not carry
// into the next. Records nobody can reach any more (their output is no longer held by a user or
// by a later record) are pruned as the tape grows, so forward passes without backward() do not
// leak. NoGrad switches recording off, for evaluation and parameter updates.
//
// To look at a computation after backward() has released it, start a TapeRecorder
// (core/trace.hpp) before the forward pass: backward() then copies a short summary of each record
// into it, and print_tape() shows the gradients too. core/graph.hpp draws the records as a graph.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <utility>
#include <vector>

#include "tensor.hpp"

namespace tapegrad {

class TapeRecorder;  // core/trace.hpp

// A record's closure: receives dy (the gradient of the output) and y (the output's value, so an op
// such as sigmoid can reuse it without keeping a copy) and adds dx to each input that needs one.
//
// It works like std::function<void(const Array& dy, const Array& y)>, with one difference that
// matters for speed: captures of up to 48 bytes (three Tensor handles) are stored inside it, where
// std::function allocates for anything beyond 16 bytes. Larger closures go to the heap.
class BackwardFn {
  public:
    BackwardFn() = default;
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, BackwardFn>>>
    BackwardFn(F&& f) {  // NOLINT: converting, as std::function
        using Fn = std::decay_t<F>;
        if constexpr (sizeof(Fn) <= sizeof(storage_) && alignof(Fn) <= alignof(Storage) &&
                      std::is_nothrow_move_constructible_v<Fn>) {
            new (&storage_) Fn(std::forward<F>(f));
            ops_ = &inline_ops<Fn>;
        } else {
            *reinterpret_cast<Fn**>(&storage_) = new Fn(std::forward<F>(f));
            ops_ = &heap_ops<Fn>;
        }
    }
    BackwardFn(BackwardFn&& other) noexcept { take(other); }
    BackwardFn& operator=(BackwardFn&& other) noexcept {
        if (this != &other) {
            reset();
            take(other);
        }
        return *this;
    }
    BackwardFn& operator=(std::nullptr_t) noexcept {
        reset();
        return *this;
    }
    ~BackwardFn() { reset(); }

    void operator()(const Array& dy, const Array& y) const { ops_->call(&storage_, dy, y); }
    explicit operator bool() const { return ops_ != nullptr; }

  private:
    using Storage = std::aligned_storage_t<48, alignof(std::max_align_t)>;
    struct Ops {
        void (*call)(const void* self, const Array& dy, const Array& y);
        void (*move)(void* from, void* to);  // and destroys `from`
        void (*destroy)(void* self);
    };
    template <class Fn>
    static constexpr Ops inline_ops{
        [](const void* self, const Array& dy, const Array& y) {
            (*static_cast<const Fn*>(self))(dy, y);
        },
        [](void* from, void* to) {
            new (to) Fn(std::move(*static_cast<Fn*>(from)));
            static_cast<Fn*>(from)->~Fn();
        },
        [](void* self) { static_cast<Fn*>(self)->~Fn(); }};
    template <class Fn>
    static constexpr Ops heap_ops{
        [](const void* self, const Array& dy, const Array& y) {
            (**static_cast<Fn* const*>(self))(dy, y);
        },
        [](void* from, void* to) { *static_cast<Fn**>(to) = *static_cast<Fn**>(from); },
        [](void* self) { delete *static_cast<Fn**>(self); }};

    void take(BackwardFn& other) noexcept {
        if (other.ops_) {
            other.ops_->move(&other.storage_, &storage_);
            ops_ = other.ops_;
            other.ops_ = nullptr;
        }
    }
    void reset() noexcept {
        if (ops_) ops_->destroy(&storage_);
        ops_ = nullptr;
    }

    mutable Storage storage_;
    const Ops* ops_ = nullptr;
};

// A record's inputs, kept for printing and for checks. Most ops have one to three inputs, so the
// first four live inside the record: a heap allocation per op would cost more than a scalar op.
class Inputs {
  public:
    void push_back(std::shared_ptr<Node> node) {
        if (size_ < inline_.size()) inline_[size_] = std::move(node);
        else more_.push_back(std::move(node));
        ++size_;
    }
    std::size_t size() const { return size_; }
    const std::shared_ptr<Node>& operator[](std::size_t i) const {
        return i < inline_.size() ? inline_[i] : more_[i - inline_.size()];
    }
    void clear() {
        for (auto& node : inline_) node.reset();
        more_.clear();
        size_ = 0;
    }

  private:
    std::array<std::shared_ptr<Node>, 4> inline_;
    std::vector<std::shared_ptr<Node>> more_;
    std::size_t size_ = 0;
};

struct Record {
    const char* op;          // "matmul", "sigmoid", ...
    std::uint64_t seq;       // position in the thread's history
    Inputs inputs;
    std::shared_ptr<Node> output;
    BackwardFn backward;
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

    // Appends a record; used by record() below.
    Tensor push(const char* op, std::initializer_list<Tensor> inputs, Array&& value,
                BackwardFn&& backward);

    // The reverse sweep from `output`, whose gradient has just been seeded.
    void backward_from(const Node& output);

    // The recorder backward_from() reports each record to before releasing it; null (the
    // default) means no tracing. Set by TapeRecorder's constructor and destructor.
    TapeRecorder* recorder() const { return recorder_; }
    void set_recorder(TapeRecorder* recorder) { recorder_ = recorder; }

  private:
    std::size_t index_of(std::uint64_t seq) const;
    void prune();

    std::vector<Record> records_;
    std::uint64_t next_seq_ = 1;
    std::size_t prune_at_ = 4096;
    TapeRecorder* recorder_ = nullptr;
};

// Whether ops record at all on this thread (false inside a NoGrad scope).
bool grad_enabled();

// RAII: nothing is recorded while it lives. Nests.
class NoGrad {
  public:
    NoGrad();
    ~NoGrad();
    NoGrad(const NoGrad&) = delete;
    NoGrad& operator=(const NoGrad&) = delete;
};

// True when recording is on and at least one input requires a gradient.
bool needs_record(std::initializer_list<Tensor> inputs);

// What every op returns: its value, recorded with its backward closure when a gradient is
// needed. The closure is only built in that case.
template <class F>
Tensor record(const char* op, std::initializer_list<Tensor> inputs, Array value, F&& backward) {
    if (!needs_record(inputs)) return Tensor(std::move(value));
    return Tape::current().push(op, inputs, std::move(value),
                                BackwardFn(std::forward<F>(backward)));
}

// The one helper every broadcasting op uses: sums a gradient of the broadcast shape back to
// the shape of the input that was broadcast (over leading axes it lacked and axes where it had 1).
Array unbroadcast(const Array& dy, const Shape& shape);

// Prints the calling thread's tape to stdout: the records waiting for backward() and, when a
// TapeRecorder is active, those its most recent backward() went through, with their gradients.
void print_tape();

}  // namespace tapegrad
