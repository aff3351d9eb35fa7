// Losses: a prediction a and a target y give a loss per element (per sample for the class
// losses), then a reduction. Each loss is one fused record: its backward writes dl/da directly.
// Targets are read as plain values and never receive a gradient.
//
//   zero_one         a: [N, C] scores      y: [N] class indices
//                    l = 0 if argmax_k a_k = y, else 1            no gradient: backward throws
//   absolute         a: any shape          y: same shape
//                    l = |a - y|                                  dl/da = sign(a - y)  (0 at a = y)
//   hinge            a: raw scores         y: same shape, +1 or -1 (0 is read as -1)
//                    l = max(0, 1 - y a)                          dl/da = -y where y a < 1, else 0
//   log              a: probabilities      y: same shape, 0 or 1
//                    l = -[y ln c + (1 - y) ln(1 - c)]            dl/da = (c - y) / (c (1 - c))
//                    with c = clamp(a, eps, 1 - eps)              (0 where the clamp is active)
//   log_with_logits  z: raw scores         y: same shape, 0 or 1
//                    l = max(z, 0) - z y + ln(1 + e^-|z|)         dl/dz = sigmoid(z) - y
//                    (the log loss of a = sigmoid(z), finite for any finite z)
//   squared          a: any shape          y: same shape
//                    l = (a - y)^2                                dl/da = 2 (a - y)
//   exponential      a: raw scores         y: same shape, +1 or -1 (0 is read as -1)
//                    l = e^(-y a)                                 dl/da = -y e^(-y a)
//   cross_entropy    a: [N, C] logits      y: [N] class indices, or [N, C] probabilities
//                    l = -sum_k y_k ln softmax(a)_k               dl/da = softmax(a) - y
//                    (an index k is the one-hot row with y_k = 1)
//
// Reduction: mean (the default) averages over every element, so over the N samples for
// zero_one and cross_entropy (as PyTorch); sum adds them; none returns them ([N] for the class
// losses, the prediction's shape otherwise), and backward then takes a dy of that shape.
//
// log clamps a to [eps, 1 - eps] with eps = probability_eps: the loss stays finite at a = 0 or 1,
// and the gradient is that of the clamped value (0 where the clamp is active).
// Targets outside these conventions, shape mismatches, and predictions of log (or of
// cross_entropy_from_probabilities) outside [0, 1] are std::invalid_argument errors.
#pragma once

#include "../core/tensor.hpp"

namespace tapegrad {

enum class Reduction { mean, sum, none };

// The guard against ln 0 for losses that take probabilities.
inline constexpr float probability_eps = 1e-7f;

// Not differentiable: backward() through it throws std::logic_error. With the mean it is the
// error rate, 1 - accuracy. Ties in the scores go to the lowest class index.
Tensor zero_one_loss(const Tensor& scores, const Tensor& labels,
                     Reduction reduction = Reduction::mean);

Tensor absolute_loss(const Tensor& prediction, const Tensor& target,
                     Reduction reduction = Reduction::mean);
Tensor hinge_loss(const Tensor& scores, const Tensor& target,
                  Reduction reduction = Reduction::mean);
Tensor log_loss(const Tensor& probabilities, const Tensor& target,
                Reduction reduction = Reduction::mean);
Tensor log_loss_with_logits(const Tensor& logits, const Tensor& target,
                            Reduction reduction = Reduction::mean);
Tensor squared_loss(const Tensor& prediction, const Tensor& target,
                    Reduction reduction = Reduction::mean);
Tensor exponential_loss(const Tensor& scores, const Tensor& target,
                        Reduction reduction = Reduction::mean);

// Softmax and the log in one step through log-sum-exp: finite for logits of +-1000.
// With probability targets whose rows do not sum to 1 the gradient is softmax(a) sum_k y_k - y.
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     Reduction reduction = Reduction::mean);

// cross_entropy for predictions that already are probabilities (Paddle's use_softmax=False):
// l = -sum_k y_k ln max(a_k, eps), dl/da_k = -y_k / a_k (0 where a_k <= eps).
Tensor cross_entropy_from_probabilities(const Tensor& probabilities, const Tensor& target,
                                        Reduction reduction = Reduction::mean);

// Metrics (plain numbers, no tape).
//
// accuracy: the fraction of rows of [N, C] scores whose argmax is the [N] label.
// A binary classifier with one output per sample ([N] or [N, 1]) has no argmax to take; use
// binary_accuracy, which predicts class 1 where the output is > threshold: 0.5 for
// probabilities (after sigmoid), 0 for raw scores. Its labels are 0 or 1, and -1 counts as 0 so
// that +-1 targets of hinge and exponential work as they are.
float accuracy(const Tensor& scores, const Tensor& labels);
float binary_accuracy(const Tensor& predictions, const Tensor& labels, float threshold = 0.5f);

}  // namespace tapegrad
