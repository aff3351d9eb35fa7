// Where make_node (core/tensor.hpp) gets its memory: a per-thread cache of freed node blocks.
//
// A chain of scalar ops makes and frees one node per op, and malloc's slow path for blocks of a
// node's size costs more than the op itself. Freed node blocks (the shared_ptr control block and
// the node, one allocation) wait in a per-thread free list (free_list.hpp) for the next node made
// on that thread. Only make_node's allocate_shared uses NodeAllocator, so every block has the
// same size. Tested in tests/test_runtime.cpp.
#pragma once

#include <cstddef>
#include <new>

#include "free_list.hpp"

namespace tapegrad::detail {

struct NodeBlocks;  // the list's name
using NodeBlockCache = FreeList<NodeBlocks, std::size_t{1} << 18>;  // 128 MB of nodes

template <class T>
struct NodeAllocator {
    static_assert(sizeof(T) >= sizeof(void*), "a node block holds a list link");
    using value_type = T;
    NodeAllocator() = default;
    template <class U>
    NodeAllocator(const NodeAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator

    T* allocate(std::size_t n) {
        if (n == 1) return static_cast<T*>(NodeBlockCache::take(sizeof(T)));
        return static_cast<T*>(::operator new(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) {
        if (n == 1) NodeBlockCache::give(p);
        else ::operator delete(p);
    }
    template <class U>
    bool operator==(const NodeAllocator<U>&) const { return true; }
    template <class U>
    bool operator!=(const NodeAllocator<U>&) const { return false; }
};

// How many freed node blocks wait in the calling thread's cache (0 when the cache is off, as
// under AddressSanitizer).
inline std::size_t cached_node_blocks() { return NodeBlockCache::cached(); }

}  // namespace tapegrad::detail
