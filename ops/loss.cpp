#include "loss.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <xtensor/xbroadcast.hpp>

#include "../core/tape.hpp"
#include "activation.hpp"
#include "elementwise.hpp"
#include "index.hpp"
#include "reduce.hpp"
#include "shape.hpp"

namespace tapegrad {

namespace {

// "[3, 1]": the position of flat element `flat` in an array of shape `shape`, for messages.
template <class S>
std::string index_str(const S& shape, std::size_t flat) {
    Shape index(shape.size());
    for (std::size_t d = shape.size(); d-- > 0;) {
        index[d] = flat % shape[d];
        flat /= shape[d];
    }
    return shape_str(index);
}

std::string number_str(float v) {
    std::ostringstream out;
    out << v;
    return out.str();
}

void check_same_shape(const char* op, const Tensor& prediction, const Tensor& target) {
    if (prediction.shape() != target.shape())
        throw std::invalid_argument(std::string(op) + ": prediction is " +
                                    shape_str(prediction.shape()) + " but target is " +
                                    shape_str(target.shape()) + "; they must have the same shape");
}

// The +-1 targets of hinge and exponential, with 0 read as -1.
Array sign_targets(const char* op, const Tensor& target) {
    const Array& t = target.value();
    Array y = Array::from_shape(t.shape());
    for (std::size_t i = 0; i < t.size(); ++i) {
        const float v = t.data()[i];
        if (v != 1.0f && v != -1.0f && v != 0.0f)
            throw std::invalid_argument(std::string(op) +
                                        ": targets must be +1 or -1 (0 is read as -1), but "
                                        "element " + index_str(t.shape(), i) + " is " +
                                        number_str(v));
        y.data()[i] = v == 1.0f ? 1.0f : -1.0f;
    }
    return y;
}

void check_binary_targets(const char* op, const Tensor& target) {
    const Array& t = target.value();
    for (std::size_t i = 0; i < t.size(); ++i) {
        const float v = t.data()[i];
        if (v != 0.0f && v != 1.0f)
            throw std::invalid_argument(std::string(op) +
                                        ": targets of the binary log loss must be 0 or 1, but "
                                        "element " + index_str(t.shape(), i) + " is " +
                                        number_str(v));
    }
}

// Values in [0, 1]; `what` names them and `hint` says what to do instead.
void check_probabilities(const char* op, const char* what, const Array& a, const char* hint) {
    for (std::size_t i = 0; i < a.size(); ++i) {
        const float v = a.data()[i];
        if (!(v >= 0.0f && v <= 1.0f))
            throw std::invalid_argument(std::string(op) + ": " + what +
                                        " must be probabilities in [0, 1], but element " +
                                        index_str(a.shape(), i) + " is " + number_str(v) + hint);
    }
}

// The target of a class loss: [N] indices, or (when allowed) [N, C] probabilities.
struct ClassTarget {
    std::size_t n = 0, classes = 0;
    bool is_index = true;
    std::vector<std::size_t> index;  // one per sample when the target holds indices
    Array probabilities;             // [N, C] otherwise
};

ClassTarget class_target(const char* op, const Tensor& prediction, const Tensor& target,
                         bool allow_probabilities) {
    if (prediction.dim() != 2)
        throw std::invalid_argument(std::string(op) + ": prediction must be [N, C] (one row of " +
                                    "class scores per sample), but it is " +
                                    shape_str(prediction.shape()));
    ClassTarget t;
    t.n = prediction.shape()[0];
    t.classes = prediction.shape()[1];
    const Array& y = target.value();
    if (allow_probabilities && target.shape() == prediction.shape()) {
        check_probabilities(op, "the [N, C] targets", y, "");
        t.is_index = false;
        t.probabilities = y;
        return t;
    }
    if (target.shape() != Shape{t.n}) {
        const std::string expected =
            shape_str(Shape{t.n}) + " class indices" +
            (allow_probabilities ? " or " + shape_str(prediction.shape()) + " probabilities" : "");
        throw std::invalid_argument(std::string(op) + ": prediction is " +
                                    shape_str(prediction.shape()) + ", so target must be " +
                                    expected + ", but it is " + shape_str(target.shape()));
    }
    t.index.resize(t.n);
    for (std::size_t i = 0; i < t.n; ++i) {
        const float v = y.data()[i];
        if (!(v >= 0.0f && v < static_cast<float>(t.classes) && v == std::floor(v)))
            throw std::invalid_argument(
                std::string(op) + ": the target of sample " + std::to_string(i) + " is " +
                number_str(v) + ", but class indices must be whole numbers from 0 to " +
                std::to_string(t.classes) + " - 1 = " + std::to_string(t.classes - 1) +
                " (the prediction " + shape_str(prediction.shape()) + " has " +
                std::to_string(t.classes) + " classes)");
        t.index[i] = static_cast<std::size_t>(v);
    }
    return t;
}

// The row-wise argmax of [N, C] scores; ties go to the lowest index.
std::vector<std::size_t> argmax_rows(const Array& a) {
    const std::size_t n = a.shape()[0], c = a.shape()[1];
    std::vector<std::size_t> best(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const float* row = a.data() + i * c;
        for (std::size_t k = 1; k < c; ++k)
            if (row[k] > row[best[i]]) best[i] = k;
    }
    return best;
}

[[noreturn]] void throw_batchmean(const char* op) {
    throw std::invalid_argument(std::string(op) +
                                ": Reduction::batchmean is kl_div's; use mean, sum or none");
}

// The loss of the whole batch from the per-element `losses`: their mean, sum, or themselves.
Array reduce_values(Array&& losses, Reduction reduction, float scale) {
    if (reduction == Reduction::none) return std::move(losses);
    double total = 0.0;  // a float sum over a large batch would drift
    for (float v : losses) total += v;
    return Array(static_cast<float>(total * scale));  // 0-d, ready for backward()
}

// dl/dl_i of the batch's loss: 1 / n for the mean, 1 otherwise.
float mean_scale(const Array& losses, Reduction reduction) {
    const std::size_t n = std::max<std::size_t>(losses.size(), 1);
    return reduction == Reduction::mean ? 1.0f / static_cast<float>(n) : 1.0f;
}

// Every loss ends here: reduces the per-element `losses` and records one op. Its derivative turns
// dy into dl, the gradient of each per-element loss (for the mean dl = dy / n, for the sum
// dl = dy, for none dl = dy), and hands it to the loss's own `derivative`, which returns dl times
// dl/da in tensor ops: Tensor derivative(const Tensor& prediction, const Tensor& dl). A loss may
// add a fast path (docs/performance.md): `fast(prediction, dl)` returns the same as an array,
// where dl(i) gives element i's dl.
template <class D, class... Fast>
Tensor reduced(const char* op, const Tensor& prediction, Array losses, Reduction reduction,
               D derivative, Fast... fast) {
    static_assert(sizeof...(Fast) <= 1, "one fast path at most");
    if (reduction == Reduction::batchmean) throw_batchmean(op);
    const Shape shape(losses.shape().begin(), losses.shape().end());
    const float scale = mean_scale(losses, reduction);
    const bool each = reduction == Reduction::none;
    auto tensor_form = [derivative, shape, scale, each](const Inputs& in, const Tensor&, const Tensor& dy) {
        const Tensor dl = each ? dy : expand(dy * scale, shape);
        return Grads{derivative(in[0], dl)};
    };
    Array y = reduce_values(std::move(losses), reduction, scale);
    if constexpr (sizeof...(Fast) == 0) {
        return record(op, {prediction}, std::move(y), std::move(tensor_form));
    } else {
        return record(op, {prediction}, std::move(y), std::move(tensor_form),
                      fast_path([fast..., scale, each](const Inputs& in, const Tensor&, const Tensor& dy) {
                          const float* d = dy.value().data();
                          auto dl = [d, scale, each](std::size_t i) { return each ? d[i] : d[0] * scale; };
                          return Grads{Tensor(fast(in[0], dl)...)};
                      }));
    }
}

// A loss's optional `weight`, broadcast to `shape` (ones when undefined).
Array weights_for(const char* op, const char* what, const Tensor& weight, const Shape& shape) {
    if (!weight.defined()) return xt::ones<float>(shape);
    if (broadcast_shapes(op, weight.shape(), shape) != shape)
        throw std::invalid_argument(std::string(op) + ": " + what + " " +
                                    shape_str(weight.shape()) + " does not broadcast to the " +
                                    "input's shape " + shape_str(shape));
    Array out = Array::from_shape(shape);
    if (out.size() > 0) out = xt::broadcast(weight.value(), shape);  // xtensor steps off an empty one
    return out;
}

// The per-class weight of nll_loss and cross_entropy: [C], or ones.
Array class_weights(const char* op, const Tensor& weight, std::size_t classes) {
    if (!weight.defined()) return xt::ones<float>({classes});
    if (weight.shape() != Shape{classes})
        throw std::invalid_argument(std::string(op) + ": weight must hold one value per class, " +
                                    shape_str(Shape{classes}) + ", but it is " +
                                    shape_str(weight.shape()));
    return weight.value();
}

// The reduction of losses built from tensor ops (the torch losses below).
Tensor reduce_losses(const char* op, const Tensor& losses, Reduction reduction,
                     std::size_t batch = 0) {
    switch (reduction) {
        case Reduction::mean: return mean(losses);
        case Reduction::sum: return sum(losses);
        case Reduction::none: return losses;
        case Reduction::batchmean:
            if (batch == 0) throw_batchmean(op);
            return sum(losses) / static_cast<float>(batch);
    }
    return losses;
}

// What nll_loss reads from its [N] targets: the class each sample picks (0 where ignored), as
// gather's [N, 1] indices, and the weight of each sample (w of its class, 0 where ignored).
struct PickedClasses {
    std::size_t n = 0, classes = 0;
    Array index;         // [N, 1]
    Array weight;        // [N]
    double total = 0.0;  // the sum of `weight`: the mean's divisor
};

PickedClasses picked_classes(const char* op, const Tensor& input, const Tensor& target,
                             const Array& w, long ignore_index) {
    PickedClasses p;
    p.n = input.shape()[0];
    p.classes = input.shape()[1];
    if (target.shape() != Shape{p.n})
        throw std::invalid_argument(std::string(op) + ": input is " + shape_str(input.shape()) +
                                    ", so target must be " + shape_str(Shape{p.n}) +
                                    " class indices, but it is " + shape_str(target.shape()));
    p.index = xt::zeros<float>({p.n, std::size_t{1}});
    p.weight = xt::zeros<float>({p.n});
    for (std::size_t i = 0; i < p.n; ++i) {
        const float v = target.value().data()[i];
        if (v == static_cast<float>(ignore_index)) continue;
        if (!(v >= 0.0f && v < static_cast<float>(p.classes) && v == std::floor(v)))
            throw std::invalid_argument(
                std::string(op) + ": the target of sample " + std::to_string(i) + " is " +
                number_str(v) + ", but it must be a class index from 0 to " +
                std::to_string(p.classes - 1) + " or ignore_index (" +
                std::to_string(ignore_index) + ")");
        p.index(i, 0) = v;
        p.weight(i) = w(static_cast<std::size_t>(v));
        p.total += p.weight(i);
    }
    return p;
}

void check_class_input(const char* op, const Tensor& input) {
    if (input.dim() != 2)
        throw std::invalid_argument(std::string(op) + ": input must be [N, C] (one row of " +
                                    "class scores per sample), but it is " +
                                    shape_str(input.shape()));
}

// nll_loss of [N, C] log-probabilities at the picked classes, reduced.
Tensor picked_loss(const char* op, const Tensor& log_p, const PickedClasses& p,
                   Reduction reduction) {
    const Tensor losses = -(reshape(gather(log_p, 1, Tensor(p.index)), {p.n}) * Tensor(p.weight));
    if (reduction == Reduction::mean)  // over the weights; 0 when every sample is ignored
        return p.total > 0 ? sum(losses) / static_cast<float>(p.total) : sum(losses) * 0.0f;
    return reduce_losses(op, losses, reduction);
}

// 1 where |d| < b, else 0: which elements take the quadratic branch of smooth_l1 and huber.
Tensor below(const Tensor& d, float b) {
    Array mask = Array::from_shape(d.value().shape());
    for (std::size_t i = 0; i < mask.size(); ++i)
        mask.data()[i] = std::abs(d.value().data()[i]) < b ? 1.0f : 0.0f;
    return Tensor(std::move(mask));
}

void check_targets_in_unit_range(const char* op, const Tensor& target) {
    check_probabilities(op, "targets", target.value(), "");
}

}  // namespace

// zero_one: l = 0 if argmax_k a_k = y else 1. Flat almost everywhere, so it refuses a gradient.
Tensor zero_one_loss(const Tensor& scores, const Tensor& labels, Reduction reduction) {
    const ClassTarget t = class_target("zero_one", scores, labels, false);
    const std::vector<std::size_t> predicted = argmax_rows(scores.value());
    Array losses = Array::from_shape({t.n});
    for (std::size_t i = 0; i < t.n; ++i) losses(i) = predicted[i] == t.index[i] ? 0.0f : 1.0f;
    return reduced("zero_one", scores, std::move(losses), reduction, [](const Tensor&, const Tensor&) -> Tensor {
        throw std::logic_error(
            "zero_one: the 0-1 loss has no useful gradient (it is flat almost everywhere); "
            "train with cross_entropy or hinge and use zero_one as the error rate");
    });
}

// absolute: l = |a - y|        dl/da = sign(a - y), 0 at a = y
Tensor absolute_loss(const Tensor& prediction, const Tensor& target, Reduction reduction) {
    check_same_shape("absolute", prediction, target);
    Array diff = prediction.value() - target.value();
    Array losses = xt::abs(diff);
    return reduced("absolute", prediction, std::move(losses), reduction,
                   [diff](const Tensor&, const Tensor& dl) {
                       return dl * Tensor(xt::sign(diff));
                   });
}

// hinge: l = max(0, 1 - y a)      dl/da = -y where 1 - y a > 0, else 0
Tensor hinge_loss(const Tensor& scores, const Tensor& target, Reduction reduction) {
    check_same_shape("hinge", scores, target);
    Array y = sign_targets("hinge", target);
    Array margin = 1.0f - y * scores.value();
    Array losses = xt::maximum(margin, 0.0f);
    return reduced("hinge", scores, std::move(losses), reduction,
                   [y, margin](const Tensor&, const Tensor& dl) {
                       return dl * Tensor(xt::where(margin > 0.0f, -y, 0.0f));
                   });
}

// log: c = clamp(a, eps, 1 - eps), l = -[y ln c + (1 - y) ln(1 - c)]
//      dl/da = (c - y) / (c (1 - c)) where eps < a < 1 - eps, else 0 (the clamp is flat there)
Tensor log_loss(const Tensor& probabilities, const Tensor& target, Reduction reduction) {
    check_same_shape("log", probabilities, target);
    check_probabilities("log", "prediction", probabilities.value(),
                        " (apply sigmoid to raw scores, or use log_with_logits on them)");
    check_binary_targets("log", target);
    const float lo = probability_eps, hi = 1.0f - probability_eps;
    const Array& a = probabilities.value();
    Array y = target.value();
    Array c = xt::clip(a, lo, hi);
    Array losses = -(y * xt::log(c) + (1.0f - y) * xt::log(1.0f - c));
    return reduced("log", probabilities, std::move(losses), reduction,
                   [y, lo, hi](const Tensor& a, const Tensor& dl) {
                       const Tensor inside(xt::where(a.value() > lo && a.value() < hi, 1.0f, 0.0f));
                       const Tensor c = clamp(a, lo, hi);
                       return dl * inside * (c - Tensor(y)) / (c * (1.0f - c));
                   });
}

// log_with_logits: l = max(z, 0) - z y + ln(1 + e^-|z|)       dl/dz = sigmoid(z) - y
// The same value as log(sigmoid(z), y) without ever forming e^z for a large z or ln 0.
Tensor log_loss_with_logits(const Tensor& logits, const Tensor& target, Reduction reduction) {
    check_same_shape("log_with_logits", logits, target);
    check_binary_targets("log_with_logits", target);
    const Array& z = logits.value();
    Array y = target.value();
    Array losses = xt::maximum(z, 0.0f) - z * y + xt::log1p(xt::exp(-xt::abs(z)));
    return reduced("log_with_logits", logits, std::move(losses), reduction,
                   [y](const Tensor& z, const Tensor& dl) { return dl * (sigmoid(z) - Tensor(y)); });
}

// squared: l = (a - y)^2       dl/da = 2 (a - y)
Tensor squared_loss(const Tensor& prediction, const Tensor& target, Reduction reduction) {
    check_same_shape("squared", prediction, target);
    Array diff = prediction.value() - target.value();
    Array losses = diff * diff;
    return reduced("squared", prediction, std::move(losses), reduction,
                   [target](const Tensor& a, const Tensor& dl) {
                       return dl * (a - Tensor(target.value())) * 2.0f;
                   });
}

// exponential: l = e^(-y a)        dl/da = -y e^(-y a) = -y l
Tensor exponential_loss(const Tensor& scores, const Tensor& target, Reduction reduction) {
    check_same_shape("exponential", scores, target);
    Array y = sign_targets("exponential", target);
    Array losses = xt::exp(-y * scores.value());
    return reduced("exponential", scores, losses, reduction,
                   [y](const Tensor& a, const Tensor& dl) {
                       const Tensor minus_y(Array(-y));
                       return dl * minus_y * exp(minus_y * a);
                   });
}

namespace {
// cross_entropy: l_n = -sum_k y_nk ln softmax(a_n)_k = -sum_k y_nk (a_nk - logsumexp(a_n))
// dl_n/da_nk = softmax(a_n)_k s_n - y_nk with s_n = sum_k y_nk: softmax - y for a distribution.
// log_softmax works through log-sum-exp, so logits of +-1000 give finite values.
Tensor fused_cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction) {
    ClassTarget t = class_target("cross_entropy", logits, target, true);
    Array log_p = log_softmax_array(logits.value(), 1);
    const std::size_t n = t.n, c = t.classes;
    Array losses = xt::zeros<float>({n});
    for (std::size_t i = 0; i < n; ++i) {
        const float* row = log_p.data() + i * c;
        if (t.is_index) {
            losses(i) = -row[t.index[i]];
        } else {
            double total = 0.0;
            for (std::size_t k = 0; k < c; ++k)
                total -= static_cast<double>(t.probabilities(i, k)) * row[k];
            losses(i) = static_cast<float>(total);
        }
    }
    return reduced("cross_entropy", logits, std::move(losses), reduction,
                   [t, n, c](const Tensor& a, const Tensor& dl) {
                       // (softmax(a) s - y) dl, row by row, with y one-hot or probabilities
                       Array y = t.is_index ? Array(xt::zeros<float>({n, c})) : t.probabilities;
                       if (t.is_index)
                           for (std::size_t i = 0; i < n; ++i) y(i, t.index[i]) = 1.0f;
                       Array s = detail::sum_axes(y, {1});
                       s.reshape({n, 1});
                       return reshape(dl, {n, 1}) * (softmax(a, 1) * Tensor(s) - Tensor(y));
                   },
                   [log_p, t, n, c](const Tensor&, auto dl) {  // the same on arrays, row by row
                       Array da = xt::exp(log_p);  // softmax(a)
                       for (std::size_t i = 0; i < n; ++i) {
                           float* row = da.data() + i * c;
                           if (t.is_index) {
                               for (std::size_t k = 0; k < c; ++k) row[k] *= dl(i);
                               row[t.index[i]] -= dl(i);
                           } else {
                               float s = 0.0f;
                               for (std::size_t k = 0; k < c; ++k) s += t.probabilities(i, k);
                               for (std::size_t k = 0; k < c; ++k)
                                   row[k] = dl(i) * (row[k] * s - t.probabilities(i, k));
                           }
                       }
                       return da;
                   });
}
}  // namespace

