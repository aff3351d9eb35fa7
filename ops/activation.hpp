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

// The plain arrays, for code that needs the numbers without a tape (losses, metrics).
Array softmax_array(const Array& x, int axis = -1);
Array log_softmax_array(const Array& x, int axis = -1);

}  // namespace tapegrad
