// Array kernels several ops share, written as plain loops: xtensor's broadcasting and
// transposing assignments walk a multi-index per element and cost ten times these.
#pragma once

#include <vector>

#include "../core/tensor.hpp"

namespace tapegrad::detail {

// x broadcast to `shape` (NumPy's rules: x's axes aligned from the right, 1 stretches), as a
// new contiguous array.
Array broadcast_to(const Array& x, const Shape& shape);

// x with its axes reordered: axis i of the result is axis perm[i] of x.
Array permuted(const Array& x, const std::vector<std::size_t>& perm);

}  // namespace tapegrad::detail
