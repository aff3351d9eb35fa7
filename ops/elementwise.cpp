#include "elementwise.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <xtensor/xbroadcast.hpp>

#include "../backend/kernels.hpp"
#include "../backend/parallel.hpp"
#include "../core/tape.hpp"
#include "shape.hpp"

namespace tapegrad {

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
    Shape out(std::max(a.size(), b.size()));
    for (std::size_t i = 0; i < out.size(); ++i) {
        // Align from the right; a missing dimension counts as 1.
        const std::size_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
        const std::size_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
        if (da != db && da != 1 && db != 1)
            throw std::invalid_argument(std::string(op) + ": shapes " + shape_str(a) + " and " +
                                        shape_str(b) + " cannot be broadcast together");
        out[i] = da == 1 ? db : da;  // 1 against 0 gives 0, as in NumPy and PyTorch
    }
    return out;
}

namespace {

// f of each element of x, in a copy of x: detail::map for the small arrays of scalar code (the
// tape benchmark's chain). The copy takes x's shape and strides as they are; building the result
// from an xtensor expression works them out again, which costs more than the arithmetic.
template <class F>
Array map_copy(const Array& x, F f) {
    Array out(x);
    for (float& v : out.storage()) v = f(v);
    return out;
}

// Adds dy to x's gradient, summed back to x's shape first if x was broadcast (unbroadcast).
void accumulate_unbroadcast(const Tensor& x, Array dy) {
    if (dy.shape() != x.value().shape()) dy = unbroadcast(dy, x.shape());
    x.accumulate_grad(std::move(dy));
}

// The same with tensor ops, for create_graph (core/tape.hpp): dx summed back to x's shape.
Tensor sum_back(const Tensor& dx, const Tensor& x) { return sum_to(dx, x.shape()); }

// The tensor backward of an op whose dx needs only dy, y and the inputs: for create_graph.
using Grads = std::vector<Tensor>;

// The shape check every binary op makes before xtensor sees the arrays.
void check_broadcast(const char* op, const Tensor& a, const Tensor& b) {
    if (a.value().shape() != b.value().shape()) broadcast_shapes(op, a.shape(), b.shape());
}

// Whether `small`, with its leading 1s dropped, is the trailing axes of `big`: then it repeats
// whole along big's rows (a bias on [..., E], a mask [L, S] on [B, L, S]).
bool is_suffix(const Shape& small, const Shape& big) {
    std::size_t lead = 0;
    while (lead < small.size() && small[lead] == 1) ++lead;
    const std::size_t n = small.size() - lead;
    if (n == 0 || n > big.size()) return false;
    return std::equal(small.begin() + lead, small.end(), big.end() - n);
}

// f(a, b) elementwise with broadcasting. The two common cases run as plain vectorised loops: the
// same shapes, and one operand repeating along the other's rows; the rest go through xtensor.
template <class F>
Array binary_values(const Array& a, const Array& b, F f) {
    if (a.shape() == b.shape()) return detail::map(a, b, f);
    const Shape sa(a.shape().begin(), a.shape().end()), sb(b.shape().begin(), b.shape().end());
    const bool b_rows = is_suffix(sb, sa) && sa.size() >= sb.size();
    if (b_rows || (is_suffix(sa, sb) && sb.size() >= sa.size())) {
        const Array& big = b_rows ? a : b;
        const Array& small = b_rows ? b : a;
        Array y = Array::from_shape(big.shape());
        if (small.size() == 0) return y;  // then big is empty too: its trailing axes are small's
        const std::size_t row = small.size(), rows = big.size() / row;
        const float* __restrict p = big.data();
        const float* __restrict q = small.data();
        float* __restrict out = y.data();
        parallel_for(rows, [&](std::size_t begin, std::size_t end, int) {
            for (std::size_t r = begin; r < end; ++r) {
                const float* __restrict in = p + r * row;
                float* __restrict to = out + r * row;
                if (b_rows) for (std::size_t j = 0; j < row; ++j) to[j] = f(in[j], q[j]);
                else for (std::size_t j = 0; j < row; ++j) to[j] = f(q[j], in[j]);
            }
        }, std::max<std::size_t>(1, min_floats_per_thread / row));
        return y;
    }
    Array y = xt::make_lambda_xfunction([f](float p, float q) { return f(p, q); }, a, b);
    return y;
}

}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) {
    check_broadcast("add", a, b);
    return record(
        "add", {a, b}, binary_values(a.value(), b.value(), [](float p, float q) { return p + q; }),
        [a, b](const Array& dy, const Array&) {
            if (a.requires_grad()) accumulate_unbroadcast(a, dy);
            if (b.requires_grad()) accumulate_unbroadcast(b, dy);
        },
        [](const Grads& in, const Tensor&, const Tensor& dy) {
            return Grads{sum_back(dy, in[0]), sum_back(dy, in[1])};
        });
}

