// Max pooling, as PyTorch's max_pool2d without padding (floor mode): kernel x kernel windows,
// moved by stride along H and W.
//
//   y[n,c,i,j] = max over u, v < kernel of x[n, c, i*s + u, j*s + v]
//
//   x [N, C, H, W]   y [N, C, Hout, Wout]
//   Hout = (H - kernel) / s + 1,  Wout = (W - kernel) / s + 1  (rounded down)
//
//   dx[n,c,h,w] = sum of dy[n,c,i,j] over the windows (i, j) whose maximum is x[n,c,h,w]
//
// The local derivative of a max is 1 at the maximum and 0 elsewhere. On ties the first maximum of
// the window (row by row) takes the gradient, and a NaN counts as the maximum, as in PyTorch. When stride < kernel the windows
// overlap and one input can collect gradient from several windows.
#pragma once

#include <cstddef>

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor max_pool2d(const Tensor& x, std::size_t kernel, std::size_t stride);

}  // namespace tapegrad
