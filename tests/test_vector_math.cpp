// ops/vector_math.hpp against the C library: exp, sigmoid and tanh within a few units in the
// last place over their ranges, and the edges (clamping, NaN, signs).
#include <cmath>
#include <limits>

#include "helpers.hpp"
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
