#include "init.hpp"

#include <algorithm>
#include <cmath>
#include <vector>
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

std::size_t fan_out(const Shape& weight_shape) {
    if (weight_shape.size() < 2)
        throw std::invalid_argument("fan_out: needs a weight with at least 2 dimensions, got " +
                                    shape_str(weight_shape));
    std::size_t fan = weight_shape[0];
    for (std::size_t i = 2; i < weight_shape.size(); ++i) fan *= weight_shape[i];
    return fan;
}

double calculate_gain(const std::string& nonlinearity, double param) {
    if (nonlinearity == "linear" || nonlinearity == "sigmoid" || nonlinearity == "identity" ||
        nonlinearity.rfind("conv", 0) == 0)
        return 1.0;
    if (nonlinearity == "tanh") return 5.0 / 3.0;
    if (nonlinearity == "relu") return std::sqrt(2.0);
    if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / std::fma(param, param, 1.0));
    if (nonlinearity == "selu") return 3.0 / 4.0;
    throw std::invalid_argument("calculate_gain: unknown nonlinearity '" + nonlinearity +
                                "'; use linear, conv2d, sigmoid, tanh, relu, leaky_relu or selu");
}

void normal_(const Tensor& t, float mean, float std) {
    t.mutable_value() = normal_array(t.shape(), mean, std);
}

void ones_(const Tensor& t) { t.mutable_value().fill(1.0f); }

namespace {

double xavier_std(const Tensor& t, double gain) {
    const std::size_t fans = fan_in(t.shape()) + fan_out(t.shape());
    if (fans == 0) throw std::invalid_argument("xavier: the weight " + shape_str(t.shape()) +
                                               " has no fan");
    return gain * std::sqrt(2.0 / static_cast<double>(fans));
}

double kaiming_std(const Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
    const std::size_t fan = mode == FanMode::fan_in ? fan_in(t.shape()) : fan_out(t.shape());
    if (fan == 0) throw std::invalid_argument("kaiming: the weight " + shape_str(t.shape()) +
                                              " has a fan of 0");
    return calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}

}  // namespace

void xavier_uniform_(const Tensor& t, double gain) {
    const float a = static_cast<float>(std::sqrt(3.0) * xavier_std(t, gain));
    uniform_(t, -a, a);
}

void xavier_normal_(const Tensor& t, double gain) {
    normal_(t, 0.0f, static_cast<float>(xavier_std(t, gain)));
}

void kaiming_uniform_(const Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
    const float bound = static_cast<float>(std::sqrt(3.0) * kaiming_std(t, a, mode, nonlinearity));
    uniform_(t, -bound, bound);
}

void kaiming_normal_(const Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
    normal_(t, 0.0f, static_cast<float>(kaiming_std(t, a, mode, nonlinearity)));
}

void orthogonal_(const Tensor& t, double gain) {
    if (t.dim() < 2)
        throw std::invalid_argument("orthogonal_: needs at least 2 dimensions, got " +
                                    shape_str(t.shape()));
    const std::size_t rows = t.shape()[0], cols = t.size() / std::max<std::size_t>(rows, 1);
    // Orthonormalise the shorter side: a [n, m] matrix with n >= m, as torch (which transposes
    // when rows < cols). Modified Gram-Schmidt in double is Q of the QR factorisation with a
    // positive diagonal of R, which is what torch's sign correction gives.
    const bool transposed = rows < cols;
    const std::size_t n = transposed ? cols : rows, m = transposed ? rows : cols;
    const Array drawn = normal_array({n, m}, 0.0f, 1.0f);
    std::vector<double> q(drawn.begin(), drawn.end());  // [n, m], column k is q[i * m + k]
    for (std::size_t k = 0; k < m; ++k) {
        for (std::size_t j = 0; j < k; ++j) {
            double dot = 0.0;
            for (std::size_t i = 0; i < n; ++i) dot += q[i * m + j] * q[i * m + k];
            for (std::size_t i = 0; i < n; ++i) q[i * m + k] -= dot * q[i * m + j];
        }
        double norm = 0.0;
        for (std::size_t i = 0; i < n; ++i) norm += q[i * m + k] * q[i * m + k];
        norm = std::sqrt(norm);
        for (std::size_t i = 0; i < n; ++i) q[i * m + k] /= norm;
    }
    Array& value = t.mutable_value();
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
            value.data()[r * cols + c] =
                static_cast<float>(gain * (transposed ? q[c * m + r] : q[r * m + c]));
}

}  // namespace nn::init
}  // namespace tapegrad
