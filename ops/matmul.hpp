// Matrix products on OpenBLAS (sgemm through xtensor-blas).
//
//   y = a · b            a [M, K], b [K, N], y [M, N]
//                        da = dy · bT        db = aT · dy
//
//   y = x · wT + b       x [N, in], w [out, in] (PyTorch's layout), b [out] or empty, y [N, out]
//                        dx = dy · w         dw = dyT · x        db = sum of dy over rows
//
// linear() is what nn::Linear calls: one record and no transposed copy of w.
#pragma once

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor matmul(const Tensor& a, const Tensor& b);
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// c = alpha * op(a) · op(b) + beta * c on row-major 2-D arrays; c must already have its shape.
void gemm(const Array& a, bool transpose_a, const Array& b, bool transpose_b, Array& c,
          float alpha = 1.0f, float beta = 0.0f);

}  // namespace tapegrad
