// The activations' array kernels: each forward in one pass, and the fast paths of their
// derivatives (ops/activation.cpp), each dx in one pass where the tensor form takes several
// (docs/performance.md lists them; a test in tests/test_torch_reference.cpp holds each to its
// tensor form).
#pragma once

#include "array.hpp"
#include "kernels.hpp"  // detail::same_t

namespace tapegrad::kernels {

template <class T>
using Setting = detail::same_t<T>;  // a float setting beside an ArrayOf<T>: T comes from the array

// Compiled for float and double.
template <class T>
ArrayOf<T> relu(const ArrayOf<T>& x);
template <class T>
ArrayOf<T> relu_backward(const ArrayOf<T>& dy, const ArrayOf<T>& x);     // dy where x > 0
template <class T>
ArrayOf<T> sigmoid_backward(const ArrayOf<T>& dy, const ArrayOf<T>& y);  // dy y (1 - y)
template <class T>
ArrayOf<T> tanh_backward(const ArrayOf<T>& dy, const ArrayOf<T>& y);     // dy (1 - y^2)
template <class T>
ArrayOf<T> leaky_relu(const ArrayOf<T>& x, Setting<T> slope);
template <class T>
ArrayOf<T> leaky_relu_backward(const ArrayOf<T>& dy, const ArrayOf<T>& x, Setting<T> slope);
template <class T>
ArrayOf<T> elu(const ArrayOf<T>& x, Setting<T> alpha);
template <class T>
ArrayOf<T> elu_backward(const ArrayOf<T>& dy, const ArrayOf<T>& x, const ArrayOf<T>& y,
                        Setting<T> alpha);
template <class T>
ArrayOf<T> silu(const ArrayOf<T>& x);
template <class T>
ArrayOf<T> gelu_tanh(const ArrayOf<T>& x);
template <class T>
ArrayOf<T> gelu_tanh_backward(const ArrayOf<T>& dy, const ArrayOf<T>& x);
template <class T>
ArrayOf<T> softplus(const ArrayOf<T>& x, Setting<T> beta, Setting<T> threshold);
// Along `axis` (normalized by the caller): dx = y (dy - sum(dy y)) for y = softmax(x), and
// dx = dy - e^y sum(dy) for y = log_softmax(x).
template <class T>
ArrayOf<T> softmax_backward(const ArrayOf<T>& dy, const ArrayOf<T>& y, std::size_t axis);
template <class T>
ArrayOf<T> log_softmax_backward(const ArrayOf<T>& dy, const ArrayOf<T>& y, std::size_t axis);

// float only: on vector_math's float approximations (backend/vector_math.hpp).
Array sigmoid(const Array& x);
Array tanh(const Array& x);
Array gelu(const Array& x);                                   // x Phi(x)
Array gelu_backward(const Array& dy, const Array& x);         // dy (Phi(x) + x phi(x))
// y = softmax(x) or log_softmax(x) along `axis`.
Array softmax(const Array& x, std::size_t axis);
Array log_softmax(const Array& x, std::size_t axis);
// The elementwise functions of ops/elementwise.cpp, within 2 ulp of the exact value: vectorised
// where vector_math is that exact (sin, cos: |x| <= 8192; expm1: x <= 88.37626), the C library
// beyond.
Array sin(const Array& x);
Array cos(const Array& x);
Array log1p(const Array& x);
Array expm1(const Array& x);

}  // namespace tapegrad::kernels