// cross_entropy on probabilities: l_n = -sum_k y_nk ln max(a_nk, eps)
// dl_n/da_nk = -y_nk / a_nk where a_nk > eps, else 0 (the guard is flat there)
Tensor cross_entropy_from_probabilities(const Tensor& probabilities, const Tensor& target,
                                        Reduction reduction) {
    const char* op = "cross_entropy";
    ClassTarget t = class_target(op, probabilities, target, true);
    check_probabilities(op, "prediction (with use_softmax off)", probabilities.value(),
                        " (pass logits with use_softmax on instead)");
    const std::size_t n = t.n, c = t.classes;
    // The one-hot rows of index targets, so that both forms share one formula.
    Array y = t.is_index ? Array(xt::zeros<float>({n, c})) : t.probabilities;
    if (t.is_index)
        for (std::size_t i = 0; i < n; ++i) y(i, t.index[i]) = 1.0f;
    const Array& a = probabilities.value();
    Array losses = -detail::sum_axes(y * xt::log(xt::maximum(a, probability_eps)), {1});
    return reduced(op, probabilities, std::move(losses), reduction,
                   [y, n](const Tensor& a, const Tensor& dl) {
                       const Tensor kept(xt::where(a.value() > probability_eps, y, 0.0f));
                       return -reshape(dl, {n, 1}) * kept / clamp(a, probability_eps, 1.0f);
                   });
}

