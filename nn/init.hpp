// Parameter initialisation, from the library's seeded generator (ops/random.hpp: manual_seed,
// and why the same seed gives the same weights everywhere).
#pragma once

#include <cstddef>
#include <cstdint>

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

}  // namespace nn::init
}  // namespace tapegrad
