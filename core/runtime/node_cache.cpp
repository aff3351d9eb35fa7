#include "node_cache.hpp"

#include <memory>
#include <new>
#include <utility>

#include "../tensor.hpp"

namespace tapegrad {

namespace {

// Freed node blocks (the shared_ptr control block and the Node, one allocation) wait here, one
// list per thread, for the next make_node() on that thread. Only make_node's allocate_shared uses
// NodeAllocator, so every block has the same size. A node freed on another thread than the one
// that made it joins the freeing thread's list. The cache keeps at most max_cached blocks and
// gives them all back to malloc when its thread ends; frees after that (a Tape or a static
// Tensor destroyed later) go straight to malloc. Under AddressSanitizer the cache is off, so that
// a use of a freed node is still caught.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool cache_nodes = false;
#else
constexpr bool cache_nodes = true;
#endif

struct NodeCache {
    struct Block {
        Block* next;
    };
    static constexpr std::size_t max_cached = std::size_t{1} << 18;  // 128 MB of 512-byte nodes
    Block* head = nullptr;
    std::size_t count = 0;
    ~NodeCache();
};

thread_local NodeCache node_cache;
// Set by ~NodeCache. A separate, trivially destructible flag stays readable after the cache's
// destructor has run, until the thread's storage goes.
thread_local bool node_cache_closed = false;

NodeCache::~NodeCache() {
    node_cache_closed = true;
    while (head) {
        Block* next = head->next;
        ::operator delete(head);
        head = next;
    }
}

template <class T>
struct NodeAllocator {
    static_assert(sizeof(T) >= sizeof(NodeCache::Block), "a node block holds a list link");
    using value_type = T;
    NodeAllocator() = default;
    template <class U>
    NodeAllocator(const NodeAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator

    T* allocate(std::size_t n) {
        if (cache_nodes && n == 1 && !node_cache_closed && node_cache.head) {
            NodeCache& cache = node_cache;
            NodeCache::Block* block = cache.head;
            cache.head = block->next;
            --cache.count;
            block->~Block();
            return static_cast<T*>(static_cast<void*>(block));
        }
        return static_cast<T*>(::operator new(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) {
        if (cache_nodes && n == 1 && !node_cache_closed &&
            node_cache.count < NodeCache::max_cached) {
            NodeCache& cache = node_cache;
            cache.head = ::new (static_cast<void*>(p)) NodeCache::Block{cache.head};
            ++cache.count;
            return;
        }
        ::operator delete(p);
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

std::size_t cached_node_blocks() { return cache_nodes && !node_cache_closed ? node_cache.count : 0; }

}  // namespace detail

}  // namespace tapegrad
