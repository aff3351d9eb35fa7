// The activations' array kernels: each forward in one pass, and the fast paths of their
// derivatives (ops/activation.cpp), each dx in one pass where the tensor form takes several
// (docs/performance.md lists them; a test in tests/test_torch_reference.cpp holds each to its
// tensor form).
#pragma once

#include "array.hpp"

namespace tapegrad::kernels {

Array relu(const Array& x);
Array relu_backward(const Array& dy, const Array& x);         // dy where x > 0
Array sigmoid(const Array& x);
Array sigmoid_backward(const Array& dy, const Array& y);      // dy y (1 - y)
Array tanh(const Array& x);
Array tanh_backward(const Array& dy, const Array& y);         // dy (1 - y^2)
Array leaky_relu(const Array& x, float slope);
Array leaky_relu_backward(const Array& dy, const Array& x, float slope);
Array elu(const Array& x, float alpha);
Array elu_backward(const Array& dy, const Array& x, const Array& y, float alpha);
Array silu(const Array& x);
Array gelu(const Array& x);                                   // x Phi(x)
Array gelu_backward(const Array& dy, const Array& x);         // dy (Phi(x) + x phi(x))
Array gelu_tanh(const Array& x);
Array gelu_tanh_backward(const Array& dy, const Array& x);
Array softplus(const Array& x, float beta, float threshold);
// Along `axis` (normalized by the caller): y = softmax(x), and dx = y (dy - sum(dy y)).
Array softmax(const Array& x, std::size_t axis);
Array softmax_backward(const Array& dy, const Array& y, std::size_t axis);
// y = log_softmax(x), and dx = dy - e^y sum(dy).
Array log_softmax(const Array& x, std::size_t axis);
Array log_softmax_backward(const Array& dy, const Array& y, std::size_t axis);

}  // namespace tapegrad::kernels
