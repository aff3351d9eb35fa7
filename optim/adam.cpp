#include "adam.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "../backend/parallel.hpp"
#include "../core/tape.hpp"

namespace tapegrad::optim {

namespace {

AdamOptions as_adam(const AdamWOptions& o) {
    return AdamOptions(o.lr()).betas(o.betas()).eps(o.eps()).weight_decay(o.weight_decay())
        .amsgrad(o.amsgrad());
}

}  // namespace

Adam::Adam(ParamGroups params, AdamOptions options)
    : Adam("Adam", false, std::move(params), options) {}

AdamW::AdamW(ParamGroups params, AdamWOptions options)
    : Adam("AdamW", true, std::move(params), as_adam(options)) {}

Adam::Adam(const char* name, bool decoupled, ParamGroups params, const AdamOptions& o)
    : Optimizer(name, std::move(params), static_cast<float>(o.lr())),
      decoupled_(decoupled),
      betas_(static_cast<float>(std::get<0>(o.betas())), static_cast<float>(std::get<1>(o.betas()))),
      eps_(static_cast<float>(o.eps())),
      weight_decay_(static_cast<float>(o.weight_decay())),
      amsgrad_(o.amsgrad()),
      moments_(params_.size()) {
    check_hyper_parameters(betas_, eps_, weight_decay_);
}

void Adam::check_hyper_parameters(std::pair<float, float> betas, float eps,
                                  float weight_decay) const {
    check_non_negative("eps", eps);
    check_non_negative("weight_decay", weight_decay);
    for (const auto& [what, beta] : {std::pair{"betas.first", betas.first},
                                     std::pair{"betas.second", betas.second}})
        if (!(beta >= 0.0f && beta < 1.0f))
            throw std::invalid_argument(std::string(name_) + ": " + what +
                                        " must be in [0, 1), but it is " + number_str(beta));
}

void Adam::step() {
    NoGrad no_grad;
    // (Plain locals, not a structured binding, which a C++17 lambda may not capture.)
    const float beta1 = betas_.first, beta2 = betas_.second;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Tensor& p = params_[i];
        if (!p.has_grad()) continue;
        Moments& s = moments_[i];
        if (s.step == 0.0f) {
            s.exp_avg = xt::zeros<float>(p.shape());
            s.exp_avg_sq = xt::zeros<float>(p.shape());
            if (amsgrad_) s.max_exp_avg_sq = xt::zeros<float>(p.shape());
        }
        s.step += 1.0f;

        // As torch: the bias corrections in double, folded into the step size and the
        // denominator; the elementwise work in float.
        const double t = s.step;
        const double bias_correction1 = 1.0 - std::pow(static_cast<double>(beta1), t);
        const double bias_correction2 = 1.0 - std::pow(static_cast<double>(beta2), t);
        const float lr = lr_of(i), weight_decay = weight_decay_of(i, weight_decay_);
        const float step_size = static_cast<float>(lr / bias_correction1);
        const float bias_correction2_sqrt = static_cast<float>(std::sqrt(bias_correction2));

        float* __restrict w = p.mutable_value().data();
        const float* __restrict grad = p.grad().data();
        float* __restrict m = s.exp_avg.data();
        float* __restrict v = s.exp_avg_sq.data();
        float* __restrict v_max = amsgrad_ ? s.max_exp_avg_sq.data() : nullptr;
        // AdamW: p = p (1 - lr weight_decay) first, as torch's (the product in float).
        // Members in locals: a store through w could otherwise change eps_ for all the compiler
        // knows, and it would reload it for every element instead of vectorising the loop.
        const bool decoupled = decoupled_;
        const float decay = decoupled ? 1.0f - lr * weight_decay : 1.0f;
        const float coupled = decoupled ? 0.0f : weight_decay;
        const float eps = eps_;
        // Elementwise, so the threads can split a large parameter without changing a bit.
        parallel_for(p.size(), [&](std::size_t begin, std::size_t end, int) {
            for (std::size_t k = begin; k < end; ++k) {
                float g = grad[k];
                if (decoupled) w[k] *= decay;
                else if (coupled != 0.0f) g = g + coupled * w[k];
                m[k] = beta1 * m[k] + (1.0f - beta1) * g;
                v[k] = beta2 * v[k] + (1.0f - beta2) * g * g;
                float second = v[k];
                if (v_max) second = v_max[k] = std::max(v_max[k], v[k]);
                const float denom = std::sqrt(second) / bias_correction2_sqrt + eps;
                w[k] = w[k] + (-step_size * m[k]) / denom;
            }
        }, min_floats_per_thread);
    }
}

void Adam::save_settings(State& out) const {
    out.put("betas", Array{betas_.first, betas_.second});
    out.put("eps", eps_);
    out.put("weight_decay", weight_decay_);
    out.put("amsgrad", amsgrad_ ? 1.0f : 0.0f);
}

void Adam::save_slots(State& out) const {
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Moments& s = moments_[i];
        if (s.step == 0.0f) continue;
        const std::string at = "." + std::to_string(i);
        out.put("step" + at, s.step);
        out.put("exp_avg" + at, s.exp_avg);
        out.put("exp_avg_sq" + at, s.exp_avg_sq);
        if (amsgrad_) out.put("max_exp_avg_sq" + at, s.max_exp_avg_sq);
    }
}

std::function<void()> Adam::read_state(const StateReader& in) {
    std::pair<float, float> betas = betas_;
    if (const Array* value = in.float32s("betas")) {
        if (value->size() != 2)
            in.fail("'betas' must hold two numbers, but its shape is " + shape_str(value->shape()));
        betas = {value->data()[0], value->data()[1]};
    }
    const float eps = in.float32("eps", eps_);
    const float weight_decay = in.float32("weight_decay", weight_decay_);
    const bool amsgrad = in.float32("amsgrad", amsgrad_ ? 1.0f : 0.0f) != 0.0f;
    check_hyper_parameters(betas, eps, weight_decay);
    // A parameter has all three of step, exp_avg and exp_avg_sq, or none (no step taken yet).
    std::vector<Moments> moments(params_.size());
    for (std::size_t i = 0; i < params_.size(); ++i) {
        float count = 0.0f;
        const bool has_step = in.per_param_number("step", i, count);
        const Array* avg = in.per_param("exp_avg", i, params_[i].shape());
        const Array* avg_sq = in.per_param("exp_avg_sq", i, params_[i].shape());
        const Array* max_sq = in.per_param("max_exp_avg_sq", i, params_[i].shape());
        const std::string at = std::to_string(i);
        if (has_step && !(count >= 1.0f && count == std::floor(count)))
            in.fail("'step." + at + "' must be a whole number >= 1, but it is " + number_str(count));
        if (!has_step && !avg && !avg_sq && !max_sq) continue;
        if (!has_step || !avg || !avg_sq || (amsgrad && !max_sq))
            in.fail("parameter " + at + " needs all of step." + at + ", exp_avg." + at +
                    (amsgrad ? ", exp_avg_sq." + at + " and max_exp_avg_sq." : " and exp_avg_sq.") +
                    at + ", but some are missing");
        moments[i] = {count, *avg, *avg_sq, amsgrad ? *max_sq : Array()};
    }
    return [=]() mutable {
        betas_ = betas;
        eps_ = eps;
        weight_decay_ = weight_decay;
        amsgrad_ = amsgrad;
        moments_ = std::move(moments);
    };
}

}  // namespace tapegrad::optim
