#include "narrow_gemm.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <utility>

#include <immintrin.h>
#include <xsimd/xsimd.hpp>

#include "fast_paths.hpp"
#include "parallel.hpp"

namespace tapegrad {

namespace {

using Batch = xsimd::batch<float>;
constexpr std::size_t lanes = Batch::size;

// Starts as TAPEGRAD_FAST_PATHS says (made on first use: a bad value is an error, not a crash).
std::atomic<bool>& narrow_on() {
    static std::atomic<bool> on{fast_path_starts_on("narrow_gemm")};
    return on;
}

// a * b + c in one instruction where the CPU has one (xsimd's fma on AVX-512 is a multiply and
// an add, which the build's -ffp-contract=off keeps apart).
inline Batch multiply_add(const Batch& a, const Batch& b, const Batch& c) {
#if defined(__AVX512F__)
    return _mm512_fmadd_ps(a, b, c);
#elif defined(__FMA__)
    return _mm256_fmadd_ps(a, b, c);
#else
    return xsimd::fma(a, b, c);
#endif
}

// R rows of x against J rows of w: R x J dot products of length k, each in one SIMD accumulator
// (R * J registers) that is summed across its lanes at the end; the last k % lanes terms are
// added one by one.
template <int R, int J>
void dot_block(const float* x, std::size_t ldx, const float* w, std::size_t ldw, float* y,
               std::size_t ldy, std::size_t k, bool accumulate) {
    Batch acc[R][J];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
        for (int j = 0; j < J; ++j) acc[r][j] = Batch(0.0f);
    std::size_t p = 0;
    for (; p + lanes <= k; p += lanes) {
        Batch xv[R];
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
            xv[r] = Batch::load_unaligned(x + r * ldx + p);
            // The next rows, which are usually not in the caches yet.
            _mm_prefetch(reinterpret_cast<const char*>(x + (r + 2 * R) * ldx + p), _MM_HINT_T0);
        }
#pragma GCC unroll 16
        for (int j = 0; j < J; ++j) {
            const Batch wv = Batch::load_unaligned(w + j * ldw + p);
#pragma GCC unroll 16
            for (int r = 0; r < R; ++r) acc[r][j] = multiply_add(xv[r], wv, acc[r][j]);
        }
    }
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < J; ++j) {
            float sum = xsimd::hadd(acc[r][j]);
            for (std::size_t q = p; q < k; ++q) sum += x[r * ldx + q] * w[j * ldw + q];
            float& out = y[r * ldy + j];
            out = accumulate ? out + sum : sum;
        }
}

using BlockFn = void (*)(const float*, std::size_t, const float*, std::size_t, float*,
                         std::size_t, std::size_t, bool);

// Two rows at a time keep 2 J accumulators: with J up to 12, 24 of AVX-512's 32 registers, the
// rest for the operands. A last odd row runs alone.
constexpr int max_j = 12;

template <int R, std::size_t... J>
constexpr std::array<BlockFn, sizeof...(J)> block_table(std::index_sequence<J...>) {
    return {&dot_block<R, static_cast<int>(J) + 1>...};
}
constexpr auto pairs = block_table<2>(std::make_index_sequence<max_j>());
constexpr auto singles = block_table<1>(std::make_index_sequence<max_j>());

void rows_nt(std::size_t begin, std::size_t end, std::size_t n, std::size_t k, const float* x,
             std::size_t ldx, const float* w, std::size_t ldw, float* y, std::size_t ldy,
             bool accumulate) {
    for (std::size_t j0 = 0; j0 < n; j0 += max_j) {
        const std::size_t cols = std::min<std::size_t>(max_j, n - j0);
        const float* wj = w + j0 * ldw;
        std::size_t i = begin;
        for (; i + 2 <= end; i += 2)
            pairs[cols - 1](x + i * ldx, ldx, wj, ldw, y + i * ldy + j0, ldy, k, accumulate);
        if (i < end)
            singles[cols - 1](x + i * ldx, ldx, wj, ldw, y + i * ldy + j0, ldy, k, accumulate);
    }
}

}  // namespace

void narrow_gemm_nt(std::size_t m, std::size_t n, std::size_t k, const float* x, std::size_t ldx,
                    const float* w, std::size_t ldw, float* y, std::size_t ldy, bool accumulate) {
    // A thread is worth waking for some 100k multiply-adds; parts hold an even number of rows.
    const std::size_t per_row = n * k;
    const std::size_t min_rows = std::max<std::size_t>(2, (std::size_t{1} << 17) / (per_row + 1));
    const std::size_t pairs_of_rows = (m + 1) / 2;
    parallel_for(
        pairs_of_rows,
        [&](std::size_t b, std::size_t e, int) {
            rows_nt(2 * b, std::min(m, 2 * e), n, k, x, ldx, w, ldw, y, ldy, accumulate);
        },
        (min_rows + 1) / 2);
}

bool narrow_gemm_applies(std::size_t, std::size_t n, std::size_t k) {
    return narrow_on() && lanes >= 16 && n >= 1 && n <= narrow_gemm_max_n && k >= 4 * lanes;
}

void use_narrow_gemm(bool on) { narrow_on() = on; }

}  // namespace tapegrad
