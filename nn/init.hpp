// Parameter initialisation from one process-wide random generator, reproducible everywhere.
//
// manual_seed(s) resets the generator, as torch.manual_seed does; layers draw their parameters
// from it when they are constructed, so the same seed and the same construction order give the
// same model, bit for bit, on every platform and compiler:
//
//   - the generator is std::mt19937_64, whose output sequence the C++ standard fixes;
//   - its 64-bit draws become floats by our own mapping, not std::uniform_real_distribution
//     (whose algorithm each standard library picks): the top 24 bits give u = k / 2^24 in
//     [0, 1), exactly representable as a float, and the value is fma(hi - lo, u, lo), a single
//     correctly rounded operation (written as fma so no compiler can fuse or split it);
//   - bounds are computed in double with correctly rounded operations only (sqrt, *, /, fma).
//
// Until the first manual_seed the generator starts from a fixed seed, so an unseeded program is
// reproducible too. Drawing is thread-safe; each fill takes its numbers in one uninterrupted run.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/tensor.hpp"

namespace tapegrad {

void manual_seed(std::uint64_t seed);

namespace nn::init {

// The mapping above, for one 64-bit draw: a float in [0, 1).
float unit_float(std::uint64_t bits);

// An array of the given shape, each element drawn from U(lo, hi) in row-major order.
Array uniform(const Shape& shape, float lo, float hi);

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
