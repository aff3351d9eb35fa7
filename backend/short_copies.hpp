// Short copies of at most 32 floats whose length is known only at run time: a call to memcpy for
// each costs more than the work around it in max_pool_2x2_row (ops/pool.cpp), whose rows of the
// tutorial CNN are 28 and 14 values long.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

// With AVX-512 they are masked vector moves. Not under AddressSanitizer: with
// its detect_stack_use_after_return (scripts/sanitize.sh), GCC 12's code stored these vectors
// at a wrong address (the process id) instead of the local arrays, although plain ASan, which
// checks every byte of them, finds nothing; the sanitized suite checks the plain copies instead.
#if defined(__AVX512F__) && !defined(__SANITIZE_ADDRESS__)
#define TAPEGRAD_VECTOR_COPIES 1
#endif

#if defined(TAPEGRAD_VECTOR_COPIES)
#include <immintrin.h>
#endif

namespace tapegrad::detail {

#if defined(TAPEGRAD_VECTOR_COPIES)
inline __mmask16 first_lanes(std::size_t count) {
    return count >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << count) - 1u);
}
#endif

// to[0, 32) = from[0, count) then zeros, count <= 32.
inline void copy_padded(const float* from, std::size_t count, float* to) {
#if defined(TAPEGRAD_VECTOR_COPIES)
    _mm512_storeu_ps(to, _mm512_maskz_loadu_ps(first_lanes(count), from));
    _mm512_storeu_ps(to + 16, _mm512_maskz_loadu_ps(first_lanes(count > 16 ? count - 16 : 0), from + 16));
#else
    std::copy_n(from, count, to);
    std::fill(to + count, to + 32, 0.0f);
#endif
}

// The first n <= 16 of b and a into best and at.
inline void copy_first(const float* b, const std::uint32_t* a, std::size_t n, float* best,
                std::uint32_t* at) {
#if defined(TAPEGRAD_VECTOR_COPIES)
    _mm512_mask_storeu_ps(best, first_lanes(n), _mm512_loadu_ps(b));
    _mm512_mask_storeu_epi32(at, first_lanes(n), _mm512_loadu_si512(a));
#else
    std::copy_n(b, n, best);
    std::copy_n(a, n, at);
#endif
}

}  // namespace tapegrad::detail
