#include "random.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

#include "../backend/parallel.hpp"

namespace tapegrad {

namespace {

// PyTorch's default seed, so an unseeded program is reproducible as well.
constexpr std::uint64_t default_seed = 67280421310721ULL;

struct Generator {
    std::mutex mutex;
    std::mt19937_64 engine{default_seed};
};

Generator& generator() {
    static Generator g;
    return g;
}

}  // namespace

void manual_seed(std::uint64_t seed) {
    Generator& g = generator();
    std::lock_guard<std::mutex> lock(g.mutex);
    g.engine.seed(seed);
}

std::string generator_state() {
    Generator& g = generator();
    std::lock_guard<std::mutex> lock(g.mutex);
    std::ostringstream out;
    out << g.engine;
    return out.str();
}

void set_generator_state(const std::string& state) {
    std::mt19937_64 engine;
    std::istringstream in(state);
    in >> engine;
    if (in.fail())
        throw std::invalid_argument("set_generator_state: the text is not a state of the "
                                    "generator (it comes from generator_state())");
    Generator& g = generator();
    std::lock_guard<std::mutex> lock(g.mutex);
    g.engine = engine;
}

float unit_float(std::uint64_t bits) {
    // 24 bits: every k / 2^24 is a float, so the conversion and the scaling are exact.
    return static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);
}

Array keep_mask(const Shape& shape, float p, float keep) {
    const double threshold = std::ceil(static_cast<double>(p) * 16777216.0);  // 2^24
    const auto kept_from = static_cast<std::uint64_t>(std::max(threshold, 0.0));
    std::uint64_t key = 0;
    {
        Generator& g = generator();
        std::lock_guard<std::mutex> lock(g.mutex);
        key = g.engine();
    }
    Array mask = Array::from_shape(shape);
    float* out = mask.data();
    // SplitMix64's n-th output, n = i + 1: its state after n steps is key + n * gamma, then the
    // mix. No state carries from one element to the next, so the loop vectorises and splits.
    parallel_for(mask.size(), [&](std::size_t begin, std::size_t end, int) {
        for (std::size_t i = begin; i < end; ++i) {
            std::uint64_t z = key + (static_cast<std::uint64_t>(i) + 1) * 0x9E3779B97F4A7C15ULL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
            z ^= z >> 31;
            out[i] = static_cast<float>((z >> 40) >= kept_from) * keep;
        }
    }, min_floats_per_thread);
    return mask;
}

Array uniform_array(const Shape& shape, float lo, float hi) {
    if (!(lo <= hi))
        throw std::invalid_argument("uniform: lo must not exceed hi, got lo = " +
                                    std::to_string(lo) + ", hi = " + std::to_string(hi));
    Array a = Array::from_shape(shape);
    const float width = hi - lo;
    Generator& g = generator();
    std::lock_guard<std::mutex> lock(g.mutex);
    float* out = a.data();
    for (std::size_t i = 0; i < a.size(); ++i) out[i] = std::fma(width, unit_float(g.engine()), lo);
    return a;
}

Array normal_array(const Shape& shape, float mean, float std) {
    if (!(std >= 0.0f) || !std::isfinite(std) || !std::isfinite(mean))
        throw std::invalid_argument("normal: std must be finite and not negative and mean finite, "
                                    "got mean = " + std::to_string(mean) + ", std = " +
                                    std::to_string(std));
    Array a = Array::from_shape(shape);
    constexpr double two_pi = 6.283185307179586;
    Generator& g = generator();
    std::lock_guard<std::mutex> lock(g.mutex);
    for (float& v : a.storage()) {
        const double u1 = 1.0 - static_cast<double>(unit_float(g.engine()));  // (0, 1]: ln finite
        const double u2 = static_cast<double>(unit_float(g.engine()));
        const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(two_pi * u2);
        v = static_cast<float>(mean + std * z);
    }
    return a;
}

Tensor rand(const Shape& shape, bool requires_grad) {
    return Tensor(uniform_array(shape, 0.0f, 1.0f), requires_grad);
}

Tensor randn(const Shape& shape, bool requires_grad) {
    return Tensor(normal_array(shape, 0.0f, 1.0f), requires_grad);
}

}  // namespace tapegrad
