// Normalization and dropout (functional; the layers that hold their parameters are in nn/).
//
//   dropout(x, p, training)    training: y = x * m / (1 - p), m ~ Bernoulli(1 - p) drawn from
//                              the library's generator (manual_seed reproduces it); p = 1 gives
//                              zeros. Not training (or p = 0): y = x.   dx = dy * m / (1 - p)
//
//   layer_norm(x, shape, w, b, eps)    over the last len(shape) axes of x, which must equal shape:
//   batch_norm(x, ..., training)       over every axis but 1 (the channels) of [N, C] or [N, C, H, W]:
//       x^ = (x - mean) / sqrt(var + eps), var the biased variance; y = x^ * w + b
//       (w and b have `shape` for layer_norm and [C] for batch_norm; either may be undefined)
//       dx = (g - mean(g) - x^ mean(g x^)) / sqrt(var + eps), g = dy * w, the means over the
//       normalized axes;  dw = sum of dy x^, db = sum of dy, over the others
//
//   batch_norm in training also updates the running statistics in place (when given), as torch:
//       running_mean = (1 - momentum) running_mean + momentum mean
//       running_var  = (1 - momentum) running_var  + momentum var * n / (n - 1)   (unbiased)
//   and refuses a batch with one value per channel. In evaluation it uses them instead:
//       y = (x - running_mean) / sqrt(running_var + eps) * w + b
#pragma once

#include <vector>

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor dropout(const Tensor& x, float p, bool training);
Tensor layer_norm(const Tensor& x, const std::vector<std::size_t>& normalized_shape,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  float eps = 1e-5f);
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training,
                  float momentum = 0.1f, float eps = 1e-5f);

// max_pool2d(relu(batch_norm(x, ..., training = true)), 2, 2) as one op
// "batch_norm_relu_max_pool2d", which nn::Sequential runs for BatchNorm2D, ReLU and MaxPool2D(2)
// in training: the same values, running statistics and gradients, bit for bit, without the
// normalized array between the three (each channel is normalized, rectified and pooled while it
// is in cache, and backward builds the normalization's gradient one channel at a time). Where it
// does not apply (x not 4-D, a plane smaller than 2 x 2) it runs the three ops.
Tensor batch_norm_relu_max_pool2d(const Tensor& x, const Tensor& running_mean,
                                  const Tensor& running_var, const Tensor& weight,
                                  const Tensor& bias, float momentum = 0.1f, float eps = 1e-5f);

}  // namespace tapegrad
