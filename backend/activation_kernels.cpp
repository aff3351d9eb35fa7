#include "activation_kernels.hpp"

#include <algorithm>
#include <cmath>

#include "kernels.hpp"
#include "parallel.hpp"
#include "vector_math.hpp"

namespace tapegrad::kernels {

namespace {

constexpr float inv_sqrt2 = 0.70710678118654752f;
constexpr float inv_sqrt_2pi = 0.39894228040143268f;  // 1 / sqrt(2 pi)
constexpr float sqrt_2_over_pi = 0.79788456080286536f;
constexpr float gelu_cubic = 0.044715f;

inline float gelu_tanh_t(float u) {
    return std::tanh(sqrt_2_over_pi * (u + gelu_cubic * u * u * u));
}

}  // namespace

// Plain loops: the hottest elementwise op of a CNN, and xtensor's where() does not vectorise.
Array relu(const Array& x) {
    return detail::map(x, [](float v) { return v > 0.0f ? v : 0.0f; });
}

Array relu_backward(const Array& dy, const Array& x) {
    // Both loaded, then a select: the compiler vectorises it.
    return detail::map(dy, x, [](float g, float v) { return v > 0.0f ? g : 0.0f; });
}

// sigmoid and tanh from vector_math (within 3 and 2 units in the last place), so the loops
// vectorise; the C library's expf and tanhf went one element at a time.
Array sigmoid(const Array& x) {
    return detail::map(x, [](float v) { return vector_math::sigmoid(v); });
}

Array sigmoid_backward(const Array& dy, const Array& y) {
    return detail::map(dy, y, [](float g, float s) { return g * s * (1.0f - s); });
}

Array tanh(const Array& x) {
    return detail::map(x, [](float v) { return vector_math::tanh(v); });
}

Array tanh_backward(const Array& dy, const Array& y) {
    return detail::map(dy, y, [](float g, float t) { return g * (1.0f - t * t); });
}

// Written without branches (max, min, a 0/1 factor): the sign of x is random, and a branch on it
// is mispredicted half the time.
Array leaky_relu(const Array& x, float s) {
    return detail::map(x, [s](float v) { return std::max(v, 0.0f) + s * std::min(v, 0.0f); });
}

Array leaky_relu_backward(const Array& dy, const Array& x, float s) {
    return detail::map(dy, x, [s](float g, float v) {
        const float positive = static_cast<float>(v > 0.0f);
        return g * (s + (1.0f - s) * positive);
    });
}

Array elu(const Array& x, float a) {
    return detail::map(x, [a](float v) { return std::max(v, 0.0f) + a * std::expm1(std::min(v, 0.0f)); });
}

Array elu_backward(const Array& dy, const Array& x, const Array& y, float a) {
    return detail::map(dy, x, y, [a](float g, float v, float out) {
        const float positive = static_cast<float>(v > 0.0f);
        return g * (positive + (1.0f - positive) * (out + a));
    });
}

Array silu(const Array& x) {
    return detail::map(x, [](float v) { return v / (1.0f + std::exp(-v)); });
}

Array gelu(const Array& x) {
    return detail::map(x, [](float u) { return 0.5f * u * (1.0f + vector_math::erf(u * inv_sqrt2)); });
}

Array gelu_backward(const Array& dy, const Array& x) {
    return detail::map(dy, x, [](float g, float u) {
        return g * (0.5f * (1.0f + vector_math::erf(u * inv_sqrt2)) +
                    u * inv_sqrt_2pi * vector_math::exp(-0.5f * u * u));
    });
}

Array gelu_tanh(const Array& x) {
    return detail::map(x, [](float u) { return 0.5f * u * (1.0f + gelu_tanh_t(u)); });
}

Array gelu_tanh_backward(const Array& dy, const Array& x) {
    return detail::map(dy, x, [](float g, float u) {
        const float t = gelu_tanh_t(u), du = sqrt_2_over_pi * (1.0f + 3.0f * gelu_cubic * u * u);
        return g * (0.5f * (1.0f + t) + 0.5f * u * (1.0f - t * t) * du);
    });
}

// max(bx, 0) + ln(1 + e^-|bx|) is ln(1 + e^bx) without overflow; above the threshold, x.
Array softplus(const Array& x, float b, float t) {
    return detail::map(x, [b, t](float v) {
        const float bx = b * v;
        return bx > t ? v : (std::max(bx, 0.0f) + std::log1p(std::exp(-std::abs(bx)))) / b;
    });
}


namespace {

// Views an array as [outer, n, inner] around `axis`, so one loop serves every axis: element k of
// the line (o, i) is at o * n * inner + k * inner + i.
struct Lines {
    std::size_t outer = 1, n = 1, inner = 1;
    Lines(const Array& x, std::size_t a) {
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

// e^x from vector_math (within 2 ulp, vectorises), and exactly 0 below -87.34 where that one
// stops at its clamp: a masked position (-inf) gets a weight of exactly 0, as with std::exp.
inline float exp_or_zero(float x) {
    return vector_math::pick(x < -87.33654f, 0.0f, vector_math::exp(x));
}

// y = softmax or log_softmax of x along the lines.
Array normalize(const Array& x, std::size_t axis, bool take_log) {
    const Lines lines(x, axis);
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

Array softmax(const Array& x, std::size_t axis) { return normalize(x, axis, false); }
Array log_softmax(const Array& x, std::size_t axis) { return normalize(x, axis, true); }

Array softmax_backward(const Array& dy, const Array& y, std::size_t axis) {
    const Lines lines(y, axis);
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
    return dx;
}

Array log_softmax_backward(const Array& dy, const Array& y, std::size_t axis) {
    const Lines lines(y, axis);
    Array dx = Array::from_shape(y.shape());
    lines.each([&](std::size_t start, std::size_t stride) {
        float total = 0.0f;
        for (std::size_t k = 0; k < lines.n; ++k) total += dy.data()[start + k * stride];
        for (std::size_t k = 0; k < lines.n; ++k) {
            const std::size_t at = start + k * stride;
            dx.data()[at] = dy.data()[at] - std::exp(y.data()[at]) * total;
        }
    });
    return dx;
}

}  // namespace tapegrad::kernels