Tensor operator-(const Tensor& a, const Tensor& b) {
    check_broadcast("sub", a, b);
    return record(
        "sub", {a, b}, binary_values(a.value(), b.value(), [](float p, float q) { return p - q; }),
        [a, b](const Array& dy, const Array&) {
            if (a.requires_grad()) accumulate_unbroadcast(a, dy);
            if (b.requires_grad()) accumulate_unbroadcast(b, -dy);
        },
        [](const Grads& in, const Tensor&, const Tensor& dy) {
            return Grads{sum_back(dy, in[0]), sum_back(-dy, in[1])};
        });
}

Tensor operator*(const Tensor& a, const Tensor& b) {
    check_broadcast("mul", a, b);
    return record(
        "mul", {a, b}, binary_values(a.value(), b.value(), [](float p, float q) { return p * q; }),
        [a, b](const Array& dy, const Array&) {
            if (a.requires_grad()) accumulate_unbroadcast(a, dy * b.value());
            if (b.requires_grad()) accumulate_unbroadcast(b, dy * a.value());
        },
        [](const Grads& in, const Tensor&, const Tensor& dy) {
            return Grads{sum_back(dy * in[1], in[0]), sum_back(dy * in[0], in[1])};
        });
}

Tensor operator/(const Tensor& a, const Tensor& b) {
    check_broadcast("div", a, b);
    return record(
        "div", {a, b}, binary_values(a.value(), b.value(), [](float p, float q) { return p / q; }),
        [a, b](const Array& dy, const Array& y) {
            if (a.requires_grad()) accumulate_unbroadcast(a, dy / b.value());
            // -dy * a / b^2 = -dy * y / b
            if (b.requires_grad()) accumulate_unbroadcast(b, -dy * y / b.value());
        },
        [](const Grads& in, const Tensor& y, const Tensor& dy) {
            return Grads{sum_back(dy / in[1], in[0]), sum_back(-dy * y / in[1], in[1])};
        });
}

Tensor operator+(const Tensor& a, float b) {
    return record(
        "add_scalar", {a}, map_copy(a.value(), [b](float v) { return v + b; }),
        [a](const Array& dy, const Array&) { a.accumulate_grad(dy); },
        [](const Grads&, const Tensor&, const Tensor& dy) { return Grads{dy}; });
}
Tensor operator+(float a, const Tensor& b) { return b + a; }

Tensor operator-(const Tensor& a, float b) { return a + (-b); }
Tensor operator-(float a, const Tensor& b) {
    return record(
        "rsub_scalar", {b}, a - b.value(),
        [b](const Array& dy, const Array&) { b.accumulate_grad(-dy); },
        [](const Grads&, const Tensor&, const Tensor& dy) { return Grads{-dy}; });
}

Tensor operator*(const Tensor& a, float b) {
    return record(
        "mul_scalar", {a}, map_copy(a.value(), [b](float v) { return v * b; }),
        [a, b](const Array& dy, const Array&) {
            a.accumulate_grad(map_copy(dy, [b](float v) { return v * b; }));
        },
        [b](const Grads&, const Tensor&, const Tensor& dy) { return Grads{dy * b}; });
}
Tensor operator*(float a, const Tensor& b) { return b * a; }

Tensor operator/(const Tensor& a, float b) { return a * (1.0f / b); }
Tensor operator/(float a, const Tensor& b) {
    // y = a / b   db = -dy * a / b^2 = -dy * y / b
    return record(
        "rdiv_scalar", {b}, a / b.value(),
        [b](const Array& dy, const Array& y) { b.accumulate_grad(-dy * y / b.value()); },
        [](const Grads& in, const Tensor& y, const Tensor& dy) { return Grads{-dy * y / in[0]}; });
}

Tensor operator-(const Tensor& x) {
    return record(
        "neg", {x}, -x.value(), [x](const Array& dy, const Array&) { x.accumulate_grad(-dy); },
        [](const Grads&, const Tensor&, const Tensor& dy) { return Grads{-dy}; });
}

Tensor exp(const Tensor& x) {
    return record(
        "exp", {x}, xt::exp(x.value()),
        [x](const Array& dy, const Array& y) { x.accumulate_grad(dy * y); },
        [](const Grads&, const Tensor& y, const Tensor& dy) { return Grads{dy * y}; });
}

Tensor log(const Tensor& x) {
    return record(
        "log", {x}, xt::log(x.value()),
        [x](const Array& dy, const Array&) { x.accumulate_grad(dy / x.value()); },
        [](const Grads& in, const Tensor&, const Tensor& dy) { return Grads{dy / in[0]}; });
}

