#include "elementwise.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <xtensor/xbroadcast.hpp>

#include "../backend/activation_kernels.hpp"
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

// f of each element of x, in a new array of x's shape: one pass, without the xtensor expression
// whose shape and strides cost more than the arithmetic on the small arrays of scalar code.
template <class F>
Array map_copy(const Array& x, F f) {
    Array out = Array::from_shape(x.shape());
    const float* in = x.data();
    float* o = out.data();
    for (std::size_t i = 0, n = x.size(); i < n; ++i) o[i] = f(in[i]);
    return out;
}

// dx summed back to x's shape, where x was broadcast (sum_to, the one helper for it).
Tensor sum_back(const Tensor& dx, const Tensor& x) {
    const auto& a = dx.value().shape();
    const auto& b = x.value().shape();
    if (std::equal(a.begin(), a.end(), b.begin(), b.end())) return dx;  // not broadcast
    return sum_to(dx, x.shape());
}

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

// Each op's derivative below computes the gradient of an input only when it needs one.
Tensor operator+(const Tensor& a, const Tensor& b) {
    check_broadcast("add", a, b);
    return record("add", {a, b},
                  binary_values(a.value(), b.value(), [](float p, float q) { return p + q; }),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {  // da = db = dy
                      return Grads{in[0].requires_grad() ? sum_back(dy, in[0]) : Tensor(),
                                   in[1].requires_grad() ? sum_back(dy, in[1]) : Tensor()};
                  });
}

Tensor operator-(const Tensor& a, const Tensor& b) {
    check_broadcast("sub", a, b);
    return record("sub", {a, b},
                  binary_values(a.value(), b.value(), [](float p, float q) { return p - q; }),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {  // da = dy, db = -dy
                      return Grads{in[0].requires_grad() ? sum_back(dy, in[0]) : Tensor(),
                                   in[1].requires_grad() ? sum_back(-dy, in[1]) : Tensor()};
                  });
}

Tensor operator*(const Tensor& a, const Tensor& b) {
    check_broadcast("mul", a, b);
    return record("mul", {a, b},
                  binary_values(a.value(), b.value(), [](float p, float q) { return p * q; }),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {  // da = dy b, db = dy a
                      return Grads{in[0].requires_grad() ? sum_back(dy * in[1], in[0]) : Tensor(),
                                   in[1].requires_grad() ? sum_back(dy * in[0], in[1]) : Tensor()};
                  });
}

Tensor operator/(const Tensor& a, const Tensor& b) {
    check_broadcast("div", a, b);
    // da = dy / b, db = -dy a / b^2 = -dy y / b
    return record("div", {a, b},
                  binary_values(a.value(), b.value(), [](float p, float q) { return p / q; }),
                  [](const Inputs& in, const Tensor& y, const Tensor& dy) {
                      return Grads{in[0].requires_grad() ? sum_back(dy / in[1], in[0]) : Tensor(),
                                   in[1].requires_grad() ? sum_back(-dy * y / in[1], in[1])
                                                         : Tensor()};
                  });
}

Tensor operator+(const Tensor& a, float b) {
    return record("add_scalar", {a}, map_copy(a.value(), [b](float v) { return v + b; }),
                  [](const Inputs&, const Tensor&, const Tensor& dy) { return Grads{dy}; });
}
Tensor operator+(float a, const Tensor& b) { return b + a; }

Tensor operator-(const Tensor& a, float b) { return a + (-b); }
Tensor operator-(float a, const Tensor& b) {
    return record("rsub_scalar", {b}, a - b.value(),
                  [](const Inputs&, const Tensor&, const Tensor& dy) { return Grads{-dy}; });
}

Tensor operator*(const Tensor& a, float b) {
    return record("mul_scalar", {a}, map_copy(a.value(), [b](float v) { return v * b; }),
                  [b](const Inputs&, const Tensor&, const Tensor& dy) { return Grads{dy * b}; });
}
Tensor operator*(float a, const Tensor& b) { return b * a; }

Tensor operator/(const Tensor& a, float b) { return a * (1.0f / b); }
Tensor operator/(float a, const Tensor& b) {
    // y = a / b   db = -dy * a / b^2 = -dy * y / b
    return record("rdiv_scalar", {b}, a / b.value(),
                  [](const Inputs& in, const Tensor& y, const Tensor& dy) {
                      return Grads{-dy * y / in[0]};
                  });
}

Tensor operator-(const Tensor& x) {
    return record("neg", {x}, -x.value(),
                  [](const Inputs&, const Tensor&, const Tensor& dy) { return Grads{-dy}; });
}

