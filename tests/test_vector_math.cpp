// backend/vector_math.hpp against the exact values: exp, sigmoid, tanh, log, log1p, expm1, sin and
// cos within a few units in the last place over their ranges, and the edges (clamping, NaN,
// signs).
#include <cmath>
#include <limits>

#include "helpers.hpp"
#include <tapegrad/backend/activation_kernels.hpp>
#include <tapegrad/backend/vector_math.hpp>

using namespace tapegrad;

namespace {

// |got - want| in units of the float spacing at want.
double ulps(float got, double want) {
    const float w = static_cast<float>(want);
    const double spacing = std::nextafter(std::abs(w), INFINITY) - std::abs(w);
    return std::abs(static_cast<double>(got) - want) / spacing;
}

}  // namespace

TEST_CASE("vector_math exp and tanh are within 2 ulp of the C library's, sigmoid within 3") {
    double worst_exp = 0, worst_sigmoid = 0, worst_tanh = 0;
    for (int k = -87000; k <= 88000; ++k) {
        const float x = static_cast<float>(k) * 0.001f + 0.0003f;
        worst_exp = std::max(worst_exp, ulps(vector_math::exp(x), std::exp(static_cast<double>(x))));
        if (std::abs(x) < 20.0f) {
            const double s = 1.0 / (1.0 + std::exp(-static_cast<double>(x)));
            worst_sigmoid = std::max(worst_sigmoid, ulps(vector_math::sigmoid(x), s));
            worst_tanh = std::max(worst_tanh, ulps(vector_math::tanh(x), std::tanh(static_cast<double>(x))));
        }
    }
    INFO("exp " << worst_exp << " ulp, sigmoid " << worst_sigmoid << " ulp, tanh " << worst_tanh << " ulp");
    CHECK(worst_exp <= 2.0);
    CHECK(worst_sigmoid <= 3.0);  // exp's error, then a division
    CHECK(worst_tanh <= 2.0);
    // Small arguments keep their relative accuracy (no 1 - (1 - x) cancellation).
    CHECK(vector_math::tanh(1e-6f) == doctest::Approx(1e-6f).epsilon(1e-6));
    CHECK(vector_math::tanh(-3e-4f) == doctest::Approx(-3e-4f).epsilon(1e-6));
}

TEST_CASE("vector_math's edges: clamped exp, saturated sigmoid and tanh, NaN") {
    CHECK(std::isfinite(vector_math::exp(1000.0f)));
    CHECK(vector_math::exp(1000.0f) > 1e38f);
    CHECK(vector_math::exp(-1000.0f) > 0.0f);
    CHECK(vector_math::exp(-1000.0f) < 1.2e-38f);
    CHECK(vector_math::exp(0.0f) == 1.0f);
    CHECK(vector_math::sigmoid(100.0f) == 1.0f);
    CHECK(vector_math::sigmoid(-100.0f) < 1e-37f);
    CHECK(vector_math::tanh(50.0f) == 1.0f);
    CHECK(vector_math::tanh(-50.0f) == -1.0f);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK(std::isnan(vector_math::exp(nan)));
    CHECK(std::isnan(vector_math::sigmoid(nan)));
    CHECK(std::isnan(vector_math::tanh(nan)));
}

