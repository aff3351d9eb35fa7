// exp, sigmoid, tanh, log, log1p, expm1, sin and cos as plain float arithmetic, so that a loop
// calling them compiles to vector instructions (the C library's are calls, one element at a
// time).
// They follow Cephes' expf and tanhf: a power of two times a polynomial on the remainder. exp
// and tanh are within 2 units in the last place of the float result, sigmoid within 3, over the
// ranges below (tests/test_vector_math.cpp).
//
//   exp(x)       x is clamped to [-87.34, 88.38]: no infinities and no subnormal results
//                (e^-100 gives 1.2e-38, not 3.7e-44); NaN stays NaN
//   sigmoid(x)   1 / (1 + exp(-x)); 0 below -88.37626
//   tanh(x)      |x| < 0.625: x + x³ P(x²); otherwise sign(x) (1 - 2 / (exp(2|x|) + 1))
//   erf(x)       Abramowitz and Stegun 7.1.26, as PyTorch's vectorised erf: within 5e-7 of
//                erf(x), absolutely (not in ulps: it is for gelu, where 0.5 x (1 + erf) follows)
//
//   log(x)       Cephes' logf; 0 gives -inf, x < 0 NaN; subnormals scaled first
//   log1p, expm1 log and exp with a correction for the rounding of 1 + x and of e^x; expm1 up
//                to x = 88.37626 (where exp stops)
//   sin, cos     Cephes' polynomials after a reduction by pi/4 in double; |x| <= 8192
// These five are within 2 units in the last place of the exact value over those ranges.
//
// Used where the whole loop is the cost: the activation kernels (backend/activation_kernels.cpp:
// sigmoid, tanh, gelu, elu, silu, softplus, and sin, cos, log1p, expm1, which take arguments
// beyond these ranges from the C library) and the fused LSTM layer (ops/recurrent.cpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace tapegrad::vector_math {

// c ? a : b as bit operations: a comparison and a blend, which the compiler keeps in the vector
// loop (a ?: or std::min there is control flow, and stops it vectorising).
inline float pick(bool c, float a, float b) {
    std::uint32_t ua, ub;
    std::memcpy(&ua, &a, sizeof ua);
    std::memcpy(&ub, &b, sizeof ub);
    const std::uint32_t mask = 0u - static_cast<std::uint32_t>(c);
    const std::uint32_t r = (ua & mask) | (ub & ~mask);
    float out;
    std::memcpy(&out, &r, sizeof out);
    return out;
}

inline float exp(float x) {
    x = pick(x < -87.33654f, -87.33654f, x);  // NaN compares false and stays
    x = pick(x > 88.37626f, 88.37626f, x);
    // n = round(x / ln 2): adding 1.5 * 2^23 rounds to an integer, which the float's low bits
    // then hold (two's complement), so no float-to-int conversion is needed.
    const float magic = 12582912.0f;
    const float shifted = x * 1.44269504088896341f + magic;
    const float n = shifted - magic;
    std::uint32_t bits;
    std::memcpy(&bits, &shifted, sizeof bits);
    const std::uint32_t k = bits - 0x4B400000u;  // n
    // r = x - n ln 2, ln 2 in two parts so that n * 0.693359375 is exact
    const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const std::uint32_t scale_bits = (k + 127u) << 23;  // 2^n
    float scale;
    std::memcpy(&scale, &scale_bits, sizeof scale);
    return p * scale;
}

// Below -88.37626, where exp(-x) stops growing at its clamp, the result is 0 (as torch's for
// large negative x) rather than 1 / (1 + e^88.37626); the true value is under 4.1e-39 there.
inline float sigmoid(float x) { return pick(x < -88.37626f, 0.0f, 1.0f / (1.0f + exp(-x))); }

inline float tanh(float x) {
    const float a = std::abs(x);
    const float z = x * x;
    float small = -5.70498872745e-3f;  // |x| < 0.625
    small = small * z + 2.06390887954e-2f;
    small = small * z - 5.37397155531e-2f;
    small = small * z + 1.33314422036e-1f;
    small = small * z - 3.33332819422e-1f;
    small = small * z * x + x;
    const float large = 1.0f - 2.0f / (exp(2.0f * a) + 1.0f);
    return pick(a < 0.625f, small, std::copysign(large, x));
}

inline float erf(float x) {
    const float a = std::abs(x);
    const float t = 1.0f / (1.0f + 0.3275911f * a);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    return std::copysign(1.0f - p * t * exp(-a * a), x);
}

