#include "init.hpp"

#include <cmath>
#include <stdexcept>

namespace tapegrad {

namespace nn::init {

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
