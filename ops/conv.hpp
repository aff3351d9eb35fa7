// 2-D convolution, as PyTorch's conv2d (strictly a cross-correlation: the kernel is not flipped).
//
//   y[n,o,i,j] = b[o] + sum over c, u, v of w[o,c,u,v] * x[n, c, i*s + u*d - p, j*s + v*d - p]
//                x counts as 0 outside its H x W (that is the padding p); s is the stride and
//                d the dilation (the kernel's taps are d apart)
//
//   x [N, C, H, W]   w [O, C, kh, kw]   b [O] or empty   y [N, O, Hout, Wout]
//   Hout = (H + 2p - d (kh - 1) - 1) / s + 1, Wout alike (rounded down)
//
//   dw[o,c,u,v] = sum over n, i, j of dy[n,o,i,j] * x[n, c, i*s + u*d - p, j*s + v*d - p]
//   dx[n,c,h,w] = sum of dy[n,o,i,j] * w[o,c,u,v] over all o, i, j, u, v with
//                 i*s + u*d - p = h and j*s + v*d - p = w
//   db[o]       = sum over n, i, j of dy[n,o,i,j]
//
// With groups G, the channels split into G groups and group g's outputs see only its inputs:
// w is [O, C/G, kh, kw], and outputs [g O/G, (g+1) O/G) use channels [g C/G, (g+1) C/G), as
// torch. Depthwise convolution is G = C.
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
              std::size_t padding = 0, std::size_t dilation = 1, std::size_t groups = 1);

}  // namespace tapegrad
