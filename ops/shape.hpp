// Shape changes. They move no numbers, so the backward only undoes the shape change.
//
//   reshape(x, s)    y has shape s (same number of elements)    dx = dy reshaped to x's shape
//   flatten(x)       [N, d1, d2, ...] -> [N, d1*d2*...]         dx = dy reshaped back
//   transpose(x)     [M, N] -> [N, M]                           dx = dyT
#pragma once

#include <vector>

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor reshape(const Tensor& x, std::vector<std::size_t> shape);
Tensor flatten(const Tensor& x);  // keeps dim 0
Tensor transpose(const Tensor& x);  // 2-D

}  // namespace tapegrad
