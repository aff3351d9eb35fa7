// A tape record's inputs (core/tape.hpp): a small vector of nodes. Most ops have one to three
// inputs, so the first four live inside the record; a heap allocation per op would cost more than
// a scalar op. Tested in tests/test_runtime.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "tensor.hpp"

namespace tapegrad::detail {

class NodeList {
  public:
    void push_back(std::shared_ptr<Node> node) {
        if (size_ < inline_.size()) inline_[size_] = std::move(node);
        else more_.push_back(std::move(node));
        ++size_;
    }
    std::size_t size() const { return size_; }
    const std::shared_ptr<Node>& operator[](std::size_t i) const {
        return i < inline_.size() ? inline_[i] : more_[i - inline_.size()];
    }
    void clear() {
        for (auto& node : inline_) node.reset();
        more_.clear();
        size_ = 0;
    }

  private:
    std::array<std::shared_ptr<Node>, 4> inline_;
    std::vector<std::shared_ptr<Node>> more_;
    std::size_t size_ = 0;
};

}  // namespace tapegrad::detail
