#include "loss.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../core/tape.hpp"
#include "activation.hpp"
#include "elementwise.hpp"
#include "index.hpp"
#include "loss_parts.hpp"
#include "reduce.hpp"
#include "shape.hpp"

namespace tapegrad {

// The helpers both loss files use (ops/loss_parts.hpp says what each does).
namespace loss_parts {

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

void check_probabilities(const char* op, const char* what, const Array& a, const char* hint) {
    for (std::size_t i = 0; i < a.size(); ++i) {
        const float v = a.data()[i];
        if (!(v >= 0.0f && v <= 1.0f))
            throw std::invalid_argument(std::string(op) + ": " + what +
                                        " must be probabilities in [0, 1], but element " +
                                        index_str(a.shape(), i) + " is " + number_str(v) + hint);
    }
}

[[noreturn]] void throw_batchmean(const char* op) {
    throw std::invalid_argument(std::string(op) +
                                ": Reduction::batchmean is kl_div's; use mean, sum or none");
}

Array reduce_values(Array&& losses, Reduction reduction, float scale) {
    if (reduction == Reduction::none) return std::move(losses);
    double total = 0.0;  // a float sum over a large batch would drift
    for (float v : losses) total += v;
    return Array(static_cast<float>(total * scale));  // 0-d, ready for backward()
}

float mean_scale(const Array& losses, Reduction reduction) {
    const std::size_t n = std::max<std::size_t>(losses.size(), 1);
    return reduction == Reduction::mean ? 1.0f / static_cast<float>(n) : 1.0f;
}

}  // namespace loss_parts

using namespace loss_parts;

namespace {

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
    return reduced("log_loss", probabilities, std::move(losses), reduction,
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

namespace loss_parts {
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
}  // namespace loss_parts

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