// PyTorch's losses (ops/loss.hpp has the formulas).

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
    return squared_loss(input, target, reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
    return absolute_loss(input, target, reduction);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                            Reduction reduction) {
    const char* op = "binary_cross_entropy";
    check_same_shape(op, input, target);
    check_probabilities(op, "input", input.value(),
                        " (apply sigmoid first, or use binary_cross_entropy_with_logits)");
    check_targets_in_unit_range(op, target);
    const Array w = weights_for(op, "weight", weight, input.shape());
    const Array& p = input.value();
    const Array& y = target.value();
    Array losses = Array::from_shape(p.shape());
    for (std::size_t i = 0; i < p.size(); ++i) {
        const float log_p = std::max(std::log(p.data()[i]), -100.0f);
        const float log_q = std::max(std::log1p(-p.data()[i]), -100.0f);
        losses.data()[i] = -w.data()[i] * (y.data()[i] * log_p + (1.0f - y.data()[i]) * log_q);
    }
    return reduced(op, input, std::move(losses), reduction,
                   [y, w](const Tensor& a, const Tensor& dl) {
                       return dl * Tensor(w) * (a - Tensor(y)) /
                              clamp(a * (1.0f - a), 1e-12f, INFINITY);
                   });
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight, const Tensor& pos_weight,
                                        Reduction reduction) {
    const char* op = "binary_cross_entropy_with_logits";
    check_same_shape(op, input, target);
    check_targets_in_unit_range(op, target);
    const Shape shape = input.shape();
    const Array w = weights_for(op, "weight", weight, shape);
    const Array& y = target.value();
    // q = 1 + (pos_weight - 1) y: how much more a positive counts
    Array q = weights_for(op, "pos_weight", pos_weight, shape);
    for (std::size_t i = 0; i < q.size(); ++i) q.data()[i] = 1.0f + (q.data()[i] - 1.0f) * y.data()[i];
    const Array& z = input.value();
    Array losses = Array::from_shape(z.shape());
    for (std::size_t i = 0; i < z.size(); ++i) {
        const float v = z.data()[i];
        const float softplus_minus = std::log1p(std::exp(-std::abs(v))) + std::max(-v, 0.0f);
        losses.data()[i] = w.data()[i] * ((1.0f - y.data()[i]) * v + q.data()[i] * softplus_minus);
    }
    return reduced(op, input, std::move(losses), reduction,
                   [y, w, q](const Tensor& a, const Tensor& dl) {
                       return dl * Tensor(w) *
                              ((1.0f - Tensor(y)) + Tensor(q) * (sigmoid(a) - 1.0f));
                   });
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight,
                long ignore_index, Reduction reduction) {
    const char* op = "nll_loss";
    check_class_input(op, input);
    const Array w = class_weights(op, weight, input.shape()[1]);
    return picked_loss(op, input, picked_classes(op, input, target, w, ignore_index), reduction);
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& options) {
    const char* op = "cross_entropy";
    check_class_input(op, input);
    const double e = options.label_smoothing();
    if (!(e >= 0.0 && e <= 1.0))
        throw std::invalid_argument(std::string(op) + ": label_smoothing must be in [0, 1], but it is " +
                                    number_str(static_cast<float>(e)));
    if (options.reduction() == Reduction::batchmean) throw_batchmean(op);
    const std::size_t n = input.shape()[0], c = input.shape()[1];
    bool plain = (!options.weight().defined() && e == 0.0) || n == 0;
    for (std::size_t i = 0; plain && i < target.size(); ++i)  // a loop: xtensor's all() steps off an empty array
        plain = target.value().data()[i] != static_cast<float>(options.ignore_index());
    if (plain) {  // one record; the class weights are not built, only checked when given
        if (options.weight().defined()) class_weights(op, options.weight(), c);
        return fused_cross_entropy(input, target, options.reduction());
    }
    const Array w = class_weights(op, options.weight(), c);
    Array w_row = w;
    w_row.reshape({std::size_t{1}, c});
    const Tensor log_p = log_softmax(input, 1);
    if (target.shape() == input.shape()) {  // probabilities, smoothed towards the uniform 1/C
        check_probabilities(op, "the [N, C] targets", target.value(), "");
        const Array y = target.value() * static_cast<float>(1.0 - e) + static_cast<float>(e / c);
        const Tensor losses = -sum(log_p * Tensor(Array(y * w_row)), 1);
        if (options.reduction() == Reduction::mean) return sum(losses) / static_cast<float>(n);
        return reduce_losses(op, losses, options.reduction());
    }
    const PickedClasses p = picked_classes(op, input, target, w, options.ignore_index());
    const Tensor nll = picked_loss(op, log_p, p, options.reduction());
    if (e == 0.0) return nll;
    // The uniform part: -sum_k w_k log p_nk for each sample not ignored.
    Array kept = xt::zeros<float>({n});
    for (std::size_t i = 0; i < n; ++i)
        kept(i) = target.value().data()[i] == static_cast<float>(options.ignore_index()) ? 0.0f : 1.0f;
    const Tensor smooth = -sum(log_p * Tensor(w_row), 1) * Tensor(kept);
    Tensor uniform;
    switch (options.reduction()) {
        case Reduction::none: uniform = smooth; break;
        case Reduction::sum: uniform = sum(smooth); break;
        default: {  // mean, as the nll part's: over the weights of the samples kept (their
                    // count without a class weight, whose weights are then 1)
            const double divisor = p.total;
            uniform = divisor > 0 ? sum(smooth) / static_cast<float>(divisor) : sum(smooth) * 0.0f;
        }
    }
    return nll * static_cast<float>(1.0 - e) + uniform * static_cast<float>(e / c);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
    const char* op = "smooth_l1_loss";
    check_same_shape(op, input, target);
    if (!(beta >= 0.0))
        throw std::invalid_argument(std::string(op) + ": beta must be >= 0, but it is " +
                                    number_str(static_cast<float>(beta)));
    const Tensor d = input - Tensor(target.value());
    if (beta == 0.0) return reduce_losses(op, abs(d), reduction);
    const float b = static_cast<float>(beta);
    const Tensor quadratic = below(d, b);
    return reduce_losses(op, where(quadratic, d * d * (0.5f / b), abs(d) - 0.5f * b), reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
    const char* op = "huber_loss";
    check_same_shape(op, input, target);
    if (!(delta > 0.0))
        throw std::invalid_argument(std::string(op) + ": delta must be > 0, but it is " +
                                    number_str(static_cast<float>(delta)));
    const float b = static_cast<float>(delta);
    const Tensor d = input - Tensor(target.value());
    const Tensor quadratic = below(d, b);
    return reduce_losses(op, where(quadratic, d * d * 0.5f, (abs(d) - 0.5f * b) * b), reduction);
}

Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target) {
    const char* op = "kl_div";
    check_same_shape(op, input, target);
    const Array& y = target.value();
    Tensor losses;
    if (log_target) {
        Array exp_y = Array::from_shape(y.shape());
        for (std::size_t i = 0; i < y.size(); ++i) exp_y.data()[i] = std::exp(y.data()[i]);
        losses = Tensor(std::move(exp_y)) * (Tensor(y) - input);
    } else {
        for (std::size_t i = 0; i < y.size(); ++i)
            if (!(y.data()[i] >= 0.0f))
                throw std::invalid_argument(
                    std::string(op) + ": targets must be probabilities (>= 0), but element " +
                    index_str(y.shape(), i) + " is " + number_str(y.data()[i]) +
                    " (pass log_target = true for log-probabilities)");
        Array y_log_y = Array::from_shape(y.shape());  // 0 where y = 0, as torch's xlogy
        for (std::size_t i = 0; i < y.size(); ++i) {
            const float v = y.data()[i];
            y_log_y.data()[i] = v > 0.0f ? v * std::log(v) : 0.0f;
        }
        losses = Tensor(std::move(y_log_y)) - Tensor(y) * input;
    }
    return reduce_losses(op, losses, reduction, input.dim() > 0 ? input.shape()[0] : 1);
}

