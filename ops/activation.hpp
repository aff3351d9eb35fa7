// Activations.
//
//   relu:        y = max(0, x)                  dx = dy where x > 0, else 0
//   sigmoid:     y = 1 / (1 + e^-x)             dx = dy * y * (1 - y)
//   tanh:        y = tanh x                     dx = dy * (1 - y^2)
//   softmax:     y_i = e^(x_i - m) / sum_j e^(x_j - m),  m = max_j x_j (for stability)
//                dx_i = y_i * (dy_i - sum_j dy_j y_j)
//   log_softmax: y_i = x_i - m - ln sum_j e^(x_j - m)
//                dx_i = dy_i - softmax(x)_i * sum_j dy_j
//   leaky_relu:  y = x if x > 0 else slope x      dx = dy (1 or slope)
//   elu:         y = x if x > 0 else a (e^x - 1)  dx = dy (1 or y + a)
//   silu:        y = x sigmoid(x)                 dx = dy (s + x s (1 - s)), s = sigmoid(x)
//   gelu:        y = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2 (the normal CDF)
//                dx = dy (Phi(x) + x phi(x)), phi(x) = e^(-x^2/2) / sqrt(2 pi)
//   gelu tanh:   y = x (1 + tanh u) / 2, u = sqrt(2/pi) (x + 0.044715 x^3)
//                dx = dy ((1 + t) / 2 + x (1 - t^2) u' / 2), t = tanh u
//   softplus:    y = ln(1 + e^(beta x)) / beta, or x where beta x > threshold
//                dx = dy sigmoid(beta x), or dy above the threshold
//
// Shapes: the output has the input's shape; softmax and log_softmax normalise along `axis`
// (default: the last), and are finite for any finite input, even logits of +-1000.
#pragma once

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor softmax(const Tensor& x, int axis = -1);
Tensor log_softmax(const Tensor& x, int axis = -1);
Tensor leaky_relu(const Tensor& x, float negative_slope = 0.01f);
Tensor elu(const Tensor& x, float alpha = 1.0f);
Tensor silu(const Tensor& x);
enum class GeluApproximation { none, tanh };
Tensor gelu(const Tensor& x, GeluApproximation approximate = GeluApproximation::none);
Tensor softplus(const Tensor& x, float beta = 1.0f, float threshold = 20.0f);

// The plain arrays, for code that needs the numbers without a tape (losses, metrics).
Array softmax_array(const Array& x, int axis = -1);
Array log_softmax_array(const Array& x, int axis = -1);

}  // namespace tapegrad
