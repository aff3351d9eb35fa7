// Reductions. Axes may be negative (counted from the end); keepdims keeps reduced axes as 1.
//
//   y = sum(x)       dx = dy broadcast back to x's shape
//   y = mean(x)      dx = dy / n broadcast back, n = number of elements reduced
//
// sum(x) and mean(x) over all elements give a 0-d tensor (shape []), ready for backward().
#pragma once

#include <vector>

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, int axis, bool keepdims = false);
Tensor sum(const Tensor& x, std::vector<int> axes, bool keepdims = false);

Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, int axis, bool keepdims = false);
Tensor mean(const Tensor& x, std::vector<int> axes, bool keepdims = false);

// Turns a possibly negative axis into an index, or throws naming `op`, the axis and the rank.
std::size_t normalize_axis(const char* op, int axis, std::size_t rank);

}  // namespace tapegrad
