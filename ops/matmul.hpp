// Matrix products on OpenBLAS (cblas_sgemm).
//
//   y = a · b            a [M, K], b [K, N], y [M, N]
//                        da = dy · bT        db = aT · dy
//                        as torch.matmul: a vector is a row (a [K]) or a column (b [K]),
//                        removed again from the result ([K]·[K] gives a 0-d tensor); batched
//                        [..., M, K] · [..., K, N] with the batch axes broadcast, one GEMM per
//                        matrix (and one in all when b is 2-D); da, db summed back over the
//                        batch axes they were broadcast on
//
//   y = x · wT + b       x [N, in], w [out, in] (PyTorch's layout), b [out] or empty, y [N, out]
//                        (x [..., in] gives y [..., out]: the rows of every leading axis)
//                        dx = dy · w         dw = dyT · x        db = sum of dy over rows
//
// linear() is what nn::Linear calls: one record and no transposed copy of w.
#pragma once

#include <cstddef>

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor matmul(const Tensor& a, const Tensor& b);
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// c = alpha * op(a) · op(b) + beta * c on row-major 2-D arrays; c must already have its shape.
void gemm(const Array& a, bool transpose_a, const Array& b, bool transpose_b, Array& c,
          float alpha = 1.0f, float beta = 0.0f);

// c [m, n] = alpha op(a) · op(b) + beta c on row-major raw buffers; op(a) is [m, k], op(b) is
// [k, n].
void sgemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k,
           const float* a, const float* b, float* c, float beta = 0.0f, float alpha = 1.0f);

}  // namespace tapegrad
