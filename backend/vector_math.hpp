// exp, sigmoid and tanh as plain float arithmetic, so that a loop calling them compiles to
// vector instructions (the C library's expf and tanhf are calls, one element at a time).
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
// Used where the whole loop is the cost: the sigmoid, tanh and gelu ops (ops/activation.cpp) and
// the fused LSTM layer (ops/recurrent.cpp).
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

}  // namespace tapegrad::vector_math
