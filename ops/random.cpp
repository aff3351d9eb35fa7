#include "random.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

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
    const std::uint64_t first_kept = static_cast<std::uint64_t>(std::max(threshold, 0.0));
    Array mask = Array::from_shape(shape);
    Generator& g = generator();
    std::lock_guard<std::mutex> lock(g.mutex);
    // Through the raw pointer: an xarray's own iterator steps a multi-index per element, which
    // cost more than the generator.
    float* out = mask.data();
    for (std::size_t i = 0; i < mask.size(); ++i) out[i] = (g.engine() >> 40) >= first_kept ? keep : 0.0f;
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
