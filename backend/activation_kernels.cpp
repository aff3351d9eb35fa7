#include "activation_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels.hpp"
#include "parallel.hpp"
#include "vector_math.hpp"

namespace tapegrad::kernels {

namespace {

constexpr float inv_sqrt2 = 0.70710678118654752f;
constexpr float inv_sqrt_2pi = 0.39894228040143268f;  // 1 / sqrt(2 pi)
constexpr double sqrt_2_over_pi = 0.79788456080286536;
constexpr double gelu_cubic = 0.044715;

template <class T>
T gelu_tanh_t(T u) {
    return std::tanh(T(sqrt_2_over_pi) * (u + T(gelu_cubic) * u * u * u));
}

}  // namespace

// Plain loops: the hottest elementwise op of a CNN, and xtensor's where() does not vectorise.
template <class T>
ArrayOf<T> relu(const ArrayOf<T>& x) {
    return detail::map(x, [](T v) { return v > T(0) ? v : T(0); });
}

template <class T>
ArrayOf<T> relu_backward(const ArrayOf<T>& dy, const ArrayOf<T>& x) {
    // Both loaded, then a select: the compiler vectorises it.
    return detail::map(dy, x, [](T g, T v) { return v > T(0) ? g : T(0); });
}

// sigmoid and tanh from vector_math (within 3 and 2 units in the last place), so the loops
// vectorise; the C library's expf and tanhf went one element at a time.
Array sigmoid(const Array& x) {
    return detail::map(x, [](float v) { return vector_math::sigmoid(v); });
}

namespace {

// fast(v) for every element, then exact(v) again where v is outside [lo, hi] (or NaN): a
// second, scalar pass over the few elements vector_math does not cover.
template <class F, class G>
Array vectorised(const Array& x, F fast, G exact, float lo, float hi) {
    Array y = detail::map(x, fast);
    const float* in = x.data();
    float* out = y.data();
    const std::size_t n = x.size();
    std::size_t outside = 0;  // counted first, in a loop that vectorises: usually there are none
    for (std::size_t i = 0; i < n; ++i) outside += !(in[i] >= lo && in[i] <= hi);
    for (std::size_t i = 0; i < n && outside > 0; ++i)
        if (!(in[i] >= lo && in[i] <= hi)) out[i] = exact(in[i]), --outside;
    return y;
}

}  // namespace

Array sin(const Array& x) {
    return vectorised(x, [](float v) { return vector_math::sin(v); }, [](float v) { return std::sin(v); },
                      -vector_math::max_sin_cos, vector_math::max_sin_cos);
}

Array cos(const Array& x) {
    return vectorised(x, [](float v) { return vector_math::cos(v); }, [](float v) { return std::cos(v); },
                      -vector_math::max_sin_cos, vector_math::max_sin_cos);
}

Array log1p(const Array& x) {
    return detail::map(x, [](float v) { return vector_math::log1p(v); });
}

Array expm1(const Array& x) {
    return vectorised(x, [](float v) { return vector_math::expm1(v); }, [](float v) { return std::expm1(v); },
                      -INFINITY, 88.37626f);
}

template <class T>
ArrayOf<T> sigmoid_backward(const ArrayOf<T>& dy, const ArrayOf<T>& y) {
    return detail::map(dy, y, [](T g, T s) { return g * s * (T(1) - s); });
}

Array tanh(const Array& x) {
    return detail::map(x, [](float v) { return vector_math::tanh(v); });
}

template <class T>
ArrayOf<T> tanh_backward(const ArrayOf<T>& dy, const ArrayOf<T>& y) {
    return detail::map(dy, y, [](T g, T t) { return g * (T(1) - t * t); });
}

// Written without branches (max, min, a 0/1 factor): the sign of x is random, and a branch on it
// is mispredicted half the time.
template <class T>
ArrayOf<T> leaky_relu(const ArrayOf<T>& x, Setting<T> s) {
    return detail::map(x, [s](T v) { return std::max(v, T(0)) + s * std::min(v, T(0)); });
}

template <class T>
ArrayOf<T> leaky_relu_backward(const ArrayOf<T>& dy, const ArrayOf<T>& x, Setting<T> s) {
    return detail::map(dy, x, [s](T g, T v) {
        const T positive = static_cast<T>(v > T(0));
        return g * (s + (T(1) - s) * positive);
    });
}

template <class T>
ArrayOf<T> elu(const ArrayOf<T>& x, Setting<T> a) {
    if constexpr (std::is_same_v<T, float>)
        return detail::map(x, [a](float v) { return vector_math::pick(v > 0.0f, v, a * vector_math::expm1(v)); });
    else
        return detail::map(x, [a](T v) { return std::max(v, T(0)) + a * std::expm1(std::min(v, T(0))); });
}

template <class T>
ArrayOf<T> elu_backward(const ArrayOf<T>& dy, const ArrayOf<T>& x, const ArrayOf<T>& y, Setting<T> a) {
    return detail::map(dy, x, y, [a](T g, T v, T out) {
        const T positive = static_cast<T>(v > T(0));
        return g * (positive + (T(1) - positive) * (out + a));
    });
}

template <class T>
ArrayOf<T> silu(const ArrayOf<T>& x) {
    if constexpr (std::is_same_v<T, float>)
        return detail::map(x, [](float v) { return v * vector_math::sigmoid(v); });
    else
        return detail::map(x, [](T v) { return v / (T(1) + std::exp(-v)); });
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

template <class T>
ArrayOf<T> gelu_tanh(const ArrayOf<T>& x) {
    return detail::map(x, [](T u) { return T(0.5) * u * (T(1) + gelu_tanh_t(u)); });
}

template <class T>
ArrayOf<T> gelu_tanh_backward(const ArrayOf<T>& dy, const ArrayOf<T>& x) {
    return detail::map(dy, x, [](T g, T u) {
        const T t = gelu_tanh_t(u), du = T(sqrt_2_over_pi) * (T(1) + T(3 * gelu_cubic) * u * u);
        return g * (T(0.5) * (T(1) + t) + T(0.5) * u * (T(1) - t * t) * du);
    });
}

// max(bx, 0) + ln(1 + e^-|bx|) is ln(1 + e^bx) without overflow; above the threshold, x.
template <class T>
ArrayOf<T> softplus(const ArrayOf<T>& x, Setting<T> b, Setting<T> t) {
    if constexpr (std::is_same_v<T, float>)
        return detail::map(x, [b, t](float v) {
            const float bx = b * v;
            const float soft = (std::max(bx, 0.0f) + vector_math::log1p(vector_math::exp(-std::abs(bx)))) / b;
            return vector_math::pick(bx > t, v, soft);
        });
    else
        return detail::map(x, [b, t](T v) {
            const T bx = b * v;
            return bx > t ? v : (std::max(bx, T(0)) + std::log1p(std::exp(-std::abs(bx)))) / b;
        });
}

namespace {

// Views an array as [outer, n, inner] around `axis`, so one loop serves every axis: element k of
// the line (o, i) is at o * n * inner + k * inner + i.
struct Lines {
    std::size_t outer = 1, n = 1, inner = 1;
    template <class A>
    Lines(const A& x, std::size_t a) {
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

template <class T>
ArrayOf<T> softmax_backward(const ArrayOf<T>& dy, const ArrayOf<T>& y, std::size_t axis) {
    const Lines lines(y, axis);
    ArrayOf<T> dx = ArrayOf<T>::from_shape(y.shape());
    lines.each([&](std::size_t start, std::size_t stride) {
        T dot = 0;
        for (std::size_t k = 0; k < lines.n; ++k)
            dot += dy.data()[start + k * stride] * y.data()[start + k * stride];
        for (std::size_t k = 0; k < lines.n; ++k) {
            const std::size_t at = start + k * stride;
            dx.data()[at] = y.data()[at] * (dy.data()[at] - dot);
        }
    });
    return dx;
}

template <class T>
ArrayOf<T> log_softmax_backward(const ArrayOf<T>& dy, const ArrayOf<T>& y, std::size_t axis) {
    const Lines lines(y, axis);
    ArrayOf<T> dx = ArrayOf<T>::from_shape(y.shape());
    lines.each([&](std::size_t start, std::size_t stride) {
        T total = 0;
        for (std::size_t k = 0; k < lines.n; ++k) total += dy.data()[start + k * stride];
        for (std::size_t k = 0; k < lines.n; ++k) {
            const std::size_t at = start + k * stride;
            dx.data()[at] = dy.data()[at] - std::exp(y.data()[at]) * total;
        }
    });
    return dx;
}

#define TAPEGRAD_ACTIVATIONS_FOR(T)                                                              \
    template ArrayOf<T> relu(const ArrayOf<T>&);                                                 \
    template ArrayOf<T> relu_backward(const ArrayOf<T>&, const ArrayOf<T>&);                     \
    template ArrayOf<T> sigmoid_backward(const ArrayOf<T>&, const ArrayOf<T>&);                  \
    template ArrayOf<T> tanh_backward(const ArrayOf<T>&, const ArrayOf<T>&);                     \
    template ArrayOf<T> leaky_relu(const ArrayOf<T>&, Setting<T>);                               \
    template ArrayOf<T> leaky_relu_backward(const ArrayOf<T>&, const ArrayOf<T>&, Setting<T>);   \
    template ArrayOf<T> elu(const ArrayOf<T>&, Setting<T>);                                      \
    template ArrayOf<T> elu_backward(const ArrayOf<T>&, const ArrayOf<T>&, const ArrayOf<T>&,    \
                                     Setting<T>);                                                \
    template ArrayOf<T> silu(const ArrayOf<T>&);                                                 \
    template ArrayOf<T> gelu_tanh(const ArrayOf<T>&);                                            \
    template ArrayOf<T> gelu_tanh_backward(const ArrayOf<T>&, const ArrayOf<T>&);                \
    template ArrayOf<T> softplus(const ArrayOf<T>&, Setting<T>, Setting<T>);                     \
    template ArrayOf<T> softmax_backward(const ArrayOf<T>&, const ArrayOf<T>&, std::size_t);     \
    template ArrayOf<T> log_softmax_backward(const ArrayOf<T>&, const ArrayOf<T>&, std::size_t);
TAPEGRAD_ACTIVATIONS_FOR(float)
TAPEGRAD_ACTIVATIONS_FOR(double)
#undef TAPEGRAD_ACTIVATIONS_FOR

}  // namespace tapegrad::kernels
