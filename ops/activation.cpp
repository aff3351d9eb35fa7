#include "activation.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <xtensor/xmath.hpp>

#include "../backend/kernels.hpp"
#include "../backend/parallel.hpp"
#include "../backend/vector_math.hpp"
#include "../core/tape.hpp"
#include "elementwise.hpp"
#include "reduce.hpp"

namespace tapegrad {

using Grads = std::vector<Tensor>;  // what a tensor backward returns: dx of each input

Tensor relu(const Tensor& x) {
    // Plain loops: the hottest elementwise op of a CNN, and xtensor's where() does not vectorise.
    // Large arrays are split over the threads (backend/parallel.hpp).
    const Array& v = x.value();
    Array y = Array::from_shape(v.shape());
    const float* __restrict in = v.data();
    float* __restrict out = y.data();
    parallel_for(v.size(), [&](std::size_t begin, std::size_t end, int) {
        for (std::size_t i = begin; i < end; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
    }, min_floats_per_thread);
    return record("relu", {x}, std::move(y), [x](const Array& dy, const Array&) {
        Array dx = Array::from_shape(dy.shape());
        const float* __restrict in = x.value().data();
        const float* __restrict g = dy.data();
        float* __restrict out = dx.data();
        parallel_for(dy.size(), [&](std::size_t begin, std::size_t end, int) {
            for (std::size_t i = begin; i < end; ++i) {
                const float xi = in[i], gi = g[i];  // both loaded: a select the compiler vectorises
                out[i] = xi > 0.0f ? gi : 0.0f;
            }
        }, min_floats_per_thread);
        x.accumulate_grad(std::move(dx));
    }, [](const Grads& in, const Tensor&, const Tensor& dy) {
        // The mask x > 0 is a constant: relu's second derivative is 0 (away from x = 0).
        return Grads{dy * Tensor(xt::where(in[0].value() > 0.0f, 1.0f, 0.0f))};
    });
}

// sigmoid and tanh from ops/vector_math (within 3 and 2 units in the last place), so the loops
// vectorise; the C library's expf and tanhf went one element at a time.
Tensor sigmoid(const Tensor& x) {
    return record(
        "sigmoid", {x}, detail::map(x.value(), [](float v) { return vector_math::sigmoid(v); }),
        [x](const Array& dy, const Array& y) {
            x.accumulate_grad(detail::map(dy, y, [](float g, float s) { return g * s * (1.0f - s); }));
        },
        [](const Grads&, const Tensor& y, const Tensor& dy) { return Grads{dy * y * (1.0f - y)}; });
}

Tensor tanh(const Tensor& x) {
    return record(
        "tanh", {x}, detail::map(x.value(), [](float v) { return vector_math::tanh(v); }),
        [x](const Array& dy, const Array& y) {
            x.accumulate_grad(detail::map(dy, y, [](float g, float t) { return g * (1.0f - t * t); }));
        },
        [](const Grads&, const Tensor& y, const Tensor& dy) { return Grads{dy * (1.0f - y * y)}; });
}

Tensor leaky_relu(const Tensor& x, float negative_slope) {
    const float s = negative_slope;
    // Written without branches (max, min, a 0/1 factor): the sign of x is random, and a branch on
    // it is mispredicted half the time, which cost ten times the arithmetic.
    return record(
        "leaky_relu", {x},
        detail::map(x.value(), [s](float v) { return std::max(v, 0.0f) + s * std::min(v, 0.0f); }),
        [x, s](const Array& dy, const Array&) {
            x.accumulate_grad(detail::map(dy, x.value(), [s](float g, float v) {
                const float positive = static_cast<float>(v > 0.0f);
                return g * (s + (1.0f - s) * positive);
            }));
        },
        [s](const Grads& in, const Tensor&, const Tensor& dy) {  // the slope: a constant
            return Grads{dy * Tensor(detail::map(in[0].value(), [s](float v) { return v > 0.0f ? 1.0f : s; }))};
        });
}

Tensor elu(const Tensor& x, float alpha) {
    const float a = alpha;
    return record(
        "elu", {x},
        detail::map(x.value(), [a](float v) {
            return std::max(v, 0.0f) + a * std::expm1(std::min(v, 0.0f));  // no branch, as above
        }),
        [x, a](const Array& dy, const Array& y) {
            x.accumulate_grad(detail::map(dy, x.value(), y, [a](float g, float v, float out) {
                const float positive = static_cast<float>(v > 0.0f);
                return g * (positive + (1.0f - positive) * (out + a));
            }));
        },
        [a](const Grads& in, const Tensor& y, const Tensor& dy) {
            const Array positive = detail::map(in[0].value(), [](float v) { return v > 0.0f ? 1.0f : 0.0f; });
            return Grads{dy * (Tensor(positive) + Tensor(Array(1.0f - positive)) * (y + a))};
        });
}

Tensor silu(const Tensor& x) {
    return record(
        "silu", {x}, detail::map(x.value(), [](float v) { return v / (1.0f + std::exp(-v)); }),
        [x](const Array& dy, const Array&) {
            x.accumulate_grad(detail::map(dy, x.value(), [](float g, float v) {
                const float s = 1.0f / (1.0f + std::exp(-v));
                return g * (s + v * s * (1.0f - s));
            }));
        },
        [](const Grads& in, const Tensor&, const Tensor& dy) {
            const Tensor s = sigmoid(in[0]);
            return Grads{dy * (s + in[0] * s * (1.0f - s))};
        });
}

namespace {

constexpr float inv_sqrt2 = 0.70710678118654752f;
constexpr float inv_sqrt_2pi = 0.39894228040143268f;  // 1 / sqrt(2 pi)
constexpr float sqrt_2_over_pi = 0.79788456080286536f;
constexpr float gelu_cubic = 0.044715f;

// d gelu(x)/dx = Phi(x) + x phi(x), recorded so that gelu is differentiable again:
// its own derivative is phi(x) (2 - x^2), written with tensor ops.
Tensor gelu_slope(const Tensor& x) {
    const Array& v = x.value();
    Array slope = 0.5f * (1.0f + xt::erf(v * inv_sqrt2)) + v * inv_sqrt_2pi * xt::exp(-0.5f * v * v);
    return record(
        "gelu_slope", {x}, std::move(slope),
        [x](const Array& dy, const Array&) {
            const Array& v = x.value();
            x.accumulate_grad(dy * inv_sqrt_2pi * xt::exp(-0.5f * v * v) * (2.0f - v * v));
        },
        [](const Grads& in, const Tensor&, const Tensor& dy) {
            const Tensor& v = in[0];
            return Grads{dy * exp(square(v) * -0.5f) * (2.0f - square(v)) * inv_sqrt_2pi};
        });
}

// The tanh form's inner argument u(x) = sqrt(2/pi) (x + 0.044715 x^3), as tensor ops.
Tensor gelu_tanh_slope(const Tensor& x) {
    const Tensor t = tanh((x + pow(x, 3.0f) * gelu_cubic) * sqrt_2_over_pi);
    const Tensor du = (square(x) * (3.0f * gelu_cubic) + 1.0f) * sqrt_2_over_pi;
    return (t + 1.0f) * 0.5f + x * (1.0f - square(t)) * du * 0.5f;
}

}  // namespace

Tensor gelu(const Tensor& x, GeluApproximation approximate) {
    const Array& v = x.value();
    if (approximate == GeluApproximation::tanh) {
        auto t_of = [](float u) { return std::tanh(sqrt_2_over_pi * (u + gelu_cubic * u * u * u)); };
        return record(
            "gelu_tanh", {x}, detail::map(v, [t_of](float u) { return 0.5f * u * (1.0f + t_of(u)); }),
            [x, t_of](const Array& dy, const Array&) {
                x.accumulate_grad(detail::map(dy, x.value(), [t_of](float g, float u) {
                    const float t = t_of(u), du = sqrt_2_over_pi * (1.0f + 3.0f * gelu_cubic * u * u);
                    return g * (0.5f * (1.0f + t) + 0.5f * u * (1.0f - t * t) * du);
                }));
            },
            [](const Grads& in, const Tensor&, const Tensor& dy) {
                return Grads{dy * gelu_tanh_slope(in[0])};
            });
    }
    // vector_math's erf and exp: the loops compile to vector instructions.
    return record(
        "gelu", {x},
        detail::map(v, [](float u) { return 0.5f * u * (1.0f + vector_math::erf(u * inv_sqrt2)); }),
        [x](const Array& dy, const Array&) {
            x.accumulate_grad(detail::map(dy, x.value(), [](float g, float u) {
                return g * (0.5f * (1.0f + vector_math::erf(u * inv_sqrt2)) +
                            u * inv_sqrt_2pi * vector_math::exp(-0.5f * u * u));
            }));
        },
        [](const Grads& in, const Tensor&, const Tensor& dy) { return Grads{dy * gelu_slope(in[0])}; });
}

Tensor softplus(const Tensor& x, float beta, float threshold) {
    if (!(beta > 0.0f) || !std::isfinite(beta))
        throw std::invalid_argument("softplus: beta must be positive and finite, got " +
                                    std::to_string(beta));
    const float b = beta, t = threshold;
    // max(bx, 0) + ln(1 + e^-|bx|) is ln(1 + e^bx) without overflow; above the threshold, x.
    Array y = detail::map(x.value(), [b, t](float v) {
        const float bx = b * v;
        return bx > t ? v : (std::max(bx, 0.0f) + std::log1p(std::exp(-std::abs(bx)))) / b;
    });
    return record(
        "softplus", {x}, std::move(y),
        [x, b, t](const Array& dy, const Array&) {
            x.accumulate_grad(detail::map(dy, x.value(), [b, t](float g, float v) {
                return b * v > t ? g : g / (1.0f + std::exp(-b * v));
            }));
        },
        [b, t](const Grads& in, const Tensor&, const Tensor& dy) {
            const Array above = detail::map(in[0].value(), [b, t](float v) { return b * v > t ? 1.0f : 0.0f; });
            return Grads{dy * (sigmoid(in[0] * b) * Tensor(Array(1.0f - above)) + Tensor(above))};
        });
}

namespace {

// Views an array as [outer, n, inner] around `axis`, so one loop serves every axis: element k of
// the line (o, i) is at o * n * inner + k * inner + i.
struct Lines {
    std::size_t outer = 1, n = 1, inner = 1;
    Lines(const char* op, const Array& x, int axis) {
        const std::size_t a = normalize_axis(op, axis, x.dimension());
        for (std::size_t d = 0; d < x.dimension(); ++d) {
            if (d < a) outer *= x.shape()[d];
            if (d > a) inner *= x.shape()[d];
        }
        n = x.shape()[a];
    }
    template <class F>
    void each(F&& f) const {  // f(offset of the line's first element, stride)
        for (std::size_t o = 0; o < outer; ++o)
            for (std::size_t i = 0; i < inner; ++i) f(o * n * inner + i, inner);
    }
};

// e^x from ops/vector_math (within 2 ulp, vectorises), and exactly 0 below -87.34 where that one
// stops at its clamp: a masked position (-inf) gets a weight of exactly 0, as with std::exp.
inline float exp_or_zero(float x) {
    return vector_math::pick(x < -87.33654f, 0.0f, vector_math::exp(x));
}

// y = softmax or log_softmax of x along the lines.
Array normalize(const char* op, const Array& x, int axis, bool take_log) {
    const Lines lines(op, x, axis);
    Array y = Array::from_shape(x.shape());
    const float* in = x.data();
    float* out = y.data();
    const std::size_t n = lines.n;
    lines.each([&](std::size_t start, std::size_t stride) {
        float m = -INFINITY;
        for (std::size_t k = 0; k < n; ++k) m = std::max(m, in[start + k * stride]);
        if (stride == 1 && std::isfinite(m)) {  // the last axis: vectorised exp, once
            const float* __restrict x = in + start;
            float* __restrict e = out + start;
            for (std::size_t k = 0; k < n; ++k) e[k] = exp_or_zero(x[k] - m);
            const double total = detail::row_sum(e, n);
            if (take_log) {
                const float log_total = static_cast<float>(std::log(total));
                for (std::size_t k = 0; k < n; ++k) e[k] = x[k] - m - log_total;
            } else {
                const float inv = static_cast<float>(1.0 / total);
                for (std::size_t k = 0; k < n; ++k) e[k] *= inv;
            }
            return;
        }
        double total = 0.0;
        for (std::size_t k = 0; k < n; ++k) total += std::exp(in[start + k * stride] - m);
        if (take_log) {
            const float log_total = static_cast<float>(std::log(total));
            for (std::size_t k = 0; k < n; ++k)
                out[start + k * stride] = in[start + k * stride] - m - log_total;
        } else {
            const float inv = static_cast<float>(1.0 / total);
            for (std::size_t k = 0; k < n; ++k)
                out[start + k * stride] = std::exp(in[start + k * stride] - m) * inv;
        }
    });
    return y;
}

}  // namespace

Array softmax_array(const Array& x, int axis) { return normalize("softmax", x, axis, false); }
Array log_softmax_array(const Array& x, int axis) {
    return normalize("log_softmax", x, axis, true);
}

Tensor softmax(const Tensor& x, int axis) {
    return record("softmax", {x}, softmax_array(x.value(), axis),
                  [x, axis](const Array& dy, const Array& y) {
                      const Lines lines("softmax", y, axis);
                      Array dx = Array::from_shape(y.shape());
                      lines.each([&](std::size_t start, std::size_t stride) {
                          float dot = 0.0f;
                          for (std::size_t k = 0; k < lines.n; ++k)
                              dot += dy.data()[start + k * stride] * y.data()[start + k * stride];
                          for (std::size_t k = 0; k < lines.n; ++k) {
                              const std::size_t at = start + k * stride;
                              dx.data()[at] = y.data()[at] * (dy.data()[at] - dot);
                          }
                      });
                      x.accumulate_grad(std::move(dx));
                  },
                  [axis](const Grads&, const Tensor& y, const Tensor& dy) {
                      // dx = y (dy - sum(dy y)) along the axis
                      return Grads{y * (dy - sum(dy * y, axis, /*keepdims=*/true))};
                  });
}

Tensor log_softmax(const Tensor& x, int axis) {
    return record("log_softmax", {x}, log_softmax_array(x.value(), axis),
                  [x, axis](const Array& dy, const Array& y) {
                      const Lines lines("log_softmax", y, axis);
                      Array dx = Array::from_shape(y.shape());
                      lines.each([&](std::size_t start, std::size_t stride) {
                          float total = 0.0f;
                          for (std::size_t k = 0; k < lines.n; ++k)
                              total += dy.data()[start + k * stride];
                          for (std::size_t k = 0; k < lines.n; ++k) {
                              const std::size_t at = start + k * stride;
                              dx.data()[at] = dy.data()[at] - std::exp(y.data()[at]) * total;
                          }
                      });
                      x.accumulate_grad(std::move(dx));
                  },
                  [axis](const Grads&, const Tensor& y, const Tensor& dy) {
                      // dx = dy - softmax(x) sum(dy) along the axis, softmax(x) = e^y
                      return Grads{dy - exp(y) * sum(dy, axis, /*keepdims=*/true)};
                  });
}

}  // namespace tapegrad
