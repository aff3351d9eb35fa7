// Pooling, as PyTorch's max_pool2d and avg_pool2d (floor mode): kernel x kernel windows, moved by
// stride along H and W, over x framed by `padding` cells on each side (at most half the kernel).
//
//   max_pool2d: y[n,c,i,j] = max over u, v < kernel of x[n, c, i*s + u - p, j*s + v - p]
//               (the frame is -inf: it never wins)
//   avg_pool2d: y[n,c,i,j] = (sum over u, v of the same x, the frame counting as 0) / kernel^2
//               (the padding is counted, as torch's default count_include_pad)
//               dx: each dy[n,c,i,j] / kernel^2 added to every cell of its window inside x
//
//   x [N, C, H, W]   y [N, C, Hout, Wout]
//   Hout = (H + 2p - kernel) / s + 1,  Wout = (W + 2p - kernel) / s + 1  (rounded down)
//
//   dx[n,c,h,w] = sum of dy[n,c,i,j] over the windows (i, j) whose maximum is x[n,c,h,w]
//
// The local derivative of a max is 1 at the maximum and 0 elsewhere. On ties the first maximum of
// the window (row by row) takes the gradient, and a NaN counts as the maximum, as in PyTorch. When stride < kernel the windows
// overlap and one input can collect gradient from several windows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor max_pool2d(const Tensor& x, std::size_t kernel, std::size_t stride,
                  std::size_t padding = 0);
Tensor avg_pool2d(const Tensor& x, std::size_t kernel, std::size_t stride,
                  std::size_t padding = 0);

// max_pool2d(relu(x), 2, 2) as one op "relu_max_pool2d", which nn::Sequential runs for a ReLU
// followed by MaxPool2D(2): the same values and the same gradients (relu's, 0 where x <= 0 or
// NaN, then max_pool2d's to the first maximum of each window), in one pass over x with no
// relu-sized array between the two.
Tensor relu_max_pool2d(const Tensor& x);

// What ops fused with a 2x2 max pool share with this file (batch_norm_relu_max_pool2d in
// ops/norm.hpp).
namespace detail {

// Where each maximum of max_pool2d came from, and the shapes around it: what its gradient needs.
struct PoolIndex {
    std::vector<std::uint32_t> argmax;  // per output element, its position in the input plane
    Shape input, output;
    std::size_t planes, plane_in, plane_out, min_planes;

    // The shapes around argmax: x's, y's, and the thread split of the planes.
    void describe(const Shape& x, const Array& y, std::size_t min_planes_);
};

// dy [N, C, Ho, Wo] added onto the input positions of the maxima, as an op (linear, so twice
// differentiable): max_pool2d's backward in tensor ops.
Tensor pool_scatter(const Tensor& dy, std::shared_ptr<const PoolIndex> index);

// One output row of relu_max_pool2d: relu, then the maximum of each 2x2 window of input rows r0
// and r1 (r0 starts at position `first` of its plane, r1 is the row below it, w positions on),
// into best[0, wo) with their positions in at[0, wo).
void relu_max_pool_2x2_row(const float* r0, const float* r1, std::uint32_t first, std::uint32_t w,
                           std::size_t wo, float* best, std::uint32_t* at);

}  // namespace detail

}  // namespace tapegrad
