// A per-thread list of freed memory blocks, all of one size, cut from slabs: what the node cache
// (node_cache.hpp), the gradient slots (grad_slot.hpp) and the small-array cache
// (small_blocks.cpp) are made of.
//
// A block freed on a thread joins that thread's list, whichever thread took it; the next take()
// on that thread reuses it. When a thread's list is empty, take() refills it with a slab's worth
// of blocks: from the process's pool if other threads gave blocks back there, otherwise from a
// new slab (one operator new for ~16 KB of blocks, instead of one per block). A list keeps at
// most `max_cached` blocks; past that, half of them go to the pool, as does the whole list when
// its thread ends. Slabs are never freed: the memory of the largest graph a process held stays
// reserved for the next, and a Tensor destroyed after its thread's list closed (a static one)
// still has a pool to give its block to. Under AddressSanitizer the lists are off and every
// block is its own operator new, so that a use of a freed block is still caught. `Tag` names
// the list; its user gives the block size.
#pragma once

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <new>
#include <utility>

namespace tapegrad::detail {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool free_lists_on = false;
#else
inline constexpr bool free_lists_on = true;
#endif

template <class Tag, std::size_t max_cached>
class FreeList {
  public:
    // A block of `bytes` (the same for every call with this Tag), aligned to 16 bytes, as
    // operator new's (blocks of a multiple of 64 bytes, to 64).
    static void* take(std::size_t bytes) {
        List& list = list_;
        if (free_lists_on && list.head) {
            Block* block = list.head;
            list.head = block->next;
            --list.count;
            block->~Block();
            return block;
        }
        return take_slow(bytes);
    }
    static void give(void* block) {
        List& list = list_;
        if (free_lists_on && list.count < list.limit) {
            list.head = ::new (block) Block{list.head};
            ++list.count;
            return;
        }
        give_slow(block);
    }
    // How many blocks wait in the calling thread's list.
    static std::size_t cached() { return list_.count; }
    // How many slabs the process has cut for this Tag.
    static std::size_t slabs() {
        Pool& p = pool();
        std::lock_guard<std::mutex> lock(p.mutex);
        return p.slabs;
    }

  private:
    struct Block {
        Block* next;
    };
    // Plain data, so that reaching a thread's list costs no check of whether it was made yet.
    // `limit` is 0 until the thread's first slow take() or give() opens the list, and again once
    // it is closed.
    struct List {
        Block* head;
        std::size_t count;
        std::size_t limit;
    };
    // Blocks that threads gave back (at their end, or when their list was full), and the count
    // of slabs cut. Made once and never destroyed, so that it outlives every thread's list.
    struct Pool {
        std::mutex mutex;
        Block* head = nullptr;
        std::size_t slabs = 0;
    };
    static Pool& pool() {
        static Pool* const p = new Pool;
        return *p;
    }
    static std::size_t per_slab(std::size_t bytes) { return std::max<std::size_t>(16, 16384 / bytes); }
    static constexpr std::align_val_t alignment{64};

    // Moves a chain (head .. tail, linked by next) to the pool.
    static void to_pool(Block* head, Block* tail) {
        Pool& p = pool();
        std::lock_guard<std::mutex> lock(p.mutex);
        tail->next = p.head;
        p.head = head;
    }
    // Up to `want` blocks (at most a slab's) as a chain: from the pool's list, or else cut from
    // a new slab, whose other blocks go to the pool.
    static Block* fetch(std::size_t bytes, std::size_t want, std::size_t& got) {
        Pool& p = pool();
        {
            std::lock_guard<std::mutex> lock(p.mutex);
            if (p.head) {
                Block* tail = p.head;
                for (got = 1; got < want && tail->next; ++got) tail = tail->next;
                Block* head = std::exchange(p.head, tail->next);
                tail->next = nullptr;
                return head;
            }
            ++p.slabs;
        }
        const std::size_t n = per_slab(bytes), stride = (bytes + 15) / 16 * 16;
        char* slab = static_cast<char*>(::operator new(stride * n, alignment));
        auto block = [&](std::size_t i) { return reinterpret_cast<Block*>(slab + i * stride); };
        for (std::size_t i = 0; i < n; ++i) ::new (block(i)) Block{i + 1 < n ? block(i + 1) : nullptr};
        got = want;
        if (want < n) {
            block(want - 1)->next = nullptr;
            to_pool(block(want), block(n - 1));
        }
        return block(0);
    }

    // Made by the thread's first slow take() or give(); at the thread's end it closes the list
    // and moves its blocks to the pool.
    struct Closer {
        Closer() { list_.limit = max_cached; }
        ~Closer() {
            List& list = list_;
            list.limit = 0;
            if (list.head) {
                Block* tail = list.head;
                while (tail->next) tail = tail->next;
                to_pool(list.head, tail);
            }
            list.head = nullptr;
            list.count = 0;
        }
    };
    static void open() {
        if (list_.limit == 0 && !opened_) {
            static thread_local Closer closer;  // sets the limit
            opened_ = true;                     // from here on, a limit of 0 means closed
        }
    }

    // take() on an empty list: refill it (or, once the list is closed, take one block alone).
    [[gnu::noinline]] static void* take_slow(std::size_t bytes) {
        if (!free_lists_on) return ::operator new(bytes);
        open();
        List& list = list_;
        std::size_t got = 0;
        Block* head = fetch(bytes, std::min(per_slab(bytes), list.limit + 1), got);
        list.head = head->next;
        list.count = got - 1;
        head->~Block();
        return head;
    }
    // give() when the list takes no more: not opened yet, full, or closed.
    [[gnu::noinline]] static void give_slow(void* block) {
        if (!free_lists_on) return ::operator delete(block);
        open();
        List& list = list_;
        if (list.count < list.limit) return give(block);
        Block* given = ::new (block) Block{nullptr};
        if (list.limit == 0) return to_pool(given, given);  // closed
        // Full: the given block and the half of the list behind its first half go to the pool.
        Block* keep_tail = list.head;
        for (std::size_t i = 1; i < list.count / 2; ++i) keep_tail = keep_tail->next;
        given->next = keep_tail->next;
        Block* tail = given;
        while (tail->next) tail = tail->next;
        keep_tail->next = nullptr;
        list.count /= 2;
        to_pool(given, tail);
    }
    static thread_local List list_;
    static thread_local bool opened_;  // by open(); closed again once limit is 0
};

template <class Tag, std::size_t max_cached>
thread_local typename FreeList<Tag, max_cached>::List FreeList<Tag, max_cached>::list_{};
template <class Tag, std::size_t max_cached>
thread_local bool FreeList<Tag, max_cached>::opened_ = false;

}  // namespace tapegrad::detail