Tensor exp(const Tensor& x) {  // dx = dy y
    return record("exp", {x}, xt::exp(x.value()),
                  [](const Inputs&, const Tensor& y, const Tensor& dy) { return Grads{dy * y}; });
}

Tensor log(const Tensor& x) {  // dx = dy / x
    return record("log", {x}, xt::log(x.value()),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{dy / in[0]};
                  });
}

Tensor abs(const Tensor& x) {  // dx = dy sign(x); sign is a constant, d/dx = 0
    return record("abs", {x}, xt::abs(x.value()),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{dy * Tensor(xt::sign(in[0].value()))};
                  });
}

Tensor pow(const Tensor& x, float p) {  // dx = dy p x^(p-1)
    return record("pow", {x}, xt::pow(x.value(), p),
                  [p](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{dy * pow(in[0], p - 1.0f) * p};
                  });
}

Tensor sqrt(const Tensor& x) {  // dx = dy / 2y
    return record("sqrt", {x}, xt::sqrt(x.value()),
                  [](const Inputs&, const Tensor& y, const Tensor& dy) {
                      return Grads{dy / (y * 2.0f)};
                  });
}

Tensor clamp(const Tensor& x, float lo, float hi) {
    if (!(lo <= hi))
        throw std::invalid_argument("clamp: lo (" + std::to_string(lo) +
                                    ") must not exceed hi (" + std::to_string(hi) + ")");
    // dx = dy where lo < x < hi, else 0
    return record("clamp", {x}, xt::clip(x.value(), lo, hi),
                  [lo, hi](const Inputs& in, const Tensor&, const Tensor& dy) {
                      const Array& v = in[0].value();
                      return Grads{dy * Tensor(xt::where(v > lo && v < hi, 1.0f, 0.0f))};
                  });
}

Tensor sin(const Tensor& x) {  // dx = dy cos x
    return record("sin", {x}, kernels::sin(x.value()),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{dy * cos(in[0])};
                  });
}

Tensor cos(const Tensor& x) {  // dx = -dy sin x
    return record("cos", {x}, kernels::cos(x.value()),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{-dy * sin(in[0])};
                  });
}

Tensor log1p(const Tensor& x) {  // dx = dy / (1 + x)
    return record("log1p", {x}, kernels::log1p(x.value()),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{dy / (in[0] + 1.0f)};
                  });
}

Tensor expm1(const Tensor& x) {  // dx = dy (y + 1)
    return record("expm1", {x}, kernels::expm1(x.value()),
                  [](const Inputs&, const Tensor& y, const Tensor& dy) {
                      return Grads{dy * (y + 1.0f)};
                  });
}

Tensor reciprocal(const Tensor& x) {  // dx = -dy y^2
    return record("reciprocal", {x}, 1.0f / x.value(),
                  [](const Inputs&, const Tensor& y, const Tensor& dy) {
                      return Grads{-dy * y * y};
                  });
}

Tensor square(const Tensor& x) {  // dx = 2 dy x
    return record("square", {x}, x.value() * x.value(),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{dy * in[0] * 2.0f};
                  });
}

namespace {

// A piecewise-constant op: its gradient is 0 wherever it is defined.
Tensor flat(const char* op, const Tensor& x, Array y) {
    return record(op, {x}, std::move(y),
                  [](const Inputs&, const Tensor&, const Tensor& dy) { return Grads{dy * 0.0f}; });
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
    // da = dy w, db = dy (1 - w), with w = wins_a
    return record(op, {a, b}, std::move(y),
                  [w = Tensor(std::move(wins_a))](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{in[0].requires_grad() ? sum_back(dy * w, in[0]) : Tensor(),
                                   in[1].requires_grad() ? sum_back(dy * (1.0f - w), in[1])
                                                         : Tensor()};
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
    // da = dy t, db = dy (1 - t), with t = take_a; none to the condition
    return record("where", {a, b}, std::move(y),
                  [t = Tensor(std::move(take_a))](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{in[0].requires_grad() ? sum_back(dy * t, in[0]) : Tensor(),
                                   in[1].requires_grad() ? sum_back(dy * (1.0f - t), in[1])
                                                         : Tensor()};
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
    // dx = dy where the mask is 0
    return record("masked_fill", {x}, std::move(y),
                  [k = Tensor(std::move(keep))](const Inputs&, const Tensor&, const Tensor& dy) {
                      return Grads{dy * k};
                  });
}

}  // namespace tapegrad
