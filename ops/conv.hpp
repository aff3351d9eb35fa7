// 2-D convolution, as PyTorch's conv2d (strictly a cross-correlation: the kernel is not flipped).
//
//   y[n,o,i,j] = b[o] + sum over c, u, v of w[o,c,u,v] * x[n, c, i*s + u - p, j*s + v - p]
//                x counts as 0 outside its H x W (that is the padding p); s is the stride
//
//   x [N, C, H, W]   w [O, C, kh, kw]   b [O] or empty   y [N, O, Hout, Wout]
//   Hout = (H + 2p - kh) / s + 1,  Wout = (W + 2p - kw) / s + 1  (rounded down)
//
//   dw[o,c,u,v] = sum over n, i, j of dy[n,o,i,j] * x[n, c, i*s + u - p, j*s + v - p]
//   dx[n,c,h,w] = sum of dy[n,o,i,j] * w[o,c,u,v] over all o, i, j, u, v with
//                 i*s + u - p = h and j*s + v - p = w
//   db[o]       = sum over n, i, j of dy[n,o,i,j]
//
// How it runs: im2col copies the receptive field of every output pixel of the whole batch into
// one column of cols [C*kh*kw, N*Hout*Wout]. Then the convolution is a single matrix product with
// the weight viewed as W [O, C*kh*kw], and so is each gradient:
//
//   Y = W · cols        dW = dY · colsT        dcols = WT · dY,  dx = col2im(dcols)
//
// where Y and dY are [O, N*Hout*Wout] (y and dy with the N and O axes swapped). col2im adds each
// column back onto the input positions it was copied from. cols is rebuilt in backward rather
// than saved; the large matrices live in scratch buffers kept per thread and reused by every call
// (they grow to the largest convolution seen: about 85 MB for the tutorial CNN at batch 100).
#pragma once

#include <cstddef>

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::size_t stride = 1,
              std::size_t padding = 0);

}  // namespace tapegrad