Tensor abs(const Tensor& x) {
    return record(
        "abs", {x}, xt::abs(x.value()),
        [x](const Array& dy, const Array&) { x.accumulate_grad(dy * xt::sign(x.value())); },
        [](const Grads& in, const Tensor&, const Tensor& dy) {
            return Grads{dy * Tensor(xt::sign(in[0].value()))};  // sign: a constant, d/dx = 0
        });
}

Tensor pow(const Tensor& x, float p) {
    return record(
        "pow", {x}, xt::pow(x.value(), p),
        [x, p](const Array& dy, const Array&) {
            x.accumulate_grad(dy * p * xt::pow(x.value(), p - 1.0f));
        },
        [p](const Grads& in, const Tensor&, const Tensor& dy) {
            return Grads{dy * pow(in[0], p - 1.0f) * p};
        });
}

Tensor sqrt(const Tensor& x) {
    return record(
        "sqrt", {x}, xt::sqrt(x.value()),
        [x](const Array& dy, const Array& y) { x.accumulate_grad(dy / (2.0f * y)); },
        [](const Grads&, const Tensor& y, const Tensor& dy) { return Grads{dy / (y * 2.0f)}; });
}

Tensor clamp(const Tensor& x, float lo, float hi) {
    if (!(lo <= hi))
        throw std::invalid_argument("clamp: lo (" + std::to_string(lo) +
                                    ") must not exceed hi (" + std::to_string(hi) + ")");
    return record(
        "clamp", {x}, xt::clip(x.value(), lo, hi),
        [x, lo, hi](const Array& dy, const Array&) {
            const Array& v = x.value();
            x.accumulate_grad(xt::where(v > lo && v < hi, dy, 0.0f));
        },
        [lo, hi](const Grads& in, const Tensor&, const Tensor& dy) {
            const Array& v = in[0].value();
            return Grads{dy * Tensor(xt::where(v > lo && v < hi, 1.0f, 0.0f))};
        });
}

Tensor sin(const Tensor& x) {
    return record(
        "sin", {x}, detail::map(x.value(), [](float v) { return std::sin(v); }),
        [x](const Array& dy, const Array&) {
            x.accumulate_grad(detail::map(dy, x.value(), [](float g, float v) { return g * std::cos(v); }));
        },
        [](const Grads& in, const Tensor&, const Tensor& dy) { return Grads{dy * cos(in[0])}; });
}

Tensor cos(const Tensor& x) {
    return record(
        "cos", {x}, detail::map(x.value(), [](float v) { return std::cos(v); }),
        [x](const Array& dy, const Array&) {
            x.accumulate_grad(detail::map(dy, x.value(), [](float g, float v) { return -g * std::sin(v); }));
        },
        [](const Grads& in, const Tensor&, const Tensor& dy) { return Grads{-dy * sin(in[0])}; });
}

Tensor log1p(const Tensor& x) {
    return record(
        "log1p", {x}, xt::log1p(x.value()),
        [x](const Array& dy, const Array&) { x.accumulate_grad(dy / (1.0f + x.value())); },
        [](const Grads& in, const Tensor&, const Tensor& dy) {
            return Grads{dy / (in[0] + 1.0f)};
        });
}

Tensor expm1(const Tensor& x) {
    return record(
        "expm1", {x}, xt::expm1(x.value()),
        [x](const Array& dy, const Array& y) { x.accumulate_grad(dy * (y + 1.0f)); },
        [](const Grads&, const Tensor& y, const Tensor& dy) { return Grads{dy * (y + 1.0f)}; });
}

Tensor reciprocal(const Tensor& x) {
    return record(
        "reciprocal", {x}, 1.0f / x.value(),
        [x](const Array& dy, const Array& y) { x.accumulate_grad(-dy * y * y); },
        [](const Grads&, const Tensor& y, const Tensor& dy) { return Grads{-dy * y * y}; });
}

Tensor square(const Tensor& x) {
    return record(
        "square", {x}, x.value() * x.value(),
        [x](const Array& dy, const Array&) { x.accumulate_grad(2.0f * dy * x.value()); },
        [](const Grads& in, const Tensor&, const Tensor& dy) { return Grads{dy * in[0] * 2.0f}; });
}

namespace {

// A piecewise-constant op: its gradient is 0 wherever it is defined.
Tensor flat(const char* op, const Tensor& x, Array y) {
    return record(
        op, {x}, std::move(y),
        [x](const Array& dy, const Array&) { x.accumulate_grad(xt::zeros<float>(dy.shape())); },
        [](const Grads&, const Tensor&, const Tensor& dy) { return Grads{dy * 0.0f}; });
}

}  // namespace

