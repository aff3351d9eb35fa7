#include "init.hpp"

#include <cmath>
#include <mutex>
#include <random>
#include <stdexcept>

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

namespace nn::init {

float unit_float(std::uint64_t bits) {
    // 24 bits: every k / 2^24 is a float, so the conversion and the scaling are exact.
    return static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);
}

Array uniform(const Shape& shape, float lo, float hi) {
    if (!(lo <= hi))
        throw std::invalid_argument("uniform: lo must not exceed hi, got lo = " +
                                    std::to_string(lo) + ", hi = " + std::to_string(hi));
    Array a = Array::from_shape(shape);
    const float width = hi - lo;
    Generator& g = generator();
    std::lock_guard<std::mutex> lock(g.mutex);
    for (float& v : a) v = std::fma(width, unit_float(g.engine()), lo);
    return a;
}

void uniform_(const Tensor& t, float lo, float hi) {
    t.mutable_value() = uniform(t.shape(), lo, hi);
}

void zeros_(const Tensor& t) { t.mutable_value().fill(0.0f); }

void constant_(const Tensor& t, float value) { t.mutable_value().fill(value); }

std::size_t fan_in(const Shape& weight_shape) {
    if (weight_shape.size() < 2)
        throw std::invalid_argument("fan_in: needs a weight with at least 2 dimensions, got " +
                                    shape_str(weight_shape));
    std::size_t fan = weight_shape[1];
    for (std::size_t i = 2; i < weight_shape.size(); ++i) fan *= weight_shape[i];
    return fan;
}

float kaiming_uniform_bound(double a, std::size_t fan_in) {
    if (fan_in == 0)
        throw std::invalid_argument("kaiming_uniform: fan_in is 0, so the bound 1/sqrt(fan_in) "
                                    "is infinite; give the layer at least one input");
    // fma, not 1 + a * a: a compiler may contract the latter differently on each platform.
    const double gain = std::sqrt(2.0 / std::fma(a, a, 1.0));
    const double std_dev = gain / std::sqrt(static_cast<double>(fan_in));
    return static_cast<float>(std::sqrt(3.0) * std_dev);
}

void kaiming_uniform_(const Tensor& weight, double a) {
    const float bound = kaiming_uniform_bound(a, fan_in(weight.shape()));
    uniform_(weight, -bound, bound);
}

}  // namespace nn::init
}  // namespace tapegrad
