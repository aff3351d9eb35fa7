// A record's inputs and what its derivative returns, one gradient per input (core/tape.hpp): a
// small vector of Tensors. Most ops have one to three inputs, so the first four live inside it,
// made only when pushed; a heap allocation per op would cost more than a scalar op. Tested in
// tests/test_runtime.cpp.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "tensor.hpp"

namespace tapegrad {

class TensorList {
  public:
    TensorList() = default;
    explicit TensorList(std::size_t n) {  // n undefined tensors
        for (std::size_t i = 0; i < n; ++i) push_back(Tensor());
    }
    // Grads{dx, dw}: each tensor moved in when it is a temporary.
    template <class... T,
              class = std::enable_if_t<(sizeof...(T) > 0) &&
                                       (std::is_convertible_v<T&&, Tensor> && ...) &&
                                       !(sizeof...(T) == 1 &&
                                         (std::is_same_v<std::decay_t<T>, TensorList> && ...))>>
    TensorList(T&&... tensors) {  // NOLINT: implicit, as a braced list
        (push_back(std::forward<T>(tensors)), ...);
    }
    TensorList(const TensorList& other) {
        for (std::size_t i = 0; i < other.size_; ++i) push_back(other[i]);
    }
    TensorList(TensorList&& other) noexcept : more_(std::move(other.more_)) {
        const std::size_t n = other.size_ < inline_size ? other.size_ : inline_size;
        for (std::size_t i = 0; i < n; ++i) new (slot(i)) Tensor(std::move(*other.slot(i)));
        size_ = other.size_;
        other.clear();
    }
    TensorList& operator=(const TensorList& other) {
        if (this != &other) {
            TensorList copy(other);
            *this = std::move(copy);
        }
        return *this;
    }
    TensorList& operator=(TensorList&& other) noexcept {
        if (this != &other) {
            clear();
            const std::size_t n = other.size_ < inline_size ? other.size_ : inline_size;
            for (std::size_t i = 0; i < n; ++i) new (slot(i)) Tensor(std::move(*other.slot(i)));
            more_ = std::move(other.more_);
            size_ = other.size_;
            other.clear();
        }
        return *this;
    }
    ~TensorList() { clear(); }

    void push_back(Tensor t) {
        if (size_ < inline_size) new (slot(size_)) Tensor(std::move(t));
        else more_.push_back(std::move(t));
        ++size_;
    }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const Tensor& operator[](std::size_t i) const {
        return i < inline_size ? *slot(i) : more_[i - inline_size];
    }
    Tensor& operator[](std::size_t i) {
        return i < inline_size ? *slot(i) : more_[i - inline_size];
    }
    void clear() noexcept {
        for (std::size_t i = 0; i < size_ && i < inline_size; ++i) slot(i)->~Tensor();
        if (size_ > inline_size) more_.clear();
        size_ = 0;
    }
    std::vector<Tensor> to_vector() const {
        std::vector<Tensor> out;
        for (std::size_t i = 0; i < size_; ++i) out.push_back((*this)[i]);
        return out;
    }

  private:
    static constexpr std::size_t inline_size = 4;
    Tensor* slot(std::size_t i) { return std::launder(reinterpret_cast<Tensor*>(inline_) + i); }
    const Tensor* slot(std::size_t i) const {
        return std::launder(reinterpret_cast<const Tensor*>(inline_) + i);
    }

    alignas(Tensor) unsigned char inline_[inline_size * sizeof(Tensor)];
    std::vector<Tensor> more_;
    std::size_t size_ = 0;
};

// The tensors an op took, as its derivative receives them (undefined optional inputs, such as a
// missing bias, are left out).
using Inputs = TensorList;
// What a derivative returns: dx for each input, in order; an undefined Tensor where an input
// needs none.
using Grads = TensorList;

}  // namespace tapegrad
