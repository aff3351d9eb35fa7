// Making tensors without spelling out an xtensor expression. None records anything; each gives a
// leaf, which requires a gradient when asked.
//
//   zeros({2, 3})  ones({4})  full({2, 2}, 0.5f)    filled with one value
//   zeros_like(t)  ones_like(t)                     the shape of t
//   arange(0, 5)   -> 0 1 2 3 4                     begin, begin + step, ... below end (above
//   arange(1, 0, -0.25f) -> 1 0.75 0.5 0.25          end for a negative step), as torch.arange
//   linspace(0, 1, 5) -> 0 0.25 0.5 0.75 1          steps values from start to end, both included
#pragma once

#include <cstddef>

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor zeros(const Shape& shape, bool requires_grad = false);
Tensor ones(const Shape& shape, bool requires_grad = false);
Tensor full(const Shape& shape, float value, bool requires_grad = false);
Tensor zeros_like(const Tensor& t, bool requires_grad = false);
Tensor ones_like(const Tensor& t, bool requires_grad = false);
Tensor arange(float begin, float end, float step = 1.0f, bool requires_grad = false);
Tensor linspace(float start, float end, std::size_t steps, bool requires_grad = false);

}  // namespace tapegrad