// ln x, as Cephes' logf: x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln x = e ln 2 + ln m, ln m a
// polynomial in m - 1. Subnormal x is scaled by 2^23 first. 0 gives -inf, a negative x NaN,
// +inf +inf, NaN NaN.
inline float log(float x) {
    const bool tiny = x < 1.17549435e-38f;
    const float v = pick(tiny, x * 8388608.0f, x);
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    const float e = static_cast<float>(static_cast<std::int32_t>((bits >> 23) & 0xffu) - 126) - pick(tiny, 23.0f, 0.0f);
    bits = (bits & 0x007fffffu) | 0x3f000000u;  // m in [0.5, 1)
    float m;
    std::memcpy(&m, &bits, sizeof m);
    const bool low = m < 0.707106781186547524f;  // then 2m and e - 1
    const float f = pick(low, m + m - 1.0f, m - 1.0f);
    const float fe = e - pick(low, 1.0f, 0.0f);
    const float z = f * f;
    float y = 7.0376836292e-2f;
    y = y * f - 1.1514610310e-1f;
    y = y * f + 1.1676998740e-1f;
    y = y * f - 1.2420140846e-1f;
    y = y * f + 1.4249322787e-1f;
    y = y * f - 1.6668057665e-1f;
    y = y * f + 2.0000714765e-1f;
    y = y * f - 2.4999993993e-1f;
    y = y * f + 3.3333331174e-1f;
    y = y * f * z;
    y += -2.12194440e-4f * fe;  // ln 2 in two parts, as in exp
    y += -0.5f * z;
    float r = f + y;
    r += 0.693359375f * fe;
    r = pick(x == 0.0f, -INFINITY, r);
    r = pick(x < 0.0f, NAN, r);
    r = pick(x == INFINITY, INFINITY, r);
    return pick(x != x, x, r);  // NaN stays
}

// ln(1 + x) without losing x's digits when |x| is small: u = 1 + x rounded, d = u - 1 (exact),
// and ln(1 + x) = ln u + ln(1 + (x - d) / u) ~ ln u + (x - d) / u, which adds back what the
// rounding of 1 + x lost (with u = 1, exactly x).
inline float log1p(float x) {
    const float u = 1.0f + x;
    const float d = u - 1.0f;
    const float r = log(u) + (x - d) / u;
    return pick(u == 0.0f || x == INFINITY, log(u), r);  // x = -1: -inf
}

// e^x - 1 without losing x's digits when |x| is small: u = e^x rounded and d = u - 1; then
// e^x - 1 = d + (e^x - u) ~ d + u (x - ln u), which adds back what the rounding of u lost. Up to
// x = 88.37626, where exp stops (callers take larger x from the C library).
inline float expm1(float x) {
    const float u = exp(x);
    const float d = u - 1.0f;
    const float r = pick(std::abs(x) < 0.5f, d + u * (x - log(u)), d);  // beyond, d keeps its digits
    return pick(u == 1.0f, x, r);
}

// sin and cos with Cephes' sinf and cosf polynomials on [-pi/4, pi/4]: x is reduced by a multiple
// of pi/4 in double, pi/4 in three parts (a float and two doubles), so that the remainder keeps
// its digits even where sin or cos is near 0. For |x| <= 8192 (max_sin_cos); beyond, and for NaN,
// the result is NaN, and callers take such arguments from the C library.
constexpr float max_sin_cos = 8192.0f;
namespace detail {
inline float sin_or_cos(float x, bool cosine) {
    // |x| beyond the range (and NaN) is reduced as 0, so that the conversion to an integer is
    // defined; the result there is NaN, which callers replace with the C library's.
    const float a = pick(std::abs(x) <= max_sin_cos, std::abs(x), 0.0f);
    std::int32_t j = static_cast<std::int32_t>(a * 1.27323954473516f);  // 4 / pi
    j = (j + 1) & ~1;  // to the even octant
    const double y = static_cast<double>(j);
    const float r = static_cast<float>(((static_cast<double>(a) - y * 0.785398185253143310546875) -
                                        y * -2.1855695000931213e-08) - y * -1.3359453669305078e-24);
    const float z = r * r;
    float c = 2.443315711809948e-5f;
    c = c * z - 1.388731625493765e-3f;
    c = c * z + 4.166664568298827e-2f;
    c = c * z * z - 0.5f * z + 1.0f;
    float s = -1.9515295891e-4f;
    s = s * z + 8.3321608736e-3f;
    s = s * z - 1.6666654611e-1f;
    s = s * z * r + r;
    const std::int32_t q = (j >> 1) + static_cast<std::int32_t>(cosine);  // quarter turns
    const float v = pick((q & 1) != 0, c, s);
    return pick(std::abs(x) <= max_sin_cos, pick((q & 2) != 0, -v, v), NAN);
}
}  // namespace detail

inline float sin(float x) {
    const float v = detail::sin_or_cos(x, false);
    return pick(x < 0.0f, -v, v);
}
inline float cos(float x) { return detail::sin_or_cos(x, true); }

}  // namespace tapegrad::vector_math
