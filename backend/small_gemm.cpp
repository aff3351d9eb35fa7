#include "small_gemm.hpp"

#include <algorithm>
#include <atomic>

#include <cblas.h>

#include "blas.hpp"
#include "fast_paths.hpp"

#ifdef TAPEGRAD_WITH_XSMM
#include <libxsmm.h>
#endif

namespace tapegrad {

namespace {

// Starts as TAPEGRAD_FAST_PATHS says (made on first use, so a bad value is an error the caller
// sees, not a crash at load time).
std::atomic<bool>& generated_on() {
    static std::atomic<bool> on{fast_path_starts_on("xsmm")};
    return on;
}

#ifdef TAPEGRAD_WITH_XSMM
// libxsmm is column-major. A row-major C [m, n] is the column-major C^T [n, m], and
// C^T = B^T · A^T, so the row-major product is libxsmm's product of B and A with m and n swapped.
void (*kernel_for(const GemmShape& s))(const float*, const float*, float*, ...) {
    const auto m = static_cast<libxsmm_blasint>(s.n), n = static_cast<libxsmm_blasint>(s.m),
               k = static_cast<libxsmm_blasint>(s.k);
    const auto lda = static_cast<libxsmm_blasint>(s.ldb), ldb = static_cast<libxsmm_blasint>(s.lda),
               ldc = static_cast<libxsmm_blasint>(s.ldc);
    const float alpha = 1.0f, beta = s.accumulate ? 1.0f : 0.0f;
    const int flags = LIBXSMM_GEMM_FLAGS('N', 'N');
    const int prefetch = LIBXSMM_PREFETCH_NONE;
    const libxsmm_smmfunction f =
        libxsmm_smmdispatch(m, n, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, &prefetch);
    return f;
}

bool cpu_supported() {
    // A kernel for a tiny product shows whether libxsmm generates code for this CPU at all.
    static const bool ok = kernel_for({4, 4, 4, 4, 4, 4, false}) != nullptr;
    return ok;
}
#endif

}  // namespace

SmallGemm::SmallGemm(const GemmShape& shape) : shape_(shape) {
#ifdef TAPEGRAD_WITH_XSMM
    if (small_gemm_generated() && shape.m > 0 && shape.n > 0 && shape.k > 0)
        kernel_ = kernel_for(shape);
#endif
}

void SmallGemm::operator()(const float* a, const float* b, float* c) const {
    if (kernel_) {
        // libxsmm's argument order: its A is our B (see kernel_for).
        kernel_(b, a, c);
        return;
    }
    const GemmShape& s = shape_;
    if (s.m == 0 || s.n == 0) return;
    if (s.k == 0) {  // the empty sum
        if (!s.accumulate)
            for (std::size_t i = 0; i < s.m; ++i)
                std::fill(c + i * s.ldc, c + i * s.ldc + s.n, 0.0f);
        return;
    }
    init_blas();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<blasint>(s.m),
                static_cast<blasint>(s.n), static_cast<blasint>(s.k), 1.0f, a,
                static_cast<blasint>(s.lda), b, static_cast<blasint>(s.ldb),
                s.accumulate ? 1.0f : 0.0f, c, static_cast<blasint>(s.ldc));
}

void use_generated_gemm(bool on) { generated_on() = on; }

bool small_gemm_available() {
#ifdef TAPEGRAD_WITH_XSMM
    return cpu_supported();
#else
    return false;
#endif
}

bool small_gemm_generated() { return generated_on() && small_gemm_available(); }

}  // namespace tapegrad
