// log_cosh: l = ln cosh(a - y)      dl/da = tanh(a - y)      a, y: the same shape, any
//
// Squared error near a = y (ln cosh d ~ d^2 / 2) and absolute error far from it (~ |d| - ln 2):
// smooth, and an outlier does not dominate. Computed as |d| + ln(1 + e^-2|d|) - ln 2, which
// never overflows (cosh d is inf for |d| > 89 in float).
#include <cmath>
#include <stdexcept>

#include <tapegrad/tapegrad.hpp>

namespace my {

using namespace tapegrad;

// The loss of each element; the registry then takes the mean, the sum, or neither.
Tensor log_cosh(const Tensor& prediction, const Tensor& target) {
    if (prediction.shape() != target.shape())
        throw std::invalid_argument("log_cosh: the prediction is " +
                                    shape_str(prediction.shape()) + " but the target is " +
                                    shape_str(target.shape()) + "; they must have one shape");
    Array d = prediction.value() - target.value();
    Array l = xt::abs(d) + xt::log1p(xt::exp(-2.0f * xt::abs(d))) - std::log(2.0f);
    // One record, as the built-in losses: the target is data and gets no gradient.
    return record("log_cosh", {prediction}, std::move(l),
                  [t = target.detach()](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{dy * tanh(in[0] - t)};  // dl/da = tanh(a - y)
                  });
}

// Makes "log_cosh" a name the registry knows, like "squared" (once per process).
void register_log_cosh() {
    nn::LossRegistry& registry = nn::LossRegistry::instance();
    if (!registry.contains("log_cosh"))
        registry.add("log_cosh", log_cosh, "ln cosh(a - y): squared near a = y, absolute far away");
}

// The registered loss (mean over the elements) against central finite differences.
GradcheckResult check_log_cosh() {
    register_log_cosh();
    const nn::LossFn loss = nn::LossRegistry::instance().get("log_cosh");
    const Tensor target(Array{0.5f, -1.0f, 2.0f});
    return gradcheck([&](const std::vector<Tensor>& t) { return loss(t[0], target); },
                     {Array{0.0f, 1.0f, -3.0f}});
}

}  // namespace my
