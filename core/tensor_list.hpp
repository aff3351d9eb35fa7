// A record's inputs and what its derivative returns, one gradient per input (core/tape.hpp): a
// small vector of Tensors. Most ops have one to three inputs, so the first four live inside it; a
// heap allocation per op would cost more than a scalar op. Tested in tests/test_runtime.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
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
    TensorList(std::initializer_list<Tensor> tensors) {
        for (const Tensor& t : tensors) push_back(t);
    }

    void push_back(Tensor t) {
        if (size_ < inline_.size()) inline_[size_] = std::move(t);
        else more_.push_back(std::move(t));
        ++size_;
    }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const Tensor& operator[](std::size_t i) const {
        return i < inline_.size() ? inline_[i] : more_[i - inline_.size()];
    }
    Tensor& operator[](std::size_t i) {
        return i < inline_.size() ? inline_[i] : more_[i - inline_.size()];
    }
    void clear() {
        for (std::size_t i = 0; i < size_ && i < inline_.size(); ++i) inline_[i] = Tensor();
        more_.clear();
        size_ = 0;
    }
    std::vector<Tensor> to_vector() const {
        std::vector<Tensor> out;
        for (std::size_t i = 0; i < size_; ++i) out.push_back((*this)[i]);
        return out;
    }

  private:
    std::array<Tensor, 4> inline_;
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
