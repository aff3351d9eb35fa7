// The closure type of a tape record (core/tape.hpp), kept out of the way of the tape's story.
//
// Derivative works like std::function<Grads(const Inputs& in, const Tensor& y, const Tensor& dy)>,
// with one difference that matters for speed: captures of up to 48 bytes are stored inside it,
// where std::function allocates for anything beyond 16 bytes. Larger closures, and closures whose
// move may throw, go to the heap. It is move-only. Tested in tests/test_runtime.cpp.
//
// It may also hold the op's fast path, built with it from a second closure of the same
// signature (core/tape.hpp, record() with fast_path()).
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "tensor_list.hpp"

namespace tapegrad::detail {

class Derivative {
  public:
    Derivative() = default;
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Derivative>>>
    Derivative(F&& f) {  // NOLINT: converting, as std::function
        using Fn = std::decay_t<F>;
        if constexpr (stored_inline<Fn>()) {
            new (&storage_) Fn(std::forward<F>(f));
            ops_ = &inline_ops<Fn>;
        } else {
            *reinterpret_cast<Fn**>(&storage_) = new Fn(std::forward<F>(f));
            ops_ = &heap_ops<Fn>;
        }
    }
    // With a fast path too.
    template <class F, class G>
    Derivative(F&& derivative, G&& fast)
        : Derivative(Both<std::decay_t<F>, std::decay_t<G>>{std::forward<F>(derivative),
                                                            std::forward<G>(fast)}) {}
    Derivative(Derivative&& other) noexcept { take(other); }
    Derivative& operator=(Derivative&& other) noexcept {
        if (this != &other) {
            reset();
            take(other);
        }
        return *this;
    }
    Derivative& operator=(std::nullptr_t) noexcept {
        reset();
        return *this;
    }
    ~Derivative() { reset(); }

    Grads operator()(const Inputs& in, const Tensor& y, const Tensor& dy) const {
        return ops_->call(&storage_, in, y, dy);
    }
    explicit operator bool() const { return ops_ != nullptr; }

    bool has_fast() const { return ops_ && ops_->call_fast; }
    Grads fast(const Inputs& in, const Tensor& y, const Tensor& dy) const {
        return ops_->call_fast(&storage_, in, y, dy);
    }

    // Whether a closure of type Fn lives inside the Derivative (true) or on the heap.
    template <class Fn>
    static constexpr bool stored_inline() {
        return sizeof(Fn) <= sizeof(Storage) && alignof(Fn) <= alignof(Storage) &&
               std::is_nothrow_move_constructible_v<Fn>;
    }

  private:
    using Storage = std::aligned_storage_t<48, alignof(std::max_align_t)>;
    using Call = Grads (*)(const void* self, const Inputs& in, const Tensor& y, const Tensor& dy);
    struct Ops {
        Call call;
        void (*move)(void* from, void* to);  // and destroys `from`
        void (*destroy)(void* self);
        Call call_fast;  // null: no fast path
    };

    // A derivative and its fast path, side by side.
    template <class F, class G>
    struct Both {
        F derivative;
        G fast;
        Grads operator()(const Inputs& in, const Tensor& y, const Tensor& dy) const {
            return derivative(in, y, dy);
        }
    };
    template <class Fn>
    struct FastOf {
        static constexpr Call inline_call = nullptr, heap_call = nullptr;
    };
    template <class F, class G>
    struct FastOf<Both<F, G>> {
        static Grads inline_call(const void* self, const Inputs& in, const Tensor& y,
                                 const Tensor& dy) {
            return static_cast<const Both<F, G>*>(self)->fast(in, y, dy);
        }
        static Grads heap_call(const void* self, const Inputs& in, const Tensor& y,
                               const Tensor& dy) {
            return (*static_cast<Both<F, G>* const*>(self))->fast(in, y, dy);
        }
    };

    template <class Fn>
    static constexpr Ops inline_ops{
        [](const void* self, const Inputs& in, const Tensor& y, const Tensor& dy) {
            return (*static_cast<const Fn*>(self))(in, y, dy);
        },
        [](void* from, void* to) {
            new (to) Fn(std::move(*static_cast<Fn*>(from)));
            static_cast<Fn*>(from)->~Fn();
        },
        [](void* self) { static_cast<Fn*>(self)->~Fn(); }, FastOf<Fn>::inline_call};
    template <class Fn>
    static constexpr Ops heap_ops{
        [](const void* self, const Inputs& in, const Tensor& y, const Tensor& dy) {
            return (**static_cast<Fn* const*>(self))(in, y, dy);
        },
        [](void* from, void* to) { *static_cast<Fn**>(to) = *static_cast<Fn**>(from); },
        [](void* self) { delete *static_cast<Fn**>(self); }, FastOf<Fn>::heap_call};

    void take(Derivative& other) noexcept {
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
