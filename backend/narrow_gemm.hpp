// Products with only a few output columns: the last Linear layer of a classifier.
//
// y [m, n] = x [m, k] · w [n, k]^T with n at most narrow_gemm_max_n (10 classes, say) is a
// handful of long dot products per row. OpenBLAS treats it as any other product: it copies
// ("packs") x, which is most of the data, into its own layout first and then runs a kernel built
// for wide outputs, so at these shapes it reaches a fraction of the CPU's speed. Here each pair
// of rows of x is read once, straight from where it is, against all n rows of w, with one SIMD
// accumulator per output, summed across its lanes at the end.
//
// sgemm (ops/matmul.hpp) sends such products here; the tests compare this kernel with OpenBLAS
// on the same shapes. Results agree up to rounding (the sums run in another order).
#pragma once

#include <cstddef>

namespace tapegrad {

constexpr std::size_t narrow_gemm_max_n = 24;

// y [m, n] = x [m, k] · w [n, k]^T (+ y when accumulate), row-major with leading dimensions ldx,
// ldw, ldy; n at most narrow_gemm_max_n. Splits the rows over tapegrad's threads when there are
// enough of them.
void narrow_gemm_nt(std::size_t m, std::size_t n, std::size_t k, const float* x, std::size_t ldx,
                    const float* w, std::size_t ldw, float* y, std::size_t ldy, bool accumulate);

// Whether sgemm sends a product of these sizes here: n small, k long enough to fill the SIMD
// registers, and a build for AVX-512 (with AVX2's 16 registers the 24 sums would not fit).
// Tests switch it off to compare with OpenBLAS; it is on by default.
bool narrow_gemm_applies(std::size_t m, std::size_t n, std::size_t k);
void use_narrow_gemm(bool on);

}  // namespace tapegrad
