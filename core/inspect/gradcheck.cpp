#include "gradcheck.hpp"

#include <cmath>
#include <random>
#include <sstream>

#include "../tape.hpp"

namespace tapegrad {

namespace {

double weighted_sum(const Array& y, const Array& r) {
    double total = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i)
        total += static_cast<double>(y.data()[i]) * static_cast<double>(r.data()[i]);
    return total;
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Array>& inputs,
                          const GradcheckOptions& options) {
    std::vector<Tensor> leaves;
    for (const Array& x : inputs) leaves.emplace_back(x, true);
    Tensor y = f(leaves);

    std::mt19937 gen(static_cast<std::mt19937::result_type>(options.seed));
    std::uniform_real_distribution<float> pick(0.5f, 1.5f);
    Array r = Array::from_shape(y.value().shape());
    for (float& v : r) v = (gen() % 2 ? 1.0f : -1.0f) * pick(gen);
    y.backward(r);

    GradcheckResult result;
    NoGrad no_grad;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        std::vector<Tensor> probe;
        for (const Array& x : inputs) probe.emplace_back(x);
        Array& xi = probe[i].mutable_value();
        for (std::size_t j = 0; j < xi.size(); ++j) {
            const float saved = xi.data()[j];
            xi.data()[j] = static_cast<float>(saved + options.eps);
            const double plus = weighted_sum(f(probe).value(), r);
            xi.data()[j] = static_cast<float>(saved - options.eps);
            const double minus = weighted_sum(f(probe).value(), r);
            xi.data()[j] = saved;
            // The step actually taken in float, not the one asked for.
            const double step = static_cast<double>(static_cast<float>(saved + options.eps)) -
                                static_cast<double>(static_cast<float>(saved - options.eps));
            const double numeric = (plus - minus) / step;
            const double analytic =
                leaves[i].has_grad() ? static_cast<double>(leaves[i].grad().data()[j]) : 0.0;
            const double error = std::abs(analytic - numeric);
            result.max_abs_error = std::max(result.max_abs_error, error);
            if (result.ok && !(error <= options.atol + options.rtol * std::abs(numeric))) {
                std::ostringstream msg;
                msg << "gradcheck: input " << i << " (shape " << shape_str(xi.shape())
                    << "), element " << j << ": analytic " << analytic << ", numeric " << numeric;
                result.ok = false;
                result.message = msg.str();
            }
        }
    }
    return result;
}

}  // namespace tapegrad
