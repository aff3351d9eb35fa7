// Shared by the test files: random inputs and a gradcheck assertion that prints what failed.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include <doctest/doctest.h>
#include <tapegrad/tapegrad.hpp>

namespace tapegrad::test {

// Uniform values in [lo, hi), reproducible from the seed.
inline Array random_array(const Shape& shape, float lo = -1.0f, float hi = 1.0f,
                          std::uint32_t seed = 1) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> pick(lo, hi);
    Array a = Array::from_shape(shape);
    for (float& v : a) v = pick(gen);
    return a;
}

// Uniform magnitudes in [lo, hi) with random signs: keeps inputs away from the kinks at 0.
inline Array away_from_zero(const Shape& shape, float lo = 0.2f, float hi = 1.0f,
                            std::uint32_t seed = 2) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> pick(lo, hi);
    Array a = Array::from_shape(shape);
    for (float& v : a) v = (gen() % 2 ? 1.0f : -1.0f) * pick(gen);
    return a;
}

}  // namespace tapegrad::test

#define CHECK_GRAD(...)                                          \
    do {                                                         \
        const ::tapegrad::GradcheckResult check_ = (__VA_ARGS__); \
        INFO(check_.message);                                    \
        CHECK(check_.ok);                                        \
    } while (false)
