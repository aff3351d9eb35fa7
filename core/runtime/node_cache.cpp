#include "node_cache.hpp"

#include <memory>
#include <new>
#include <utility>

#include "../tensor.hpp"
#include "free_list.hpp"

namespace tapegrad {

namespace {

// Freed node blocks (the shared_ptr control block and the Node, one allocation) wait in a
// per-thread free list (free_list.hpp) for the next make_node() on that thread. Only
// make_node's allocate_shared uses NodeAllocator, so every block has the same size.
struct NodeBlocks;  // the list's name
using Cache = detail::FreeList<NodeBlocks, std::size_t{1} << 18>;  // 128 MB of nodes

template <class T>
struct NodeAllocator {
    static_assert(sizeof(T) >= sizeof(void*), "a node block holds a list link");
    using value_type = T;
    NodeAllocator() = default;
    template <class U>
    NodeAllocator(const NodeAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator

    T* allocate(std::size_t n) {
        if (n == 1) return static_cast<T*>(Cache::take(sizeof(T)));
        return static_cast<T*>(::operator new(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) {
        if (n == 1) Cache::give(p);
        else ::operator delete(p);
    }
    template <class U>
    bool operator==(const NodeAllocator<U>&) const { return true; }
    template <class U>
    bool operator!=(const NodeAllocator<U>&) const { return false; }
};

}  // namespace

std::shared_ptr<Node> make_node(Array&& value, bool requires_grad, std::uint64_t creator) {
    return std::allocate_shared<Node>(NodeAllocator<Node>(), std::move(value), requires_grad,
                                      creator);
}


namespace detail {

std::size_t cached_node_blocks() { return Cache::cached(); }

}  // namespace detail

}  // namespace tapegrad
