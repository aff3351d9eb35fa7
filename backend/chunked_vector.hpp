// The tape's record store: a vector whose elements never move while it grows.
//
// Elements live in chunks of `Chunk` slots, allocated once and kept for reuse when the vector
// shrinks, so appending never reallocates or moves what is there (a reference to an element stays
// valid while others are appended) and a tape that fills and empties every training step stops
// allocating after the first. Erasing moves the later elements down, as std::vector does. Tested
// in tests/test_runtime.cpp.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace tapegrad::detail {

template <class T, std::size_t Chunk = 1024>
class ChunkedVector {
    static_assert((Chunk & (Chunk - 1)) == 0, "Chunk is a power of two");

  public:
    ChunkedVector() = default;
    ChunkedVector(const ChunkedVector&) = delete;
    ChunkedVector& operator=(const ChunkedVector&) = delete;
    ~ChunkedVector() { erase_from(0); }

    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    T& operator[](std::size_t i) { return *slot(i); }
    const T& operator[](std::size_t i) const { return *slot(i); }
    T& back() { return *slot(size_ - 1); }

    template <class... A>
    T& emplace_back(A&&... args) {
        if (size_ == chunks_.size() * Chunk) chunks_.push_back(std::unique_ptr<Storage>(new Storage));  // not zeroed
        T* p = ::new (static_cast<void*>(raw(size_))) T(std::forward<A>(args)...);
        ++size_;
        return *p;
    }
    void pop_back() {
        --size_;
        slot(size_)->~T();
    }
    // Destroys the elements from index `first` on.
    void erase_from(std::size_t first) {
        while (size_ > first) pop_back();
    }
    // Removes the elements of [first, last) for which remove(element) is true, moving the
    // elements after them down, in order.
    template <class Remove>
    void erase_if(std::size_t first, std::size_t last, Remove remove) {
        std::size_t to = first;
        for (std::size_t i = first; i < size_; ++i) {
            if (i < last && remove(*slot(i))) continue;
            if (to != i) *slot(to) = std::move(*slot(i));
            ++to;
        }
        erase_from(to);
    }

  private:
    struct Storage {
        alignas(T) unsigned char bytes[Chunk * sizeof(T)];
    };
    unsigned char* raw(std::size_t i) const {
        return chunks_[i / Chunk]->bytes + (i % Chunk) * sizeof(T);
    }
    T* slot(std::size_t i) const { return std::launder(reinterpret_cast<T*>(raw(i))); }

    std::vector<std::unique_ptr<Storage>> chunks_;
    std::size_t size_ = 0;
};

}  // namespace tapegrad::detail
