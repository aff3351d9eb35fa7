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
        if (free_lists_on && !closed_ && list_.head) {
            Block* block = list_.head;
            list_.head = block->next;
            --list_.count;
            block->~Block();
            return block;
        }
        return ::operator new(bytes);
    }
    static void give(void* block) {
        if (free_lists_on && !closed_ && list_.count < max_cached) {
            list_.head = ::new (block) Block{list_.head};
            ++list_.count;
            return;
        }
        ::operator delete(block);
    }
    // How many blocks wait in the calling thread's list.
    static std::size_t cached() { return free_lists_on && !closed_ ? list_.count : 0; }

  private:
    struct Block {
        Block* next;
    };
    struct List {
        Block* head = nullptr;
        std::size_t count = 0;
        ~List() {
            closed_ = true;
            while (head) {
                Block* next = head->next;
                ::operator delete(head);
                head = next;
            }
        }
    };
    static thread_local List list_;
    // Set by ~List. A separate, trivially destructible flag stays readable after the list's
    // destructor has run, until the thread's storage goes.
    static thread_local bool closed_;
};

template <class Tag, std::size_t max_cached>
thread_local typename FreeList<Tag, max_cached>::List FreeList<Tag, max_cached>::list_;
template <class Tag, std::size_t max_cached>
thread_local bool FreeList<Tag, max_cached>::closed_ = false;

}  // namespace tapegrad::detail
