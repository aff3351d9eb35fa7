// The closure type of a tape record (core/tape.hpp), kept out of the way of the tape's story.
//
// BackwardFn works like std::function<void(const Array& dy, const Array& y)>, with one difference
// that matters for speed: captures of up to 48 bytes (three Tensor handles) are stored inside it,
// where std::function allocates for anything beyond 16 bytes. Larger closures, and closures whose
// move may throw, go to the heap. It is move-only. Tested in tests/test_runtime.cpp.
//
// It may also hold the op's tensor backward (core/tape.hpp, for create_graph), built with it
// from a second closure: std::vector<Tensor>(inputs, y, dy). Holding both in one object costs the
// plain path nothing but the captures of the second closure (usually none).
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "tensor.hpp"

namespace tapegrad::detail {

class BackwardFn {
  public:
    BackwardFn() = default;
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, BackwardFn>>>
    BackwardFn(F&& f) {  // NOLINT: converting, as std::function
        using Fn = std::decay_t<F>;
        if constexpr (stored_inline<Fn>()) {
            new (&storage_) Fn(std::forward<F>(f));
            ops_ = &inline_ops<Fn>;
        } else {
            *reinterpret_cast<Fn**>(&storage_) = new Fn(std::forward<F>(f));
            ops_ = &heap_ops<Fn>;
        }
    }
    // With a tensor backward too.
    template <class F, class G>
    BackwardFn(F&& backward, G&& tensor_backward)
        : BackwardFn(Both<std::decay_t<F>, std::decay_t<G>>{std::forward<F>(backward),
                                                            std::forward<G>(tensor_backward)}) {}
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

    bool has_tensor_backward() const { return ops_ && ops_->call_tensor; }
    std::vector<Tensor> tensor_backward(const std::vector<Tensor>& inputs, const Tensor& y,
                                        const Tensor& dy) const {
        return ops_->call_tensor(&storage_, inputs, y, dy);
    }

    // Whether a closure of type Fn lives inside the BackwardFn (true) or on the heap.
    template <class Fn>
    static constexpr bool stored_inline() {
        return sizeof(Fn) <= sizeof(Storage) && alignof(Fn) <= alignof(Storage) &&
               std::is_nothrow_move_constructible_v<Fn>;
    }

  private:
    using Storage = std::aligned_storage_t<48, alignof(std::max_align_t)>;
    using TensorCall = std::vector<Tensor> (*)(const void* self, const std::vector<Tensor>& inputs,
                                               const Tensor& y, const Tensor& dy);
    struct Ops {
        void (*call)(const void* self, const Array& dy, const Array& y);
        void (*move)(void* from, void* to);  // and destroys `from`
        void (*destroy)(void* self);
        TensorCall call_tensor;  // null: no tensor backward
    };

    // A closure and its tensor backward, side by side.
    template <class F, class G>
    struct Both {
        F backward;
        G tensor;
        void operator()(const Array& dy, const Array& y) const { backward(dy, y); }
    };
    template <class Fn>
    struct TensorOf {
        static constexpr TensorCall inline_call = nullptr, heap_call = nullptr;
    };
    template <class F, class G>
    struct TensorOf<Both<F, G>> {
        static std::vector<Tensor> inline_call(const void* self, const std::vector<Tensor>& in,
                                               const Tensor& y, const Tensor& dy) {
            return static_cast<const Both<F, G>*>(self)->tensor(in, y, dy);
        }
        static std::vector<Tensor> heap_call(const void* self, const std::vector<Tensor>& in,
                                             const Tensor& y, const Tensor& dy) {
            return (*static_cast<Both<F, G>* const*>(self))->tensor(in, y, dy);
        }
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
        [](void* self) { static_cast<Fn*>(self)->~Fn(); }, TensorOf<Fn>::inline_call};
    template <class Fn>
    static constexpr Ops heap_ops{
        [](const void* self, const Array& dy, const Array& y) {
            (**static_cast<Fn* const*>(self))(dy, y);
        },
        [](void* from, void* to) { *static_cast<Fn**>(to) = *static_cast<Fn**>(from); },
        [](void* self) { delete *static_cast<Fn**>(self); }, TensorOf<Fn>::heap_call};

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

}  // namespace tapegrad::detail