TEST_CASE("vector_math erf is within 5e-7 of erf, odd, and 1 far out") {
    double worst = 0;
    for (int k = -6000; k <= 6000; ++k) {
        const float x = static_cast<float>(k) * 0.001f + 0.0003f;
        worst = std::max(worst, std::abs(static_cast<double>(vector_math::erf(x)) -
                                         std::erf(static_cast<double>(x))));
    }
    INFO("largest difference " << worst);
    CHECK(worst <= 5e-7);  // the formula is within 1.5e-7; float arithmetic adds the rest
    CHECK(vector_math::erf(0.0f) == 0.0f);
    CHECK(vector_math::erf(-0.7f) == -vector_math::erf(0.7f));
    CHECK(vector_math::erf(10.0f) == 1.0f);
    CHECK(vector_math::erf(-10.0f) == -1.0f);
    CHECK(std::isnan(vector_math::erf(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("vector_math log, log1p, expm1, sin and cos are within 2 ulp of the exact value") {
    double worst_log = 0, worst_log1p = 0, worst_expm1 = 0, worst_sin = 0, worst_cos = 0;
    for (int k = 1; k < 250000; ++k) {  // every binade from 2^-125 to 2^124, subnormals below
        const float x = std::ldexp(1.0f + static_cast<float>(k % 1000) / 1000.0f, k / 1000 - 125);
        worst_log = std::max(worst_log, ulps(vector_math::log(x), std::log(static_cast<double>(x))));
    }
    worst_log = std::max(worst_log, ulps(vector_math::log(1e-40f), std::log(static_cast<double>(1e-40f))));
    for (int k = -99999; k <= 300000; ++k) {  // (-1, 3], densest near 0
        const float x = static_cast<float>(k) * 1e-5f;
        worst_log1p = std::max(worst_log1p, ulps(vector_math::log1p(x), std::log1p(static_cast<double>(x))));
        const float tiny = x * 1e-6f;
        worst_log1p = std::max(worst_log1p, ulps(vector_math::log1p(tiny), std::log1p(static_cast<double>(tiny))));
    }
    for (int k = -87000; k <= 88000; ++k) {
        const float x = static_cast<float>(k) * 0.001f + 0.0003f;
        worst_expm1 = std::max(worst_expm1, ulps(vector_math::expm1(x), std::expm1(static_cast<double>(x))));
        const float tiny = x * 1e-7f;
        worst_expm1 = std::max(worst_expm1, ulps(vector_math::expm1(tiny), std::expm1(static_cast<double>(tiny))));
    }
    for (int k = -2048000; k <= 2048000; k += 3) {  // |x| <= 8192, near the zeros too
        const float x = static_cast<float>(k) * 0.004f + 0.0001f;
        worst_sin = std::max(worst_sin, ulps(vector_math::sin(x), std::sin(static_cast<double>(x))));
        worst_cos = std::max(worst_cos, ulps(vector_math::cos(x), std::cos(static_cast<double>(x))));
    }
    INFO("log " << worst_log << ", log1p " << worst_log1p << ", expm1 " << worst_expm1 << ", sin " << worst_sin
                << ", cos " << worst_cos << " ulp");
    CHECK(worst_log <= 2.0);
    CHECK(worst_log1p <= 2.0);
    CHECK(worst_expm1 <= 2.0);
    CHECK(worst_sin <= 2.0);
    CHECK(worst_cos <= 2.0);
}

TEST_CASE("vector_math log's, log1p's and expm1's edges, and the kernels beyond vector_math's range") {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    CHECK(vector_math::log(0.0f) == -inf);
    CHECK(std::isnan(vector_math::log(-1.0f)));
    CHECK(vector_math::log(inf) == inf);
    CHECK(std::isnan(vector_math::log(nan)));
    CHECK(vector_math::log(1.0f) == 0.0f);
    CHECK(vector_math::log1p(-1.0f) == -inf);
    CHECK(std::isnan(vector_math::log1p(-2.0f)));
    CHECK(vector_math::log1p(inf) == inf);
    CHECK(vector_math::log1p(1e-30f) == 1e-30f);
    CHECK(vector_math::expm1(-100.0f) == -1.0f);
    CHECK(vector_math::expm1(1e-30f) == 1e-30f);
    CHECK(std::isnan(vector_math::expm1(nan)));
    CHECK(vector_math::sin(0.0f) == 0.0f);
    CHECK(vector_math::cos(0.0f) == 1.0f);
    CHECK(vector_math::sin(-1.0f) == -vector_math::sin(1.0f));
    // Beyond |x| = 8192 and for NaN: NaN, with no undefined float-to-int conversion (the engine
    // fuzzer's UBSan found one), for the kernels to replace.
    CHECK(std::isnan(vector_math::sin(1e30f)));
    CHECK(std::isnan(vector_math::cos(-inf)));
    CHECK(std::isnan(vector_math::sin(nan)));
    // The kernels take what vector_math does not cover from the C library: the same bits.
    const Array x{1e5f, -3e4f, 88.5f, 0.5f, nan, inf};
    const Array s = kernels::sin(x), c = kernels::cos(x), e = kernels::expm1(x);
    CHECK(s(0) == std::sin(1e5f));
    CHECK(c(1) == std::cos(-3e4f));
    CHECK(e(2) == std::expm1(88.5f));
    CHECK(e(5) == inf);
    CHECK(s(3) == vector_math::sin(0.5f));
    CHECK(std::isnan(s(4)));
    CHECK(std::isnan(c(5)));
}
