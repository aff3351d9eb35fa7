// PyTorch's losses, with torch's names, arguments and formulas (ops/loss.hpp has the formulas).
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xbroadcast.hpp>

#include "activation.hpp"
#include "elementwise.hpp"
#include "index.hpp"
#include "loss.hpp"
#include "loss_parts.hpp"
#include "reduce.hpp"
#include "shape.hpp"

namespace tapegrad {

using namespace loss_parts;

namespace {

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

}  // namespace tapegrad
