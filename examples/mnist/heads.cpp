#include "heads.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mnist {

using namespace tapegrad;

std::vector<std::string> trainable_losses() {
    return {"cross_entropy", "squared",     "absolute",   "log",
            "log_with_logits", "hinge", "exponential", "digit_squared"};
}

Head head_for(const std::string& loss) {
    using T = Head::Transform;
    using Y = Head::Target;
    if (loss == "cross_entropy") return {loss, 10, T::none, Y::index, "cross-entropy on logits"};
    if (loss == "squared")
        return {loss, 10, T::softmax, Y::one_hot, "squared error, softmax vs one-hot"};
    if (loss == "absolute")
        return {loss, 10, T::softmax, Y::one_hot, "absolute error, softmax vs one-hot"};
    if (loss == "log")
        return {loss, 10, T::sigmoid, Y::one_hot, "log loss per class, sigmoid vs one-hot"};
    if (loss == "log_with_logits")
        return {loss, 10, T::none, Y::one_hot, "log loss per class on logits"};
    if (loss == "hinge") return {loss, 10, T::none, Y::plus_minus_one, "hinge, one vs rest"};
    if (loss == "exponential")
        return {loss, 10, T::none, Y::plus_minus_one, "exponential, one vs rest"};
    if (loss == "digit_squared")
        return {loss, 1, T::none, Y::value, "squared error, one output regressing the digit"};
    std::string known;
    for (const std::string& name : trainable_losses()) known += (known.empty() ? "" : ", ") + name;
    if (loss == "zero_one")
        throw std::invalid_argument("--loss zero_one: the 0-1 loss has no gradient to train with "
                                    "(it is reported as the error rate); choose one of: " +
                                    known);
    throw std::invalid_argument("--loss " + loss + ": not a loss for the digit classifier; "
                                "choose one of: " + known);
}

Tensor predict(const Head& head, const Tensor& outputs) {
    switch (head.transform) {
        case Head::Transform::softmax: return softmax(outputs);
        case Head::Transform::sigmoid: return sigmoid(outputs);
        case Head::Transform::none: break;
    }
    return outputs;
}

Array targets(const Head& head, const Array& labels) {
    const std::size_t n = labels.size();
    switch (head.target) {
        case Head::Target::index: return labels;
        case Head::Target::value: {
            Array y = labels;
            y.reshape({n, 1});
            return y;
        }
        case Head::Target::one_hot:
        case Head::Target::plus_minus_one: {
            const float off = head.target == Head::Target::one_hot ? 0.0f : -1.0f;
            Array y = xt::full_like(Array::from_shape({n, 10}), off);
            for (std::size_t i = 0; i < n; ++i)
                y(i, static_cast<std::size_t>(labels(i))) = 1.0f;
            return y;
        }
    }
    return labels;
}

Array classes(const Head& head, const Array& outputs) {
    const std::size_t n = outputs.shape()[0];
    Array c = Array::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        if (head.outputs == 1) {
            c(i) = std::clamp(std::round(outputs(i, 0)), 0.0f, 9.0f);
        } else {
            std::size_t best = 0;
            for (std::size_t k = 1; k < outputs.shape()[1]; ++k)
                if (outputs(i, k) > outputs(i, best)) best = k;
            c(i) = static_cast<float>(best);
        }
    }
    return c;
}

}  // namespace mnist
