#include "norm.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xreducer.hpp>

#include "../core/tape.hpp"
#include "elementwise.hpp"
#include "random.hpp"
#include "reduce.hpp"
#include "shape.hpp"

namespace tapegrad {

namespace {

using Grads = std::vector<Tensor>;  // what a tensor backward returns: dx of each input

// The mean over `axes`, kept as axes of size 1 so that it broadcasts against x.
Array mean_kept(const Array& x, const std::vector<std::size_t>& axes, const Shape& kept) {
    std::size_t n = 1;
    for (std::size_t a : axes) n *= x.shape()[a];
    Array m = xt::sum(x, axes, xt::evaluation_strategy::immediate);
    m /= static_cast<float>(n);
    m.reshape(kept);
    return m;
}

// What layer_norm and batch_norm share: x normalized over `axes`, then scaled and shifted by w
// and b (either may be undefined) viewed with the shape `affine`, which broadcasts against x.
// `stats` receives the mean and the biased variance (kept shape) when not null.
Tensor normalize(const char* op, const Tensor& x, const std::vector<std::size_t>& axes,
                 const Tensor& w, const Tensor& b, const Shape& affine, float eps,
                 std::pair<Array, Array>* stats = nullptr) {
    Shape kept = x.shape();
    for (std::size_t a : axes) kept[a] = 1;
    const Array mu = mean_kept(x.value(), axes, kept);
    const Array centred = x.value() - mu;
    const Array var = mean_kept(centred * centred, axes, kept);
    const Array rstd = 1.0f / xt::sqrt(var + eps);
    const Array xhat = centred * rstd;
    if (stats) *stats = {mu, var};
    auto viewed = [&affine](const Tensor& t) {
        Array a = t.value();
        a.reshape(affine);
        return a;
    };
    Array y = xhat;
    if (w.defined()) y *= viewed(w);
    if (b.defined()) y += viewed(b);
    const bool has_w = w.defined(), has_b = b.defined();
    std::vector<int> axes_int(axes.begin(), axes.end());
    return record(
        op, {x, w, b}, std::move(y),
        [x, w, b, xhat, rstd, axes, kept, affine](const Array& dy, const Array&) {
            if (x.requires_grad()) {
                Array g = dy;
                if (w.defined()) {
                    Array wa = w.value();
                    wa.reshape(affine);
                    g = dy * wa;
                }
                x.accumulate_grad(
                    rstd * (g - mean_kept(g, axes, kept) - xhat * mean_kept(g * xhat, axes, kept)));
            }
            if (w.defined() && w.requires_grad()) {
                Array dw = unbroadcast(dy * xhat, affine);
                dw.reshape(w.shape());
                w.accumulate_grad(std::move(dw));
            }
            if (b.defined() && b.requires_grad()) {
                Array db = unbroadcast(dy, affine);
                db.reshape(b.shape());
                b.accumulate_grad(std::move(db));
            }
        },
        [axes_int, affine, eps, has_w, has_b](const Grads& in, const Tensor&, const Tensor& dy) {
            // The same formulas in tensor ops, the statistics recomputed from x.
            const Tensor& x = in[0];
            const Tensor centred = x - mean(x, axes_int, true);
            const Tensor rstd = pow(mean(square(centred), axes_int, true) + eps, -0.5f);
            const Tensor xhat = centred * rstd;
            const Tensor g = has_w ? dy * reshape(in[1], affine) : dy;
            Grads d{rstd * (g - mean(g, axes_int, true) - xhat * mean(g * xhat, axes_int, true))};
            if (has_w) d.push_back(reshape(sum_to(dy * xhat, affine), in[1].shape()));
            if (has_b) {
                const Tensor& bias = in[has_w ? 2 : 1];
                d.push_back(reshape(sum_to(dy, affine), bias.shape()));
            }
            return d;
        });
}

}  // namespace

Tensor dropout(const Tensor& x, float p, bool training) {
    if (!(p >= 0.0f && p <= 1.0f))
        throw std::invalid_argument("dropout: p must be in [0, 1], got " + std::to_string(p));
    if (!training || p == 0.0f) return x;
    // The kept elements are scaled by 1 / (1 - p), so the expected value stays x; p = 1 keeps
    // none, and the mask is all zeros rather than 0 / 0.
    Array mask = uniform_array(x.shape(), 0.0f, 1.0f);
    const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    mask = xt::where(mask >= p, scale, 0.0f);
    return record(
        "dropout", {x}, x.value() * mask,
        [x, mask](const Array& dy, const Array&) { x.accumulate_grad(dy * mask); },
        [mask](const Grads&, const Tensor&, const Tensor& dy) { return Grads{dy * Tensor(mask)}; });
}

Tensor layer_norm(const Tensor& x, const std::vector<std::size_t>& normalized_shape,
                  const Tensor& weight, const Tensor& bias, float eps) {
    const Shape shape = x.shape(), affine(normalized_shape.begin(), normalized_shape.end());
    const std::size_t k = affine.size();
    if (k == 0 || k > shape.size() || !std::equal(affine.begin(), affine.end(), shape.end() - static_cast<std::ptrdiff_t>(k)))
        throw std::invalid_argument("layer_norm: normalized_shape " + shape_str(affine) +
                                    " must be the last axes of x, but x is " + shape_str(shape));
    for (const auto& [name, t] : {std::pair<const char*, const Tensor&>{"weight", weight},
                                  std::pair<const char*, const Tensor&>{"bias", bias}})
        if (t.defined() && t.shape() != affine)
            throw std::invalid_argument(std::string("layer_norm: ") + name + " must have shape " +
                                        shape_str(affine) + " (normalized_shape), but it is " +
                                        shape_str(t.shape()));
    if (!(eps > 0.0f)) throw std::invalid_argument("layer_norm: eps must be positive");
    std::vector<std::size_t> axes;
    for (std::size_t a = shape.size() - k; a < shape.size(); ++a) axes.push_back(a);
    return normalize("layer_norm", x, axes, weight, bias, affine, eps);
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, float momentum,
                  float eps) {
    if (x.dim() != 2 && x.dim() != 4)
        throw std::invalid_argument("batch_norm: x must be [N, C] or [N, C, H, W], but its shape "
                                    "is " + shape_str(x.shape()));
    const Shape shape = x.shape();
    const std::size_t c = shape[1];
    for (const auto& [name, t] : {std::pair<const char*, const Tensor&>{"running_mean", running_mean},
                                  std::pair<const char*, const Tensor&>{"running_var", running_var},
                                  std::pair<const char*, const Tensor&>{"weight", weight},
                                  std::pair<const char*, const Tensor&>{"bias", bias}})
        if (t.defined() && t.shape() != Shape{c})
            throw std::invalid_argument(std::string("batch_norm: ") + name + " must have shape [" +
                                        std::to_string(c) + "] (one value per channel of x " +
                                        shape_str(shape) + "), but it is " + shape_str(t.shape()));
    if (!(eps > 0.0f)) throw std::invalid_argument("batch_norm: eps must be positive");
    Shape affine{c};  // [C] or [C, 1, 1]: broadcasts against x along axis 1
    if (x.dim() == 4) affine = {c, 1, 1};
    std::vector<std::size_t> axes{0};
    if (x.dim() == 4) axes = {0, 2, 3};
    const std::size_t n = x.size() / std::max<std::size_t>(c, 1);  // values per channel

    if (!training) {
        if (!running_mean.defined() || !running_var.defined())
            throw std::invalid_argument("batch_norm: evaluation (training = false) needs "
                                        "running_mean and running_var");
        Array rm = running_mean.value(), rstd = 1.0f / xt::sqrt(running_var.value() + eps);
        rm.reshape(affine);
        rstd.reshape(affine);
        Tensor y = (x - Tensor(rm)) * Tensor(rstd);
        if (weight.defined()) y = y * reshape(weight, affine);
        if (bias.defined()) y = y + reshape(bias, affine);
        return y;
    }
    if (n <= 1)
        throw std::invalid_argument("batch_norm: training needs more than one value per channel, "
                                    "but x is " + shape_str(shape) +
                                    " (use a larger batch, or evaluation mode)");
    std::pair<Array, Array> stats;
    Tensor y = normalize("batch_norm", x, axes, weight, bias, affine, eps, &stats);
    if (running_mean.defined()) {
        Array& rm = running_mean.mutable_value();
        stats.first.reshape({c});
        rm = (1.0f - momentum) * rm + momentum * stats.first;
    }
    if (running_var.defined()) {
        Array& rv = running_var.mutable_value();
        stats.second.reshape({c});
        const float unbiased = static_cast<float>(n) / static_cast<float>(n - 1);
        rv = (1.0f - momentum) * rv + momentum * unbiased * stats.second;
    }
    return y;
}

}  // namespace tapegrad
