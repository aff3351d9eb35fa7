#include "activation.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <xtensor/xmath.hpp>

#include "../backend/activation_kernels.hpp"
#include "../backend/kernels.hpp"
#include "../backend/parallel.hpp"
#include "../backend/vector_math.hpp"
#include "../core/tape.hpp"
#include "elementwise.hpp"
#include "reduce.hpp"

namespace tapegrad {


// Each activation: its value from backend/activation_kernels, its derivative as tensor ops, and
// a fast path that computes dx in one pass (the tensor forms take two to six).

Tensor relu(const Tensor& x) {  // dx = dy where x > 0
    return record("relu", {x}, kernels::relu(x.value()),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {
                      // The mask x > 0 is a constant: relu's second derivative is 0 (away from 0).
                      return Grads{dy * Tensor(xt::where(in[0].value() > 0.0f, 1.0f, 0.0f))};
                  },
                  fast_path([](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{Tensor(kernels::relu_backward(dy.value(), in[0].value()))};
                  }));
}

Tensor sigmoid(const Tensor& x) {  // dx = dy y (1 - y)
    return record("sigmoid", {x}, kernels::sigmoid(x.value()),
                  [](const Inputs&, const Tensor& y, const Tensor& dy) {
                      return Grads{dy * y * (1.0f - y)};
                  },
                  fast_path([](const Inputs&, const Tensor& y, const Tensor& dy) {
                      return Grads{Tensor(kernels::sigmoid_backward(dy.value(), y.value()))};
                  }));
}

Tensor tanh(const Tensor& x) {  // dx = dy (1 - y^2)
    return record("tanh", {x}, kernels::tanh(x.value()),
                  [](const Inputs&, const Tensor& y, const Tensor& dy) {
                      return Grads{dy * (1.0f - y * y)};
                  },
                  fast_path([](const Inputs&, const Tensor& y, const Tensor& dy) {
                      return Grads{Tensor(kernels::tanh_backward(dy.value(), y.value()))};
                  }));
}

Tensor leaky_relu(const Tensor& x, float negative_slope) {  // dx = dy (1, or s where x <= 0)
    const float s = negative_slope;
    return record("leaky_relu", {x}, kernels::leaky_relu(x.value(), s),
                  [s](const Inputs& in, const Tensor&, const Tensor& dy) {  // the slope: a constant
                      return Grads{dy * Tensor(detail::map(in[0].value(), [s](float v) {
                                       return v > 0.0f ? 1.0f : s;
                                   }))};
                  },
                  fast_path([s](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{Tensor(kernels::leaky_relu_backward(dy.value(), in[0].value(), s))};
                  }));
}

Tensor elu(const Tensor& x, float alpha) {  // dx = dy (1, or y + alpha where x <= 0)
    const float a = alpha;
    return record("elu", {x}, kernels::elu(x.value(), a),
                  [a](const Inputs& in, const Tensor& y, const Tensor& dy) {
                      const Array positive =
                          detail::map(in[0].value(), [](float v) { return v > 0.0f ? 1.0f : 0.0f; });
                      return Grads{dy * (Tensor(positive) + Tensor(Array(1.0f - positive)) * (y + a))};
                  },
                  fast_path([a](const Inputs& in, const Tensor& y, const Tensor& dy) {
                      return Grads{Tensor(kernels::elu_backward(dy.value(), in[0].value(), y.value(), a))};
                  }));
}

Tensor silu(const Tensor& x) {  // y = x s, s = sigmoid(x); dx = dy (s + x s (1 - s))
    return record("silu", {x}, kernels::silu(x.value()),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {
                      const Tensor s = sigmoid(in[0]);
                      return Grads{dy * (s + in[0] * s * (1.0f - s))};
                  });
}

namespace {

constexpr float inv_sqrt2 = 0.70710678118654752f;
constexpr float inv_sqrt_2pi = 0.39894228040143268f;  // 1 / sqrt(2 pi)
constexpr float sqrt_2_over_pi = 0.79788456080286536f;
constexpr float gelu_cubic = 0.044715f;

// d gelu(x)/dx = Phi(x) + x phi(x), an op of its own so that gelu is differentiable again: its
// derivative is phi(x) (2 - x^2).
Tensor gelu_slope(const Tensor& x) {
    const Array& v = x.value();
    Array slope = 0.5f * (1.0f + xt::erf(v * inv_sqrt2)) + v * inv_sqrt_2pi * xt::exp(-0.5f * v * v);
    return record("gelu_slope", {x}, std::move(slope),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {
                      const Tensor& v = in[0];
                      return Grads{dy * exp(square(v) * -0.5f) * (2.0f - square(v)) * inv_sqrt_2pi};
                  });
}

// The tanh form's slope: t = tanh(u(x)), u(x) = sqrt(2/pi) (x + 0.044715 x^3), as tensor ops.
Tensor gelu_tanh_slope(const Tensor& x) {
    const Tensor t = tanh((x + pow(x, 3.0f) * gelu_cubic) * sqrt_2_over_pi);
    const Tensor du = (square(x) * (3.0f * gelu_cubic) + 1.0f) * sqrt_2_over_pi;
    return (t + 1.0f) * 0.5f + x * (1.0f - square(t)) * du * 0.5f;
}

}  // namespace

Tensor gelu(const Tensor& x, GeluApproximation approximate) {
    if (approximate == GeluApproximation::tanh)
        return record("gelu_tanh", {x}, kernels::gelu_tanh(x.value()),
                      [](const Inputs& in, const Tensor&, const Tensor& dy) {
                          return Grads{dy * gelu_tanh_slope(in[0])};
                      },
                      fast_path([](const Inputs& in, const Tensor&, const Tensor& dy) {
                          return Grads{Tensor(kernels::gelu_tanh_backward(dy.value(), in[0].value()))};
                      }));
    return record("gelu", {x}, kernels::gelu(x.value()),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{dy * gelu_slope(in[0])};
                  },
                  fast_path([](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{Tensor(kernels::gelu_backward(dy.value(), in[0].value()))};
                  }));
}

