#include "norm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xreducer.hpp>

#include "../backend/kernels.hpp"
#include "../backend/parallel.hpp"
#include "../core/tape.hpp"
#include "elementwise.hpp"
#include "pool.hpp"
#include "random.hpp"
#include "reduce.hpp"
#include "shape.hpp"

namespace tapegrad {

namespace {


// x viewed as [A, G, B]: the statistics are per group g, over the A x B elements (a, g, b).
// layer_norm: A = 1, G = the rows, B = the normalized size; batch_norm: A = N, G = C, B = H W.
// The weight and bias go per position b (layer_norm) or per group g (batch_norm).
struct Groups {
    std::size_t a, g, b;
    bool affine_per_group;
    std::size_t count() const { return a * b; }
    std::size_t at(std::size_t i, std::size_t grp, std::size_t j) const { return (i * g + grp) * b + j; }
};

// The mean, the biased variance and 1 / sqrt(var + eps) of each group.
struct Statistics {
    std::vector<float> mean, var, rstd;
};

// Groups are independent, so the threads take contiguous ranges of them; each group's sums run
// in the same order on any thread, so the results do not depend on the thread count.
void for_groups(const Groups& s, const std::function<void(std::size_t, std::size_t)>& body) {
    const std::size_t min_groups =
        std::max<std::size_t>(1, min_floats_per_thread / std::max<std::size_t>(1, s.count()));
    parallel_for(s.g, [&](std::size_t begin, std::size_t end, int) { body(begin, end); }, min_groups);
}

// The sum of (v - mu)^2 over n values, in eight float lanes, then into double (as
// detail::row_sum).
double squared_deviations(const float* __restrict row, std::size_t n, float mu) {
    float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (std::size_t l = 0; l < 8; ++l) part[l] += (row[k + l] - mu) * (row[k + l] - mu);
    double total = 0.0;
    for (float p : part) total += p;
    for (; k < n; ++k) total += (row[k] - mu) * (row[k] - mu);
    return total;
}

// One group's statistics into r: the mean, then the variance in a second pass (the variance of
// values far from 0 stays exact), which finds the group in cache.
void group_statistics(const float* in, const Groups& s, float eps, std::size_t grp,
                      Statistics& r) {
    double total = 0.0;
    for (std::size_t i = 0; i < s.a; ++i) total += detail::row_sum(in + s.at(i, grp, 0), s.b);
    const float mu = static_cast<float>(total / static_cast<double>(s.count()));
    double squares = 0.0;
    for (std::size_t i = 0; i < s.a; ++i) squares += squared_deviations(in + s.at(i, grp, 0), s.b, mu);
    const double var = squares / static_cast<double>(s.count());
    r.mean[grp] = mu;
    r.var[grp] = static_cast<float>(var);
    r.rstd[grp] = static_cast<float>(1.0 / std::sqrt(var + eps));
}

// x^ = (x - mean) rstd of row (i, grp), into h.
void xhat_row(const float* x, const Groups& s, const Statistics& st, std::size_t i, std::size_t grp,
              float* __restrict h) {
    const float* __restrict row = x + s.at(i, grp, 0);
    const float mu = st.mean[grp], r = st.rstd[grp];
    for (std::size_t j = 0; j < s.b; ++j) h[j] = (row[j] - mu) * r;
}

// batch_norm's y of row (i, grp) into out: x^, then x^ w + b with the group's w and b (when
// either is given). The fused batch_norm_relu_max_pool2d computes the same numbers through it.
void batch_row(const float* x, const Groups& s, const Statistics& st, std::size_t i,
               std::size_t grp, const float* wv, const float* bv, float* __restrict out) {
    xhat_row(x, s, st, i, grp, out);
    if (!wv && !bv) return;
    const float scale = wv ? wv[grp] : 1.0f, shift = bv ? bv[grp] : 0.0f;
    for (std::size_t j = 0; j < s.b; ++j) out[j] = out[j] * scale + shift;
}

// Over one row of n values: the sum of g' = dy w and of g' x^, x^ = (x - mu) r, with w[j] the
// weight at position j (w null: 1). In 8 float lanes, then into double (as detail::row_sum).
struct Sums {
    double g, gh;
};

// Eight floats as one value (the vector extension of GCC and Clang), so that the compiler keeps
// the sums in vector registers rather than shuffling two arrays of eight.
using Lanes = float __attribute__((vector_size(32)));

Lanes load_lanes(const float* p) {
    Lanes v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

Sums row_sums(const float* __restrict dy, const float* __restrict x, const float* __restrict w,
              float mu, float r, std::size_t n) {
    Lanes pg = {0, 0, 0, 0, 0, 0, 0, 0}, pgh = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        const Lanes gw = w ? load_lanes(dy + k) * load_lanes(w + k) : load_lanes(dy + k);
        pg += gw;
        pgh += gw * ((load_lanes(x + k) - mu) * r);
    }
    Sums total{0.0, 0.0};
    for (std::size_t l = 0; l < 8; ++l) {
        total.g += pg[l];
        total.gh += pgh[l];
    }
    for (; k < n; ++k) {
        const float gw = w ? dy[k] * w[k] : dy[k];
        total.g += gw;
        total.gh += gw * ((x[k] - mu) * r);
    }
    return total;
}

// batch_norm's backward for one group (channel) grp, whose row i of dy starts at g + i * g_row
// (the rows of x and dx are where s puts them): sg and sgh receive the sums of dy and of dy x^
// (db and dw), and dx, when not null, rstd (g' - mean(g') - x^ mean(g' x^)) with g' = dy w.
void batch_group_backward(const Groups& s, const Statistics& st, std::size_t grp, const float* g,
                          std::size_t g_row, const float* xv, const float* wv, double& sg,
                          double& sgh, float* dx) {
    const float mu = st.mean[grp], r = st.rstd[grp];
    for (std::size_t i = 0; i < s.a; ++i) {
        const Sums t = row_sums(g + i * g_row, xv + s.at(i, grp, 0), nullptr, mu, r, s.b);
        sg += t.g;
        sgh += t.gh;
    }
    if (!dx) return;
    const double count = static_cast<double>(s.count());
    const float scale = wv ? wv[grp] : 1.0f;
    const float a1 = static_cast<float>(scale * sg / count);
    const float a2 = static_cast<float>(scale * sgh / count);
    for (std::size_t i = 0; i < s.a; ++i) {
        const float* __restrict row = g + i * g_row;
        const float* __restrict in = xv + s.at(i, grp, 0);
        float* __restrict out = dx + s.at(i, grp, 0);
        for (std::size_t j = 0; j < s.b; ++j)
            out[j] = r * (row[j] * scale - a1 - ((in[j] - mu) * r) * a2);
    }
}

Array to_array(const std::vector<double>& v, const Shape& shape) {
    Array a = Array::from_shape(shape);
    std::copy(v.begin(), v.end(), a.data());
    return a;
}

// The gradients of x and of w and b where they are inputs (an undefined one is not): in the
// order of the record's inputs.
Grads in_order(const Tensor& gx, const Tensor& gw, const Tensor& gb, bool has_w, bool has_b) {
    Grads d{gx};
    if (has_w) d.push_back(gw);
    if (has_b) d.push_back(gb);
    return d;
}

// normalize's derivative in tensor ops: the same formulas as its fast path, the statistics
// recomputed from x = in[0]; in[1] is w when has_w, then b when has_b.
Grads normalize_tensor_backward(const Inputs& in, const Tensor& dy,
                                const std::vector<int>& axes_int, const Shape& affine, float eps,
                                bool has_w, bool has_b) {
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
}

// What layer_norm and batch_norm share: y = x^ * w + b over the groups of `s`; w and b (either
// may be undefined) have the shape `affine`, which broadcasts against x. `stats` receives the
// mean and the biased variance of each group when not null. Backward works x^ out again from x
// and the statistics rather than keeping it: one array of x's size less from forward to
// backward, for a subtraction and a multiplication per value.
Tensor normalize(const char* op, const Tensor& x, const Groups& s,
                 const std::vector<std::size_t>& axes, const Tensor& w, const Tensor& b,
                 const Shape& affine, float eps, Statistics* stats = nullptr) {
    const float* xv = x.value().data();
    auto statistics = std::make_shared<Statistics>(
        Statistics{std::vector<float>(s.g), std::vector<float>(s.g), std::vector<float>(s.g)});
    const std::shared_ptr<const Statistics> st = statistics;
    Array y = Array::from_shape(x.shape());
    const float* wv = w.defined() ? w.value().data() : nullptr;
    const float* bv = b.defined() ? b.value().data() : nullptr;
    // Group by group: its statistics, then its rows of y while the group is still in cache (one
    // pass over x through memory rather than two).
    for_groups(s, [&](std::size_t begin, std::size_t end) {
        for (std::size_t grp = begin; grp < end; ++grp) {
            group_statistics(xv, s, eps, grp, *statistics);
            for (std::size_t i = 0; i < s.a; ++i) {
                float* __restrict row = y.data() + s.at(i, grp, 0);
                if (s.affine_per_group) {
                    batch_row(xv, s, *st, i, grp, wv, bv, row);
                } else {
                    xhat_row(xv, s, *st, i, grp, row);
                    if (wv) for (std::size_t j = 0; j < s.b; ++j) row[j] *= wv[j];
                    if (bv) for (std::size_t j = 0; j < s.b; ++j) row[j] += bv[j];
                }
            }
        }
    });
    if (stats) *stats = *st;
    const bool has_w = w.defined(), has_b = b.defined();
    std::vector<int> axes_int(axes.begin(), axes.end());
    // The fast path: the sums and dx per group, while the group is in cache; dw and db summed
    // over the rows in float runs of 64, then in double.
    auto fast = [x, w, b, s, st](const Inputs&, const Tensor&, const Tensor& dy_tensor) {
        const Array& dy = dy_tensor.value();
        Tensor gx, gw, gb;  // what goes to x, w and b
        [&] {
            const float* g = dy.data();
            const float* xv = x.value().data();
            const float* wv = w.defined() ? w.value().data() : nullptr;
            const bool dw = w.defined() && w.requires_grad(), db = b.defined() && b.requires_grad();
            const double count = static_cast<double>(s.count());
            Array dx;
            if (x.requires_grad()) dx = Array::from_shape(dy.shape());
            // dx = rstd (g' - mean(g') - x^ mean(g' x^)) per group, with g' = dy w: a pass for
            // the two sums, a pass for dx.
            auto dx_rows = [&](std::size_t grp, float a1, float a2, auto weight) {
                const float mu = st->mean[grp], r = st->rstd[grp];
                for (std::size_t i = 0; i < s.a; ++i) {
                    const float* __restrict row = g + s.at(i, grp, 0);
                    const float* __restrict in = xv + s.at(i, grp, 0);
                    float* __restrict out = dx.data() + s.at(i, grp, 0);
                    for (std::size_t j = 0; j < s.b; ++j)
                        out[j] = r * (row[j] * weight(j) - a1 - ((in[j] - mu) * r) * a2);
                }
            };
            if (s.affine_per_group) {
                // batch_norm: w is one value per group, so the sums of dy and dy x^ serve dx
                // (times w), dw and db alike.
                std::vector<double> sg(s.g, 0.0), sgh(s.g, 0.0);
                for_groups(s, [&](std::size_t begin, std::size_t end) {
                    for (std::size_t grp = begin; grp < end; ++grp)
                        batch_group_backward(s, *st, grp, g + s.at(0, grp, 0), s.g * s.b, xv, wv,
                                             sg[grp], sgh[grp],
                                             x.requires_grad() ? dx.data() : nullptr);
                });
                if (dx.size() > 0) gx = Tensor(std::move(dx));
                if (dw) gw = Tensor(to_array(sgh, w.shape()));
                if (db) gb = Tensor(to_array(sg, b.shape()));
                return;
            }
            // layer_norm: w is one value per position j.
            if (x.requires_grad()) {
                for_groups(s, [&](std::size_t begin, std::size_t end) {
                    for (std::size_t grp = begin; grp < end; ++grp) {
                        double m1 = 0.0, m2 = 0.0;
                        for (std::size_t i = 0; i < s.a; ++i) {
                            const float* row = g + s.at(i, grp, 0);
                            const float* in = xv + s.at(i, grp, 0);
                            const Sums t =
                                row_sums(row, in, wv, st->mean[grp], st->rstd[grp], s.b);
                            m1 += t.g;
                            m2 += t.gh;
                        }
                        const float a1 = static_cast<float>(m1 / count);
                        const float a2 = static_cast<float>(m2 / count);
                        if (wv) dx_rows(grp, a1, a2, [wv](std::size_t j) { return wv[j]; });
                        else dx_rows(grp, a1, a2, [](std::size_t) { return 1.0f; });
                    }
                });
                gx = Tensor(std::move(dx));
            }
            if (dw || db) {  // sums of dy x^ and dy over the rows: float sums of up to 64 rows
                             // at a time, then into double
                std::vector<double> sw(s.b, 0.0), sb(s.b, 0.0);
                std::vector<float> h(s.b), pw(s.b, 0.0f), pb(s.b, 0.0f);
                auto flush = [&] {
                    for (std::size_t j = 0; j < s.b; ++j) {
                        sw[j] += pw[j];
                        sb[j] += pb[j];
                        pw[j] = pb[j] = 0.0f;
                    }
                };
                std::size_t rows = 0;
                for (std::size_t i = 0; i < s.a; ++i)
                    for (std::size_t grp = 0; grp < s.g; ++grp) {
                        const float* __restrict row = g + s.at(i, grp, 0);
                        xhat_row(xv, s, *st, i, grp, h.data());
                        for (std::size_t j = 0; j < s.b; ++j) {
                            pw[j] += row[j] * h[j];
                            pb[j] += row[j];
                        }
                        if (++rows % 64 == 0) flush();
                    }
                flush();
                if (dw) gw = Tensor(to_array(sw, w.shape()));
                if (db) gb = Tensor(to_array(sb, b.shape()));
            }
        }();
        return in_order(gx, gw, gb, w.defined(), b.defined());
    };
    return record(
        op, {x, w, b}, std::move(y),
        [axes_int, affine, eps, has_w, has_b](const Inputs& in, const Tensor&, const Tensor& dy) {
            return normalize_tensor_backward(in, dy, axes_int, affine, eps, has_w, has_b);
        },
        fast_path(std::move(fast)));
}

// batch_norm in training with its running statistics, checked as batch_norm checks them: whether
// they are undefined or one value per channel, and the update itself.
bool per_channel(const Tensor& t, std::size_t c) { return !t.defined() || t.shape() == Shape{c}; }

void update_running(const Tensor& running_mean, const Tensor& running_var, const Statistics& stats,
                    std::size_t n, float momentum) {
    const float unbiased = static_cast<float>(n) / static_cast<float>(n - 1);
    for (std::size_t k = 0; k < stats.mean.size(); ++k) {
        if (running_mean.defined()) {
            float& rm = running_mean.mutable_value().data()[k];
            rm = (1.0f - momentum) * rm + momentum * stats.mean[k];
        }
        if (running_var.defined()) {
            float& rv = running_var.mutable_value().data()[k];
            rv = (1.0f - momentum) * rv + momentum * unbiased * stats.var[k];
        }
    }
}

}  // namespace

Tensor dropout(const Tensor& x, float p, bool training) {
    if (!(p >= 0.0f && p <= 1.0f))
        throw std::invalid_argument("dropout: p must be in [0, 1], got " + std::to_string(p));
    if (!training || p == 0.0f) return x;
    // The kept elements are scaled by 1 / (1 - p), so the expected value stays x; p = 1 keeps
    // none, and the mask is all zeros rather than 0 / 0.
    const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    const Tensor mask(keep_mask(x.shape(), p, scale));  // scale where U(0, 1) >= p, else 0
    return record("dropout", {x},
                  detail::map(x.value(), mask.value(), [](float v, float m) { return v * m; }),
                  [mask](const Inputs&, const Tensor&, const Tensor& dy) { return Grads{dy * mask}; });
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
    std::size_t inner = 1;
    for (std::size_t d : affine) inner *= d;
    const Groups groups{1, inner == 0 ? 0 : x.size() / inner, inner, false};
    return normalize("layer_norm", x, groups, axes, weight, bias, affine, eps);
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
    Statistics stats;
    const Groups groups{shape[0], c, x.dim() == 4 ? shape[2] * shape[3] : 1, true};
    Tensor y = normalize("batch_norm", x, groups, axes, weight, bias, affine, eps, &stats);
    update_running(running_mean, running_var, stats, n, momentum);
    return y;
}

Tensor batch_norm_relu_max_pool2d(const Tensor& x, const Tensor& running_mean,
                                  const Tensor& running_var, const Tensor& weight,
                                  const Tensor& bias, float momentum, float eps) {
    const Shape shape = x.shape();
    const bool applies =
        x.dim() == 4 && shape[2] >= 2 && shape[3] >= 2 &&
        shape[2] * shape[3] <= std::numeric_limits<std::uint32_t>::max() && eps > 0.0f &&
        shape[0] * shape[2] * shape[3] > 1 && per_channel(running_mean, shape[1]) &&
        per_channel(running_var, shape[1]) && per_channel(weight, shape[1]) &&
        per_channel(bias, shape[1]);
    if (!applies)  // the three ops, which also say what is wrong, if anything
        return relu_max_pool2d(
            batch_norm(x, running_mean, running_var, weight, bias, true, momentum, eps));
    const std::size_t n = shape[0], c = shape[1], h = shape[2], w = shape[3];
    const std::size_t ho = h / 2, wo = w / 2;
    const Groups s{n, c, h * w, true};
    auto statistics = std::make_shared<Statistics>(
        Statistics{std::vector<float>(c), std::vector<float>(c), std::vector<float>(c)});
    Array y = Array::from_shape({n, c, ho, wo});
    auto index = std::make_shared<detail::PoolIndex>();
    index->argmax.resize(y.size());
    const float* xv = x.value().data();
    const float* wv = weight.defined() ? weight.value().data() : nullptr;
    const float* bv = bias.defined() ? bias.value().data() : nullptr;
    // Channel by channel: its statistics, then each plane normalized by batch_row into a scratch
    // plane (the numbers normalize writes into y), rectified and pooled from there.
    for_groups(s, [&](std::size_t begin, std::size_t end) {
        std::vector<float> normalized(h * w);
        for (std::size_t grp = begin; grp < end; ++grp) {
            group_statistics(xv, s, eps, grp, *statistics);
            for (std::size_t i = 0; i < n; ++i) {
                batch_row(xv, s, *statistics, i, grp, wv, bv, normalized.data());
                const std::size_t p = i * c + grp;  // the plane's index in y
                for (std::size_t k = 0; k < ho; ++k)
                    detail::relu_max_pool_2x2_row(
                        normalized.data() + 2 * k * w, normalized.data() + (2 * k + 1) * w,
                        static_cast<std::uint32_t>(2 * k * w), static_cast<std::uint32_t>(w), wo,
                        y.data() + (p * ho + k) * wo, index->argmax.data() + (p * ho + k) * wo);
            }
        }
    });
    index->describe(shape, y, std::max<std::size_t>(1, min_floats_per_thread / (h * w)));
    update_running(running_mean, running_var, *statistics, n * h * w, momentum);
    const std::shared_ptr<const Statistics> st = std::move(statistics);
    const std::shared_ptr<const detail::PoolIndex> at = std::move(index);
    const bool has_w = weight.defined(), has_b = bias.defined();
    return record(
        "batch_norm_relu_max_pool2d", {x, weight, bias}, std::move(y),
        [at, eps, has_w, has_b, c](const Inputs& in, const Tensor& y, const Tensor& dy) {
            const Array positive =
                detail::map(y.value(), [](float v) { return v > 0.0f ? 1.0f : 0.0f; });
            const Tensor g = detail::pool_scatter(dy * Tensor(positive), at);
            return normalize_tensor_backward(in, g, {0, 2, 3}, Shape{c, 1, 1}, eps, has_w, has_b);
        },
        fast_path([x, weight, bias, s, st, at](const Inputs&, const Tensor& y_tensor,
                                               const Tensor& dy_tensor) {
            const Array &dy = dy_tensor.value(), &y = y_tensor.value();
            // The gradient of the normalized array, channel by channel into a scratch of one
            // channel's planes: dy at each window's maximum where that maximum is positive, as
            // relu_max_pool2d sends it, then batch_norm's backward on it.
            const float* wv = weight.defined() ? weight.value().data() : nullptr;
            Array dx;
            if (x.requires_grad()) dx = Array::from_shape(x.shape());
            std::vector<double> sg(s.g, 0.0), sgh(s.g, 0.0);
            for_groups(s, [&](std::size_t begin, std::size_t end) {
                std::vector<float> g(s.a * s.b);
                for (std::size_t grp = begin; grp < end; ++grp) {
                    std::fill(g.begin(), g.end(), 0.0f);
                    for (std::size_t i = 0; i < s.a; ++i) {
                        const std::size_t p = i * s.g + grp;
                        const float* dy_plane = dy.data() + p * at->plane_out;
                        const float* y_plane = y.data() + p * at->plane_out;
                        const std::uint32_t* where = at->argmax.data() + p * at->plane_out;
                        float* g_plane = g.data() + i * s.b;
                        for (std::size_t k = 0; k < at->plane_out; ++k)
                            g_plane[where[k]] += y_plane[k] > 0.0f ? dy_plane[k] : 0.0f;
                    }
                    batch_group_backward(s, *st, grp, g.data(), s.b, x.value().data(), wv,
                                         sg[grp], sgh[grp],
                                         x.requires_grad() ? dx.data() : nullptr);
                }
            });
            return in_order(x.requires_grad() ? Tensor(std::move(dx)) : Tensor(),
                            weight.defined() && weight.requires_grad()
                                ? Tensor(to_array(sgh, weight.shape())) : Tensor(),
                            bias.defined() && bias.requires_grad()
                                ? Tensor(to_array(sg, bias.shape())) : Tensor(),
                            weight.defined(), bias.defined());
        }));
}

}  // namespace tapegrad
