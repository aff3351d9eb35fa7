// Shape changes. They move no numbers, so the backward only undoes the shape change.
//
//   reshape(x, s)    y has shape s (same number of elements)    dx = dy reshaped to x's shape
//   flatten(x)       [N, d1, d2, ...] -> [N, d1*d2*...]         dx = dy reshaped back
//   transpose(x)     [M, N] -> [N, M]                           dx = dyT
//   expand(x, s)     x broadcast to shape s (NumPy's rules)      dx = dy summed back to x's shape
//   sum_to(x, s)     x summed down to s, x a broadcast of s      dx = dy broadcast to x's shape
//   permute(x, p)    y's axis i is x's axis p[i]                 dx = dy permuted back
//   transpose(x, a, b)   axes a and b swapped                    dx = dy with them swapped back
//   unsqueeze(x, a)  a new axis of size 1 at a (-1: last)        dx = dy without it
//   squeeze(x, a)    axis a, of size 1, removed                  dx = dy with it again
// Axes may be negative, counted from the end.
#pragma once

#include <vector>

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor reshape(const Tensor& x, std::vector<std::size_t> shape);
Tensor flatten(const Tensor& x);  // keeps dim 0
Tensor transpose(const Tensor& x);  // 2-D
Tensor expand(const Tensor& x, std::vector<std::size_t> shape);
Tensor sum_to(const Tensor& x, std::vector<std::size_t> shape);
Tensor permute(const Tensor& x, std::vector<int> axes);
Tensor transpose(const Tensor& x, int axis0, int axis1);
Tensor unsqueeze(const Tensor& x, int axis);
Tensor squeeze(const Tensor& x, int axis);

}  // namespace tapegrad
