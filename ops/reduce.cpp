#include "reduce.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xreducer.hpp>

#include "../backend/kernels.hpp"
#include "../core/tape.hpp"
#include "activation.hpp"
#include "elementwise.hpp"
#include "shape.hpp"

namespace tapegrad {

std::size_t normalize_axis(const char* op, int axis, std::size_t rank) {
    const int r = static_cast<int>(rank);
    if (axis < -r || axis >= r)
        throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) +
                                    " is out of range for a tensor of rank " +
                                    std::to_string(rank));
    return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

namespace {

// The sum of every element, in blocks of 4096 (detail::row_sum) added in double, so that a
// million elements sum as exactly as a few.
double total(const Array& x) {
    double result = 0.0;
    for (std::size_t begin = 0; begin < x.size(); begin += 4096)
        result += detail::row_sum(x.data() + begin, std::min<std::size_t>(4096, x.size() - begin));
    return result;
}

// Sum over `axes` scaled by `scale` (1 for sum, 1/n for mean), with its backward.
Tensor reduce_sum(const char* op, const Tensor& x, std::vector<int> axes_in, bool keepdims,
                  bool average) {
    std::vector<std::size_t> axes;
    for (int a : axes_in) axes.push_back(normalize_axis(op, a, x.dim()));
    std::sort(axes.begin(), axes.end());
    if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
        throw std::invalid_argument(std::string(op) + ": an axis is listed twice");

    Shape kept = x.shape();  // the output shape with reduced axes kept as 1
    std::size_t n = 1;
    for (std::size_t a : axes) {
        n *= kept[a];
        kept[a] = 1;
    }
    const float scale = average ? 1.0f / static_cast<float>(std::max<std::size_t>(n, 1)) : 1.0f;

    Array y = axes.size() == x.dim() ? Array(static_cast<float>(total(x.value())))
                                     : detail::sum_axes(x.value(), axes);
    if (average) y *= scale;
    if (keepdims) y.reshape(kept);

    // dx = dy (times 1/n for a mean) broadcast back over the reduced axes
    return record(op, {x}, std::move(y), [kept, scale](const Inputs& in, const Tensor&, const Tensor& dy) {
        return Grads{expand(reshape(dy, kept) * scale, in[0].shape())};
    });
}

std::vector<int> all_axes(const Tensor& x) {
    std::vector<int> axes(x.dim());
    for (std::size_t i = 0; i < axes.size(); ++i) axes[i] = static_cast<int>(i);
    return axes;
}

}  // namespace

Tensor sum(const Tensor& x) { return reduce_sum("sum", x, all_axes(x), false, false); }
Tensor sum(const Tensor& x, int axis, bool keepdims) {
    return reduce_sum("sum", x, {axis}, keepdims, false);
}
Tensor sum(const Tensor& x, std::vector<int> axes, bool keepdims) {
    return reduce_sum("sum", x, std::move(axes), keepdims, false);
}

Tensor mean(const Tensor& x) { return reduce_sum("mean", x, all_axes(x), false, true); }
Tensor mean(const Tensor& x, int axis, bool keepdims) {
    return reduce_sum("mean", x, {axis}, keepdims, true);
}
Tensor mean(const Tensor& x, std::vector<int> axes, bool keepdims) {
    return reduce_sum("mean", x, std::move(axes), keepdims, true);
}

namespace {

// The axes of a reduction, checked and sorted, and the output's shape with them kept as 1.
struct ReducedAxes {
    std::vector<std::size_t> axes;
    Shape kept;
    std::size_t n = 1;  // elements reduced into each output element

