// Where a node (core/tensor.hpp) keeps its gradient: an array made on first use, outside the
// node, with the interface of std::optional.
//
// Most nodes are op outputs, whose gradient exists only for a moment of backward(): the sum that
// arrives at them, passed on when their record runs. An array kept inside every node made each
// node twice its size, and a chain of 100,000 scalar ops keeps 100,000 nodes. The arrays come
// from a per-thread list of freed blocks (free_list.hpp), as nodes do. Tested in
// tests/test_runtime.cpp.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

#include "free_list.hpp"

namespace tapegrad::detail {

template <class A>
class GradSlot {
  public:
    GradSlot() = default;
    GradSlot(GradSlot&& other) noexcept : array_(std::exchange(other.array_, nullptr)) {}
    GradSlot& operator=(GradSlot&& other) noexcept {
        if (this != &other) {
            reset();
            array_ = std::exchange(other.array_, nullptr);
        }
        return *this;
    }
    GradSlot(const GradSlot&) = delete;
    GradSlot& operator=(const GradSlot&) = delete;
    ~GradSlot() { reset(); }

    bool has_value() const { return array_ != nullptr; }
    explicit operator bool() const { return array_ != nullptr; }
    A& operator*() const { return *array_; }
    A* operator->() const { return array_; }

    // Makes the array from `value` (an array or an xtensor expression), replacing any.
    template <class V>
    A& emplace(V&& value) {
        reset();
        void* block = Blocks::take(sizeof(A));
        try {
            array_ = ::new (block) A(std::forward<V>(value));
        } catch (...) {
            Blocks::give(block);
            throw;
        }
        return *array_;
    }
    void reset() {
        if (!array_) return;
        array_->~A();
        Blocks::give(array_);
        array_ = nullptr;
    }

  private:
    struct Tag;  // the list's name
    using Blocks = FreeList<Tag, std::size_t{1} << 16>;
    A* array_ = nullptr;
};

}  // namespace tapegrad::detail
