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
#include "options.hpp"  // TAPEGRAD_OPTION

namespace tapegrad {

// batchmean (the sum divided by the batch size, the first dimension) is kl_div's only.
enum class Reduction { mean, sum, none, batchmean };

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

// cross_entropy for predictions that already are probabilities (Paddle's use_softmax=False):
// l = -sum_k y_k ln max(a_k, eps), dl/da_k = -y_k / a_k (0 where a_k <= eps).
Tensor cross_entropy_from_probabilities(const Tensor& probabilities, const Tensor& target,
                                        Reduction reduction = Reduction::mean);

// PyTorch's losses, with torch.nn.functional's names, arguments and formulas (torch 1.13; checked
// against it in tests/test_torch_losses.cpp). `weight`s are optional (an undefined Tensor: none)
// and broadcast to the losses' shape; targets never receive a gradient.
//
//   mse_loss, l1_loss        squared_loss and absolute_loss under torch's names
//   binary_cross_entropy     p: probabilities in [0, 1]   y: same shape, anywhere in [0, 1]
//                            l = -w [y max(ln p, -100) + (1 - y) max(ln(1 - p), -100)]
//                            dl/dp = w (p - y) / max(p (1 - p), 1e-12)
//   binary_cross_entropy_    z: raw scores                y: same shape, in [0, 1]
//     with_logits            l = w [(1 - y) z + q (ln(1 + e^-|z|) + max(-z, 0))],
//                            q = 1 + (pos_weight - 1) y   dl/dz = w [(1 - y) + q (sigmoid(z) - 1)]
//                            pos_weight broadcasts along the last axis (one per class)
//   nll_loss                 a: [N, C] log-probabilities  y: [N] class indices
//                            l_n = -w_{y_n} a_{n, y_n}, 0 where y_n = ignore_index; the mean
//                            divides by the sum of w_{y_n} over the samples not ignored
//   cross_entropy            nll_loss of log_softmax(a), or with [N, C] probability targets
//     (CrossEntropyOptions)  -sum_k w_k y_nk log_softmax(a)_nk; label_smoothing e mixes in the
//                            uniform target: (1 - e) l + e/C (-sum_k w_k log_softmax(a)_nk)
//   smooth_l1_loss           d = a - y: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta
//   huber_loss               d = a - y: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)
//   kl_div                   a: log-probabilities  y: probabilities (log-probabilities with
//                            log_target): l = y (ln y - a), 0 where y = 0; batchmean divides
//                            the sum by the batch size, as the KL divergence's definition does
//
// Where they differ from torch: targets outside [0, 1] for the binary losses, and class indices
// that are neither a class nor ignore_index, are errors (torch computes with the former); a mean
// over a batch whose every sample is ignored is 0 with no gradient (torch gives nan).
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                            Reduction reduction = Reduction::mean);
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight = {}, const Tensor& pos_weight = {},
                                        Reduction reduction = Reduction::mean);
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                long ignore_index = -100, Reduction reduction = Reduction::mean);

// cross_entropy(logits, y), cross_entropy(logits, y, Reduction::sum), or torch's
// F::CrossEntropyFuncOptions: cross_entropy(logits, y, CrossEntropyOptions().weight(w)
// .ignore_index(0).label_smoothing(0.1).reduction(Reduction::sum)). Softmax and the log in one
// step through log-sum-exp: finite for logits of +-1000. With probability targets whose rows do
// not sum to 1 the gradient is softmax(a) sum_k y_k - y.
struct CrossEntropyOptions {
    CrossEntropyOptions(Reduction reduction = Reduction::mean)  // NOLINT: implicit, see above
        : reduction_(reduction) {}
    TAPEGRAD_OPTION(Tensor, weight, Tensor())  // one per class; undefined: all 1
    TAPEGRAD_OPTION(long, ignore_index, -100)   // class-index targets only
    TAPEGRAD_OPTION(double, label_smoothing, 0.0)
    TAPEGRAD_OPTION(Reduction, reduction, Reduction::mean)
};
Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyOptions& options = {});

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                      Reduction reduction = Reduction::mean, double beta = 1.0);
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean,
                  double delta = 1.0);
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean,
              bool log_target = false);

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