    ReducedAxes(const char* op, const Shape& shape, const std::vector<int>& axes_in) : kept(shape) {
        for (int a : axes_in) axes.push_back(normalize_axis(op, a, shape.size()));
        std::sort(axes.begin(), axes.end());
        if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
            throw std::invalid_argument(std::string(op) + ": an axis is listed twice");
        for (std::size_t a : axes) {
            n *= kept[a];
            kept[a] = 1;
        }
    }
    Array keep_dims(Array y) const {
        y.reshape(kept);
        return y;
    }
    Shape out_shape(bool keepdims) const {
        if (keepdims) return kept;
        Shape s;
        for (std::size_t i = 0; i < kept.size(); ++i)
            if (!std::binary_search(axes.begin(), axes.end(), i)) s.push_back(kept[i]);
        return s;
    }
};

// max or min over one axis or all: dy is shared evenly among the elements equal to the result
// (as torch.amax), a locally constant weight `share`, so the second derivative is 0.
Tensor extreme(const char* op, const Tensor& x, const std::vector<int>& axes, bool keepdims,
               bool largest) {
    if (x.size() == 0)
        throw std::invalid_argument(std::string(op) + ": the tensor is empty (shape " +
                                    shape_str(x.shape()) + "), so it has no " +
                                    (largest ? "maximum" : "minimum"));
    const ReducedAxes r(op, x.shape(), axes);
    const detail::Lines lines = r.axes.size() == 1 ? detail::Lines(x.shape(), r.axes[0])
                                                   : detail::Lines::whole(x.size());
    const float* v = x.value().data();
    Array y = Array::from_shape(r.out_shape(keepdims));
    Array share = Array::from_shape(x.shape());
    for (std::size_t l = 0; l < lines.count(); ++l) {
        const float* line = v + lines.start(l);
        float best = line[0];
        for (std::size_t k = 1; k < lines.n; ++k) {
            const float c = line[k * lines.inner];
            if (std::isnan(best)) break;  // NaN wins, as torch
            if (std::isnan(c) || (largest ? c > best : c < best)) best = c;
        }
        std::size_t ties = 0;
        for (std::size_t k = 0; k < lines.n; ++k) {
            const float c = line[k * lines.inner];
            ties += c == best || (std::isnan(c) && std::isnan(best));
        }
        float* s = share.data() + lines.start(l);
        for (std::size_t k = 0; k < lines.n; ++k) {
            const float c = line[k * lines.inner];
            s[k * lines.inner] = c == best || (std::isnan(c) && std::isnan(best))
                                     ? 1.0f / static_cast<float>(ties) : 0.0f;
        }
        y.data()[l] = best;
    }
    const Shape kept = r.kept;
    // dx = dy broadcast back, times the share
    return record(op, {x}, std::move(y),
                  [share = Tensor(share), kept](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{expand(reshape(dy, kept), in[0].shape()) * share};
                  },
                  fast_path([share, lines](const Inputs&, const Tensor&, const Tensor& dy) {
                      return Grads{Tensor(detail::scale_lines(share, dy.value(), lines))};
                  }));
}

// Index of the first largest (smallest) element along `axis`, as a float; no gradient.
Tensor arg_extreme(const char* op, const Tensor& x, int axis, bool keepdims, bool largest) {
    const ReducedAxes r(op, x.shape(), {axis});
    const std::size_t a = r.axes[0];
    const Shape shape = x.shape();
    if (shape[a] == 0)
        throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) +
                                    " has no elements");
    std::size_t outer = 1, inner = 1;
    for (std::size_t i = 0; i < a; ++i) outer *= shape[i];
    for (std::size_t i = a + 1; i < shape.size(); ++i) inner *= shape[i];
    Array idx = Array::from_shape(r.out_shape(keepdims));
    const float* v = x.value().data();
    for (std::size_t o = 0; o < outer; ++o)
        for (std::size_t i = 0; i < inner; ++i) {
            const float* line = v + o * shape[a] * inner + i;
            std::size_t best = 0;
            for (std::size_t k = 1; k < shape[a]; ++k) {
                const float c = line[k * inner], b = line[best * inner];
                if (std::isnan(b)) break;  // NaN wins, as torch
                if (std::isnan(c) || (largest ? c > b : c < b)) best = k;
            }
            idx.data()[o * inner + i] = static_cast<float>(best);
        }
    return Tensor(std::move(idx));
}

}  // namespace

Tensor max(const Tensor& x) { return extreme("max", x, all_axes(x), false, true); }
Tensor max(const Tensor& x, int axis, bool keepdims) {
    return extreme("max", x, {axis}, keepdims, true);
}
Tensor min(const Tensor& x) { return extreme("min", x, all_axes(x), false, false); }
Tensor min(const Tensor& x, int axis, bool keepdims) {
    return extreme("min", x, {axis}, keepdims, false);
}

Tensor argmax(const Tensor& x, int axis, bool keepdims) {
    return arg_extreme("argmax", x, axis, keepdims, true);
}
Tensor argmin(const Tensor& x, int axis, bool keepdims) {
    return arg_extreme("argmin", x, axis, keepdims, false);
}