Tensor softplus(const Tensor& x, float beta, float threshold) {
    if (!(beta > 0.0f) || !std::isfinite(beta))
        throw std::invalid_argument("softplus: beta must be positive and finite, got " +
                                    std::to_string(beta));
    const float b = beta, t = threshold;
    // dx = dy sigmoid(b x), and dy above the threshold (where y = x)
    return record("softplus", {x}, kernels::softplus(x.value(), b, t),
                  [b, t](const Inputs& in, const Tensor&, const Tensor& dy) {
                      const Array above =
                          detail::map(in[0].value(), [b, t](float v) { return b * v > t ? 1.0f : 0.0f; });
                      return Grads{dy * (sigmoid(in[0] * b) * Tensor(Array(1.0f - above)) + Tensor(above))};
                  });
}

Array softmax_array(const Array& x, int axis) {
    return kernels::softmax(x, normalize_axis("softmax", axis, x.dimension()));
}
Array log_softmax_array(const Array& x, int axis) {
    return kernels::log_softmax(x, normalize_axis("log_softmax", axis, x.dimension()));
}

Tensor softmax(const Tensor& x, int axis) {  // dx = y (dy - sum(dy y)) along the axis
    const std::size_t a = normalize_axis("softmax", axis, x.dim());
    return record("softmax", {x}, kernels::softmax(x.value(), a),
                  [axis](const Inputs&, const Tensor& y, const Tensor& dy) {
                      return Grads{y * (dy - sum(dy * y, axis, /*keepdims=*/true))};
                  },
                  fast_path([a](const Inputs&, const Tensor& y, const Tensor& dy) {
                      return Grads{Tensor(kernels::softmax_backward(dy.value(), y.value(), a))};
                  }));
}

Tensor log_softmax(const Tensor& x, int axis) {  // dx = dy - softmax(x) sum(dy), softmax(x) = e^y
    const std::size_t a = normalize_axis("log_softmax", axis, x.dim());
    return record("log_softmax", {x}, kernels::log_softmax(x.value(), a),
                  [axis](const Inputs&, const Tensor& y, const Tensor& dy) {
                      return Grads{dy - exp(y) * sum(dy, axis, /*keepdims=*/true)};
                  },
                  fast_path([a](const Inputs&, const Tensor& y, const Tensor& dy) {
                      return Grads{Tensor(kernels::log_softmax_backward(dy.value(), y.value(), a))};
                  }));
}

}  // namespace tapegrad