Tensor sign(const Tensor& x) { return flat("sign", x, xt::sign(x.value())); }
Tensor floor(const Tensor& x) { return flat("floor", x, xt::floor(x.value())); }
Tensor round(const Tensor& x) { return flat("round", x, xt::nearbyint(x.value())); }

namespace {

// maximum and minimum: y takes the larger (smaller) of a and b; a tie sends half of dy to each,
// as torch. `wins_a` is 1 where a is taken, 0.5 at a tie, 0 where b is taken, in the broadcast
// shape; it is locally constant, so the second derivative is 0.
Tensor pick(const char* op, const Tensor& a, const Tensor& b, bool larger) {
    check_broadcast(op, a, b);
    const Shape shape = broadcast_shapes(op, a.shape(), b.shape());
    Array a_copy, b_copy;  // only when broadcast
    if (a.shape() != shape) a_copy = detail::broadcast_to(a.value(), shape);
    if (b.shape() != shape) b_copy = detail::broadcast_to(b.value(), shape);
    const Array& va = a.shape() == shape ? a.value() : a_copy;
    const Array& vb = b.shape() == shape ? b.value() : b_copy;
    const float sign = larger ? 1.0f : -1.0f;  // minimum is maximum of the negatives
    Array wins_a = detail::map(va, vb, [sign](float p, float q) {
        return detail::blend(sign * p > sign * q, 1.0f, detail::blend(p == q, 0.5f, 0.0f));
    });
    // NaN propagates, as torch.maximum: p + q is NaN when either is.
    Array y = detail::map(va, vb, wins_a, [](float p, float q, float w) {
        return detail::blend(std::isnan(p + q), p + q, detail::blend(w > 0.0f, p, q));
    });
    return record(
        op, {a, b}, std::move(y),
        [a, b, wins_a](const Array& dy, const Array&) {
            if (a.requires_grad()) accumulate_unbroadcast(a, dy * wins_a);
            if (b.requires_grad()) accumulate_unbroadcast(b, dy * (1.0f - wins_a));
        },
        [wins_a](const Grads& in, const Tensor&, const Tensor& dy) {
            return Grads{sum_back(dy * Tensor(wins_a), in[0]),
                         sum_back(dy * Tensor(1.0f - wins_a), in[1])};
        });
}

}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) { return pick("maximum", a, b, true); }
Tensor minimum(const Tensor& a, const Tensor& b) { return pick("minimum", a, b, false); }

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
    const Shape out = broadcast_shapes("where", broadcast_shapes("where", condition.shape(),
                                                                 a.shape()), b.shape());
    auto full = [&out](const Tensor& t) {
        return t.shape() == out ? t.value() : detail::broadcast_to(t.value(), out);
    };
    // 1 where the condition holds (nonzero), in the output's shape: a's share of dy.
    Array take_a = detail::map(full(condition), [](float c) { return static_cast<float>(c != 0.0f); });
    Array y = detail::map(take_a, full(a), full(b),
                          [](float t, float p, float q) { return detail::blend(t > 0.0f, p, q); });
    return record(
        "where", {a, b}, std::move(y),
        [a, b, take_a](const Array& dy, const Array&) {
            if (a.requires_grad()) accumulate_unbroadcast(a, dy * take_a);
            if (b.requires_grad()) accumulate_unbroadcast(b, dy * (1.0f - take_a));
        },
        [take_a](const Grads& in, const Tensor&, const Tensor& dy) {
            return Grads{sum_back(dy * Tensor(take_a), in[0]),
                         sum_back(dy * Tensor(1.0f - take_a), in[1])};
        });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
    const Shape shape = x.shape();
    if (broadcast_shapes("masked_fill", shape, mask.shape()) != shape)
        throw std::invalid_argument("masked_fill: the mask of shape " + shape_str(mask.shape()) +
                                    " must broadcast to x's shape " + shape_str(shape));
    Array copy;  // only when broadcast
    if (mask.shape() != shape) copy = detail::broadcast_to(mask.value(), shape);
    const Array& m = mask.shape() == shape ? mask.value() : copy;
    Array keep = detail::map(m, [](float v) { return static_cast<float>(v == 0.0f); });
    Array y = detail::map(keep, x.value(),
                          [value](float k, float v) { return detail::blend(k > 0.0f, v, value); });
    return record(
        "masked_fill", {x}, std::move(y),
        [x, keep](const Array& dy, const Array&) { x.accumulate_grad(dy * keep); },
        [keep](const Grads&, const Tensor&, const Tensor& dy) { return Grads{dy * Tensor(keep)}; });
}

}  // namespace tapegrad