Tensor logsumexp(const Tensor& x, int axis, bool keepdims) {
    const ReducedAxes r("logsumexp", x.shape(), {axis});
    const detail::Lines lines(x.shape(), r.axes[0]);
    const float* v = x.value().data();
    Array y = Array::from_shape(r.out_shape(keepdims));
    // The softmax along each line, kept for the backward: dx = dy softmax(x). Kept rather than
    // recomputed as e^(x - y), which loses digits to y's rounding (y = 1000.69 has an ulp of 6e-5).
    Array softmax_x = Array::from_shape(x.shape());
    if (lines.n == 0) y.fill(-INFINITY);  // the log of an empty sum (and no line to walk)
    for (std::size_t l = 0; l < lines.count() && lines.n > 0; ++l) {
        const float* line = v + lines.start(l);
        float* e = softmax_x.data() + lines.start(l);
        float m = -INFINITY;  // the largest element (0 where it is infinite), so e^(x - m) <= 1
        for (std::size_t k = 0; k < lines.n; ++k) m = std::max(m, line[k * lines.inner]);
        if (!std::isfinite(m)) m = 0.0f;
        double s = 0.0;
        for (std::size_t k = 0; k < lines.n; ++k) {
            e[k * lines.inner] = std::exp(line[k * lines.inner] - m);
            s += e[k * lines.inner];
        }
        const float inv = static_cast<float>(1.0 / s);
        for (std::size_t k = 0; k < lines.n; ++k) e[k * lines.inner] *= inv;
        y.data()[l] = static_cast<float>(std::log(s)) + m;
    }
    const Shape kept = r.kept;
    // dx = dy softmax(x) along the axis; the fast path reuses the softmax the forward made
    return record("logsumexp", {x}, std::move(y),
                  [kept, a = static_cast<int>(r.axes[0])](const Inputs& in, const Tensor&,
                                                          const Tensor& dy) {
                      return Grads{expand(reshape(dy, kept), in[0].shape()) * softmax(in[0], a)};
                  },
                  fast_path([lines, softmax_x = std::move(softmax_x)](const Inputs&, const Tensor&,
                                                                      const Tensor& dy) {
                      return Grads{Tensor(detail::scale_lines(softmax_x, dy.value(), lines))};
                  }));
}

Tensor var(const Tensor& x, int axis, bool keepdims, int correction) {
    return var(x, std::vector<int>{axis}, keepdims, correction);
}

Tensor var(const Tensor& x, std::vector<int> axes, bool keepdims, int correction) {
    const ReducedAxes r("var", x.shape(), axes);
    if (correction < 0 || static_cast<std::size_t>(correction) >= r.n)
        throw std::invalid_argument("var: correction " + std::to_string(correction) +
                                    " leaves no degrees of freedom for " + std::to_string(r.n) +
                                    " element" + (r.n == 1 ? "" : "s") +
                                    " per result (it must be below the count)");
    const float dof = static_cast<float>(r.n - static_cast<std::size_t>(correction));
    const Shape kept = r.kept;
    Array d, y;  // d = x - mean
    if (r.axes.size() == 1 || r.axes.size() == x.dim()) {  // lines: two passes, sums in double
        const detail::Lines lines = r.axes.size() == 1 ? detail::Lines(x.shape(), r.axes[0])
                                                       : detail::Lines::whole(x.size());
        const float* v = x.value().data();
        d = Array::from_shape(x.shape());
        y = Array::from_shape(r.out_shape(keepdims));
        for (std::size_t l = 0; l < lines.count(); ++l) {
            const float* line = v + lines.start(l);
            float* dl = d.data() + lines.start(l);
            double total = 0.0;
            for (std::size_t k = 0; k < lines.n; ++k) total += line[k * lines.inner];
            const float mu = static_cast<float>(total / static_cast<double>(lines.n));
            double squares = 0.0;
            for (std::size_t k = 0; k < lines.n; ++k) {
                dl[k * lines.inner] = line[k * lines.inner] - mu;
                squares += static_cast<double>(dl[k * lines.inner]) * dl[k * lines.inner];
            }
            y.data()[l] = static_cast<float>(squares / dof);
        }
    } else {
        Array mu = detail::sum_axes(x.value(), r.axes);
        mu /= static_cast<float>(r.n);
        d = x.value() - r.keep_dims(mu);
        y = detail::sum_axes(d * d, r.axes);
        y /= dof;
        if (keepdims) y.reshape(kept);
    }
    // dx = dy 2 (x - mean) / dof: the mean's own dependence on x adds sum(x - mean) = 0. The fast
    // path reuses x - mean from the forward.
    return record("var", {x}, std::move(y),
                  [axes = r.axes, kept, dof](const Inputs& in, const Tensor&, const Tensor& dy) {
                      std::vector<int> a(axes.begin(), axes.end());
                      const Tensor centred = in[0] - expand(mean(in[0], a, true), in[0].shape());
                      return Grads{expand(reshape(dy, kept), in[0].shape()) * centred * (2.0f / dof)};
                  },
                  fast_path([d = std::move(d), kept, dof](const Inputs&, const Tensor&, const Tensor& dy) {
                      Array dy_kept = dy.value() * (2.0f / dof);
                      dy_kept.reshape(kept);
                      return Grads{Tensor(detail::times_broadcast(d, dy_kept))};
                  }));
}

Tensor var(const Tensor& x) { return var(x, all_axes(x), false, 1); }

Tensor stddev(const Tensor& x) { return sqrt(var(x)); }
Tensor stddev(const Tensor& x, int axis, bool keepdims, int correction) {
    return sqrt(var(x, axis, keepdims, correction));
}
Tensor stddev(const Tensor& x, std::vector<int> axes, bool keepdims, int correction) {
    return sqrt(var(x, std::move(axes), keepdims, correction));
}

}  // namespace tapegrad
