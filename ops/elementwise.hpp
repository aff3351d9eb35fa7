// Elementwise math. Binary ops broadcast as NumPy and PyTorch do: shapes are aligned from the
// right and a dimension of 1 stretches; the gradient of a broadcast input is summed back to its
// shape (unbroadcast). A float on either side acts as a tensor of that constant.
//
//   y = a + b     da = dy                 db = dy
//   y = a - b     da = dy                 db = -dy
//   y = a * b     da = dy * b             db = dy * a
//   y = a / b     da = dy / b             db = -dy * a / b^2
//   y = -x        dx = -dy
//   y = e^x       dx = dy * y
//   y = ln x      dx = dy / x             (x > 0; ln 0 = -inf as in C)
//   y = |x|       dx = dy * sign(x)       (0 at x = 0)
//   y = x^p       dx = dy * p * x^(p-1)
//   y = sqrt x    dx = dy / (2 y)
//   y = clamp(x, lo, hi)   dx = dy where lo < x < hi, else 0
#pragma once

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);

Tensor operator+(const Tensor& a, float b);
Tensor operator+(float a, const Tensor& b);
Tensor operator-(const Tensor& a, float b);
Tensor operator-(float a, const Tensor& b);
Tensor operator*(const Tensor& a, float b);
Tensor operator*(float a, const Tensor& b);
Tensor operator/(const Tensor& a, float b);
Tensor operator/(float a, const Tensor& b);

Tensor operator-(const Tensor& x);

Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor pow(const Tensor& x, float p);
Tensor sqrt(const Tensor& x);
Tensor clamp(const Tensor& x, float lo, float hi);

// sin: dx = dy cos x      cos: dx = -dy sin x      log1p: y = ln(1 + x), dx = dy / (1 + x)
// expm1: y = e^x - 1, dx = dy (y + 1)      reciprocal: y = 1 / x, dx = -dy y^2
// square: dx = 2 dy x      sign, floor, round: piecewise constant, dx = 0 (as torch)
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor expm1(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor square(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor floor(const Tensor& x);
Tensor round(const Tensor& x);  // halves to even, as torch.round

// maximum(a, b), minimum(a, b): broadcasting; dy goes to the input taken, half to each at a tie
// (as torch), and NaN propagates.
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// where(c, a, b): a where c is nonzero, else b; all three broadcast. da = dy where c, db = dy
// elsewhere; no gradient to c.
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
// masked_fill(x, mask, v): v where mask is nonzero, else x; the mask broadcasts to x's shape.
// dx = dy where the mask is zero.
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);

// The broadcast shape of two shapes, or an error naming `op` and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

}  // namespace tapegrad
