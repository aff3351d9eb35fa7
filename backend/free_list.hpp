// A per-thread list of freed memory blocks, all of one size: what the node cache
// (node_cache.cpp) and the small-array cache (small_blocks.cpp) are made of.
//
// A block freed on a thread joins that thread's list, whichever thread took it; the next take()
// on that thread reuses it. A list keeps at most `max_cached` blocks and gives them all back to
// operator delete when its thread ends; frees after that (a static Tensor destroyed late) go
// straight to operator delete. Under AddressSanitizer the lists are off, so that a use of a freed
// block is still caught. `Tag` names the list; its user gives the block size.
#pragma once

#include <cstddef>
#include <new>

namespace tapegrad::detail {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool free_lists_on = false;
#else
inline constexpr bool free_lists_on = true;
#endif

template <class Tag, std::size_t max_cached>
class FreeList {
  public:
    // A block of `bytes` (the same for every call with this Tag).
    static void* take(std::size_t bytes) {
        List& list = list_;
        if (free_lists_on && list.head) {
            Block* block = list.head;
            list.head = block->next;
            --list.count;
            block->~Block();
            return block;
        }
        return ::operator new(bytes);
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

  private:
    struct Block {
        Block* next;
    };
    // Plain data, so that reaching a thread's list costs no check of whether it was made yet.
    // `limit` is 0 until the thread's first give() opens the list, and again once it is closed.
    struct List {
        Block* head;
        std::size_t count;
        std::size_t limit;
    };
    // Made by the thread's first give(); at the thread's end it closes the list and gives its
    // blocks back to operator delete.
    struct Closer {
        Closer() { list_.limit = max_cached; }
        ~Closer() {
            List& list = list_;
            list.limit = 0;
            while (list.head) {
                Block* next = list.head->next;
                ::operator delete(list.head);
                list.head = next;
            }
            list.count = 0;
        }
    };
    // give() when the list takes no more: not opened yet (the thread's first give()), full, or
    // closed.
    [[gnu::noinline]] static void give_slow(void* block) {
        if (free_lists_on && list_.limit == 0 && !opened_) {
            static thread_local Closer closer;  // opens the list
            opened_ = true;  // from here on, a limit of 0 means closed
            if (list_.count < list_.limit) return give(block);
        }
        ::operator delete(block);
    }
    static thread_local List list_;
    static thread_local bool opened_;  // by the first give(); closed again once limit is 0
};

template <class Tag, std::size_t max_cached>
thread_local typename FreeList<Tag, max_cached>::List FreeList<Tag, max_cached>::list_{};
template <class Tag, std::size_t max_cached>
thread_local bool FreeList<Tag, max_cached>::opened_ = false;

}  // namespace tapegrad::detail
