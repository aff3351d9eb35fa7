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

// Random weights of ±[0.5, 1.5), from the seed.
Array random_weights(const Shape& shape, std::mt19937& gen) {
    std::uniform_real_distribution<float> pick(0.5f, 1.5f);
    Array r = Array::from_shape(shape);
    for (float& v : r) v = (gen() % 2 ? 1.0f : -1.0f) * pick(gen);
    return r;
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

GradcheckResult gradgradcheck(const GradcheckFn& f, const std::vector<Array>& inputs,
                              const GradcheckOptions& options) {
    std::mt19937 gen(static_cast<std::mt19937::result_type>(options.seed));
    std::vector<Tensor> leaves;
    for (const Array& x : inputs) leaves.emplace_back(x, true);
    GradOptions first;
    first.allow_unused = true;
    Tensor y = f(leaves);
    first.grad_output = Tensor(random_weights(y.shape(), gen));
    std::vector<Array> u;
    for (const Array& x : inputs) u.push_back(random_weights(Shape(x.shape().begin(), x.shape().end()), gen));

    // Analytic: g recorded (create_graph), then dS/dx = sum_i (u_i . dg_i/dx), a backward of each
    // g_i seeded with u_i.
    first.create_graph = true;
    const std::vector<Tensor> g = grad(y, leaves, first);
    std::vector<Array> analytic;
    for (const Array& x : inputs) analytic.push_back(xt::zeros<float>(x.shape()));
    for (std::size_t i = 0; i < g.size(); ++i) {
        if (!g[i].defined() || !g[i].requires_grad()) continue;  // constant: its derivative is 0
        GradOptions second;
        second.allow_unused = true;
        second.retain_graph = true;
        second.grad_output = Tensor(u[i]);
        const std::vector<Tensor> h = grad(g[i], leaves, second);
        for (std::size_t k = 0; k < h.size(); ++k)
            if (h[k].defined()) analytic[k] += h[k].value();
    }

    // Numeric: S at x +- eps, each by a plain backward.
    first.create_graph = false;
    auto s_at = [&](const std::vector<Array>& at) {
        std::vector<Tensor> probe;
        for (const Array& x : at) probe.emplace_back(x, true);
        const std::vector<Tensor> gp = grad(f(probe), probe, first);
        double s = 0.0;
        for (std::size_t i = 0; i < gp.size(); ++i)
            if (gp[i].defined()) s += weighted_sum(gp[i].value(), u[i]);
        return s;
    };
    GradcheckResult result;
    std::vector<Array> at = inputs;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        Array& xi = at[i];
        for (std::size_t j = 0; j < xi.size(); ++j) {
            const float saved = xi.data()[j];
            xi.data()[j] = static_cast<float>(saved + options.eps);
            const double plus = s_at(at);
            xi.data()[j] = static_cast<float>(saved - options.eps);
            const double minus = s_at(at);
            xi.data()[j] = saved;
            const double step = static_cast<double>(static_cast<float>(saved + options.eps)) -
                                static_cast<double>(static_cast<float>(saved - options.eps));
            const double numeric = (plus - minus) / step;
            const double value = static_cast<double>(analytic[i].data()[j]);
            const double error = std::abs(value - numeric);
            result.max_abs_error = std::max(result.max_abs_error, error);
            if (result.ok && !(error <= options.atol + options.rtol * std::abs(numeric))) {
                std::ostringstream msg;
                msg << "gradgradcheck: input " << i << " (shape " << shape_str(xi.shape())
                    << "), element " << j << ": analytic second derivative " << value
                    << ", numeric " << numeric;
                result.ok = false;
                result.message = msg.str();
            }
        }
    }
    return result;
}

}  // namespace tapegrad
