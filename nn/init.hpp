// Parameter initialisation, from the library's seeded generator (ops/random.hpp: manual_seed,
// and why the same seed gives the same weights everywhere).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/tensor.hpp"
#include "../ops/random.hpp"

namespace tapegrad {

namespace nn::init {

using tapegrad::unit_float;

// An array of the given shape, each element drawn from U(lo, hi) in row-major order.
inline Array uniform(const Shape& shape, float lo, float hi) { return uniform_array(shape, lo, hi); }

// In place, through mutable_value() (never recorded on the tape).
void uniform_(const Tensor& t, float lo, float hi);
void zeros_(const Tensor& t);
void constant_(const Tensor& t, float value);

// fan_in of a weight, as PyTorch counts it: shape[1] times the product of the remaining axes
// (in for a Linear weight [out, in]; in_ch * kh * kw for a Conv2D weight [out, in_ch, kh, kw]).
std::size_t fan_in(const Shape& weight_shape);

// PyTorch's kaiming_uniform_ in mode fan_in for a leaky ReLU of negative slope a:
//   gain = sqrt(2 / (1 + a^2)),  bound = sqrt(3) * gain / sqrt(fan_in),  w ~ U(-bound, bound).
// With a = sqrt(5) (what Linear and Conv2D use) the bound is 1 / sqrt(fan_in).
float kaiming_uniform_bound(double a, std::size_t fan_in);
void kaiming_uniform_(const Tensor& weight, double a = 0.0);

// The rest of torch.nn.init, with torch's gains and fan modes:
//   normal_(t, mean, std)        N(mean, std^2)            ones_(t)     every element 1
//   calculate_gain(nonlinearity, param): linear, conv*, sigmoid 1; tanh 5/3; relu sqrt 2;
//       leaky_relu sqrt(2 / (1 + slope^2)) (slope = param, default 0.01); selu 3/4
//   xavier_uniform_(t, gain)     U(-a, a), a = gain sqrt(6 / (fan_in + fan_out))
//   xavier_normal_(t, gain)      N(0, std^2), std = gain sqrt(2 / (fan_in + fan_out))
//   kaiming_uniform_(t, a, mode, nonlinearity)   U(-b, b), b = sqrt 3 gain / sqrt(fan)
//   kaiming_normal_(t, a, mode, nonlinearity)    N(0, std^2), std = gain / sqrt(fan)
//       fan = fan_in or fan_out (mode); gain = calculate_gain(nonlinearity, a)
//   orthogonal_(t, gain)         t viewed as [rows, rest] gets orthonormal rows (or columns, if
//       fewer): Q of the QR factorisation of a N(0, 1) matrix, with R's diagonal made positive,
//       times gain
// fan_out counts shape[0] times the product of the axes after the second, as torch.
enum class FanMode { fan_in, fan_out };
std::size_t fan_out(const Shape& weight_shape);
double calculate_gain(const std::string& nonlinearity, double param = 0.01);
void normal_(const Tensor& t, float mean = 0.0f, float std = 1.0f);
void ones_(const Tensor& t);
void xavier_uniform_(const Tensor& t, double gain = 1.0);
void xavier_normal_(const Tensor& t, double gain = 1.0);
void kaiming_uniform_(const Tensor& t, double a, FanMode mode,
                      const std::string& nonlinearity = "leaky_relu");
void kaiming_normal_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                     const std::string& nonlinearity = "leaky_relu");
void orthogonal_(const Tensor& t, double gain = 1.0);

}  // namespace nn::init
}  // namespace tapegrad
