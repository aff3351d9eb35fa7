#include "small_blocks.hpp"

namespace tapegrad::detail {

namespace {

// As the node cache (node_cache.cpp): one list per thread, capped, given back to malloc when
// the thread ends, and off under AddressSanitizer so that a use of a freed array is still caught.
// A block freed on another thread than the one that took it joins the freeing thread's list.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool cache_blocks = false;
#else
constexpr bool cache_blocks = true;
#endif

constexpr std::size_t block_bytes = small_floats * 4;

struct SmallBlockCache {
    struct Block {
        Block* next;
    };
    static constexpr std::size_t max_cached = std::size_t{1} << 20;  // 64 MB of blocks
    Block* head = nullptr;
    std::size_t count = 0;
    ~SmallBlockCache();
};

thread_local SmallBlockCache cache;
thread_local bool cache_closed = false;  // set by ~SmallBlockCache, readable after it

SmallBlockCache::~SmallBlockCache() {
    cache_closed = true;
    while (head) {
        Block* next = head->next;
        ::operator delete(head);
        head = next;
    }
}

}  // namespace

void* take_small_block() {
    if (cache_blocks && !cache_closed && cache.head) {
        SmallBlockCache::Block* block = cache.head;
        cache.head = block->next;
        --cache.count;
        return block;
    }
    return ::operator new(block_bytes);
}

void give_small_block(void* block) {
    if (cache_blocks && !cache_closed && cache.count < SmallBlockCache::max_cached) {
        cache.head = ::new (block) SmallBlockCache::Block{cache.head};
        ++cache.count;
        return;
    }
    ::operator delete(block);
}

std::size_t cached_small_blocks() { return cache_blocks && !cache_closed ? cache.count : 0; }

}  // namespace tapegrad::detail
