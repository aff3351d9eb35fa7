// Reductions. Axes may be negative (counted from the end); keepdims keeps reduced axes as 1.
//
//   y = sum(x)       dx = dy broadcast back to x's shape
//   y = mean(x)      dx = dy / n broadcast back, n = number of elements reduced
//   y = max(x)       dx = dy / k at each of the k elements equal to y, 0 elsewhere (as torch.amax)
//   y = min(x)       alike
//   argmax, argmin   the index of the first largest (smallest) element, as a float; no gradient
//   y = logsumexp(x) = m + ln sum e^(x - m), m = max x (stable for +-1000)
//                    dx = dy e^(x - y) = dy softmax(x)
//   y = var(x)       sum (x - mean)^2 / (n - correction)     dx = dy 2 (x - mean) / (n - correction)
//   y = stddev(x)    sqrt(var(x))                           dx = dy (x - mean) / ((n - correction) y)
//
// sum(x) and mean(x) over all elements give a 0-d tensor (shape []), ready for backward().
#pragma once

#include <vector>

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, int axis, bool keepdims = false);
Tensor sum(const Tensor& x, std::vector<int> axes, bool keepdims = false);

Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, int axis, bool keepdims = false);
Tensor mean(const Tensor& x, std::vector<int> axes, bool keepdims = false);

Tensor max(const Tensor& x);
Tensor max(const Tensor& x, int axis, bool keepdims = false);
Tensor min(const Tensor& x);
Tensor min(const Tensor& x, int axis, bool keepdims = false);
Tensor argmax(const Tensor& x, int axis, bool keepdims = false);
Tensor argmin(const Tensor& x, int axis, bool keepdims = false);
Tensor logsumexp(const Tensor& x, int axis, bool keepdims = false);
// correction = 1: the unbiased estimate (torch's default); 0: the population variance. Without
// axes, over every element with correction 1.
Tensor var(const Tensor& x);
Tensor var(const Tensor& x, int axis, bool keepdims = false, int correction = 1);
Tensor var(const Tensor& x, std::vector<int> axes, bool keepdims = false, int correction = 1);
Tensor stddev(const Tensor& x);
Tensor stddev(const Tensor& x, int axis, bool keepdims = false, int correction = 1);
Tensor stddev(const Tensor& x, std::vector<int> axes, bool keepdims = false, int correction = 1);

// Turns a possibly negative axis into an index, or throws naming `op`, the axis and the rank.
std::size_t normalize_axis(const char* op, int axis, std::size_t rank);

}  // namespace tapegrad
