// Where an Array (core/tensor.hpp) keeps its values when they are few: a per-thread cache of
// freed small blocks.
//
// A scalar op makes two arrays of one value (its output, and the gradient it sends back) and
// frees them soon after. malloc keeps only a handful of freed blocks of each size in its fast
// per-thread cache; a chain of thousands of scalar ops frees far more than that and pays for
// malloc's slow path on every one. SmallBlockAllocator takes arrays of up to `small_floats`
// values from a per-thread list of freed blocks of that size (free_list.hpp), and everything
// larger from operator new. Tested in tests/test_runtime.cpp.
#pragma once

#include <cstddef>
#include <new>

namespace tapegrad::detail {

// Blocks of this many floats (64 bytes, one cache line) serve every array of up to that many.
constexpr std::size_t small_floats = 16;

void* take_small_block();            // a block of small_floats floats
void give_small_block(void* block);  // back into the calling thread's list
std::size_t cached_small_blocks();   // how many wait in the calling thread's list

template <class T>
struct SmallBlockAllocator {
    using value_type = T;
    SmallBlockAllocator() = default;
    template <class U>
    SmallBlockAllocator(const SmallBlockAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator

    static constexpr bool small(std::size_t n) { return n * sizeof(T) <= small_floats * 4; }
    T* allocate(std::size_t n) {
        if (small(n)) return static_cast<T*>(take_small_block());
        return static_cast<T*>(::operator new(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) {
        if (small(n)) give_small_block(p);
        else ::operator delete(p);
    }
    template <class U>
    bool operator==(const SmallBlockAllocator<U>&) const { return true; }
    template <class U>
    bool operator!=(const SmallBlockAllocator<U>&) const { return false; }
};

}  // namespace tapegrad::detail
