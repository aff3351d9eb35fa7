// Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_. Both change the
// gradients in place (Tensor::mutable_grad) and skip parameters without a gradient.
//
//   clip_grad_norm(params, max_norm, p = 2)   total = (sum over every gradient element |g|^p)^(1/p)
//       (p = infinity: the largest |g|); each gradient is multiplied by
//       min(1, max_norm / (total + 1e-6)); returns total (before clipping). A total that is
//       NaN or infinite is an error naming it, unless error_if_nonfinite is false.
//   clip_grad_value(params, clip)              each element clamped to [-clip, clip]
#pragma once

#include <limits>
#include <vector>

#include "../core/tensor.hpp"

namespace tapegrad::optim {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                      bool error_if_nonfinite = true);
void clip_grad_value(const std::vector<Tensor>& params, double clip);

}  // namespace tapegrad::optim