float accuracy(const Tensor& scores, const Tensor& labels) {
    if (scores.dim() != 2 || scores.shape()[1] < 2)
        throw std::invalid_argument(
            "accuracy: scores must be [N, C] with C >= 2 classes (the argmax of each row is the "
            "prediction), but they are " + shape_str(scores.shape()) +
            "; for one output per sample use binary_accuracy(predictions, labels, threshold)");
    if (scores.shape()[0] == 0)
        throw std::invalid_argument("accuracy: there are no samples (the scores are " +
                                    shape_str(scores.shape()) + ")");
    const ClassTarget t = class_target("accuracy", scores, labels, false);
    const std::vector<std::size_t> predicted = argmax_rows(scores.value());
    std::size_t right = 0;
    for (std::size_t i = 0; i < t.n; ++i) right += predicted[i] == t.index[i];
    return static_cast<float>(right) / static_cast<float>(t.n);
}

float binary_accuracy(const Tensor& predictions, const Tensor& labels, float threshold) {
    // [N] and [N, 1] are the same column of outputs either way.
    auto as_column = [](Shape s) {
        if (s.size() == 2 && s[1] == 1) s.pop_back();
        return s;
    };
    if (as_column(predictions.shape()) != as_column(labels.shape()))
        throw std::invalid_argument("binary_accuracy: predictions are " +
                                    shape_str(predictions.shape()) + " but labels are " +
                                    shape_str(labels.shape()) + "; they must have the same shape");
    if (predictions.size() == 0)
        throw std::invalid_argument("binary_accuracy: there are no samples");
    const Array& a = predictions.value();
    const Array& y = labels.value();
    std::size_t right = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const float v = y.data()[i];
        if (v != 0.0f && v != 1.0f && v != -1.0f)
            throw std::invalid_argument("binary_accuracy: labels must be 0 or 1 (-1 is read as "
                                        "0), but element " + index_str(y.shape(), i) + " is " +
                                        number_str(v));
        right += (a.data()[i] > threshold) == (v == 1.0f);
    }
    return static_cast<float>(right) / static_cast<float>(a.size());
}

}  // namespace tapegrad
