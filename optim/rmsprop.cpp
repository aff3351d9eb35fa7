#include "rmsprop.hpp"

#include <cmath>
#include <stdexcept>

#include "../core/tape.hpp"

namespace tapegrad::optim {

RMSprop::RMSprop(ParamGroups params, RMSpropOptions o)
    : Optimizer("RMSprop", std::move(params), static_cast<float>(o.lr())),
      alpha_(static_cast<float>(o.alpha())),
      eps_(static_cast<float>(o.eps())),
      weight_decay_(static_cast<float>(o.weight_decay())),
      momentum_(static_cast<float>(o.momentum())),
      centered_(o.centered()),
      slots_(params_.size()) {
    check_hyper_parameters(alpha_, eps_, weight_decay_, momentum_);
}

void RMSprop::check_hyper_parameters(float alpha, float eps, float weight_decay,
                                     float momentum) const {
    check_non_negative("alpha", alpha);
    check_non_negative("eps", eps);
    check_non_negative("weight_decay", weight_decay);
    check_non_negative("momentum", momentum);
}

void RMSprop::step() {
    NoGrad no_grad;
    const float alpha = alpha_, eps = eps_, momentum = momentum_;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Tensor& p = params_[i];
        if (!p.has_grad()) continue;
        const float lr = lr_of(i), decay = weight_decay_of(i, weight_decay_);
        Slots& s = slots_[i];
        if (!s.started) {
            s.started = true;
            s.square_avg = xt::zeros<float>(p.shape());
            if (centered_) s.grad_avg = xt::zeros<float>(p.shape());
            if (momentum > 0.0f) s.momentum_buffer = xt::zeros<float>(p.shape());
        }
        float* w = p.mutable_value().data();
        const float* grad = p.grad().data();
        float* v = s.square_avg.data();
        float* a = centered_ ? s.grad_avg.data() : nullptr;
        float* b = momentum > 0.0f ? s.momentum_buffer.data() : nullptr;
        for (std::size_t k = 0; k < p.size(); ++k) {  // torch's operations, in its order
            float g = grad[k];
            if (decay != 0.0f) g = g + decay * w[k];
            v[k] = v[k] * alpha + (1.0f - alpha) * g * g;
            float d;
            if (a) {
                a[k] = a[k] * alpha + (1.0f - alpha) * g;
                d = std::sqrt(v[k] + -1.0f * a[k] * a[k]) + eps;
            } else {
                d = std::sqrt(v[k]) + eps;
            }
            if (b) {
                b[k] = b[k] * momentum + g / d;
                w[k] = w[k] + -lr * b[k];
            } else {
                w[k] = w[k] + -lr * (g / d);
            }
        }
    }
}

void RMSprop::save_settings(State& out) const {
    out.put("alpha", alpha_);
    out.put("eps", eps_);
    out.put("weight_decay", weight_decay_);
    out.put("momentum", momentum_);
    out.put("centered", centered_ ? 1.0f : 0.0f);
}

void RMSprop::save_slots(State& out) const {
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Slots& s = slots_[i];
        if (!s.started) continue;
        const std::string at = "." + std::to_string(i);
        out.put("square_avg" + at, s.square_avg);
        if (centered_) out.put("grad_avg" + at, s.grad_avg);
        if (momentum_ > 0.0f) out.put("momentum_buffer" + at, s.momentum_buffer);
    }
}

std::function<void()> RMSprop::read_state(const StateReader& in) {
    const float alpha = in.float32("alpha", alpha_), eps = in.float32("eps", eps_),
                weight_decay = in.float32("weight_decay", weight_decay_),
                momentum = in.float32("momentum", momentum_);
    const bool centered = in.float32("centered", centered_ ? 1.0f : 0.0f) != 0.0f;
    check_hyper_parameters(alpha, eps, weight_decay, momentum);
    std::vector<Slots> slots(params_.size());
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Shape shape = params_[i].shape();
        const Array* v = in.per_param("square_avg", i, shape);
        const Array* a = in.per_param("grad_avg", i, shape);
        const Array* b = in.per_param("momentum_buffer", i, shape);
        if (!v && !a && !b) continue;
        const std::string at = std::to_string(i);
        if (!v || (centered && !a) || (momentum > 0.0f && !b))
            in.fail("parameter " + at + " needs square_avg." + at +
                    (centered ? ", grad_avg." + at : std::string()) +
                    (momentum > 0.0f ? ", momentum_buffer." + at : std::string()) +
                    ", but some are missing");
        slots[i].started = true;
        slots[i].square_avg = *v;
        if (centered) slots[i].grad_avg = *a;
        if (momentum > 0.0f) slots[i].momentum_buffer = *b;
    }
    return [=]() mutable {
        alpha_ = alpha;
        eps_ = eps;
        weight_decay_ = weight_decay;
        momentum_ = momentum;
        centered_ = centered;
        slots_ = std::move(slots);
    };
}

Adagrad::Adagrad(ParamGroups params, AdagradOptions o)
    : Optimizer("Adagrad", std::move(params), static_cast<float>(o.lr())),
      lr_decay_(static_cast<float>(o.lr_decay())),
      weight_decay_(static_cast<float>(o.weight_decay())),
      initial_(static_cast<float>(o.initial_accumulator_value())),
      eps_(static_cast<float>(o.eps())),
      steps_(params_.size(), 0.0f),
      sums_(params_.size()) {
    check_non_negative("lr_decay", lr_decay_);
    check_non_negative("weight_decay", weight_decay_);
    check_non_negative("initial_accumulator_value", initial_);
    check_non_negative("eps", eps_);
}

void Adagrad::step() {
    NoGrad no_grad;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Tensor& p = params_[i];
        if (!p.has_grad()) continue;
        if (steps_[i] == 0.0f) {
            sums_[i] = Array::from_shape(p.shape());
            sums_[i].fill(initial_);
        }
        steps_[i] += 1.0f;
        const float clr = lr_of(i) / (1.0f + (steps_[i] - 1.0f) * lr_decay_);
        float* w = p.mutable_value().data();
        const float* grad = p.grad().data();
        float* s = sums_[i].data();
        const float decay = weight_decay_of(i, weight_decay_), eps = eps_;
        for (std::size_t k = 0; k < p.size(); ++k) {
            float g = grad[k];
            if (decay != 0.0f) g = g + decay * w[k];
            s[k] = s[k] + g * g;
            w[k] = w[k] + -clr * (g / (std::sqrt(s[k]) + eps));
        }
    }
}

void Adagrad::save_settings(State& out) const {
    out.put("lr_decay", lr_decay_);
    out.put("weight_decay", weight_decay_);
    out.put("initial_accumulator_value", initial_);
    out.put("eps", eps_);
}

void Adagrad::save_slots(State& out) const {
    for (std::size_t i = 0; i < params_.size(); ++i) {
        if (steps_[i] == 0.0f) continue;
        const std::string at = "." + std::to_string(i);
        out.put("step" + at, steps_[i]);
        out.put("sum" + at, sums_[i]);
    }
}

std::function<void()> Adagrad::read_state(const StateReader& in) {
    const float lr_decay = in.float32("lr_decay", lr_decay_),
                weight_decay = in.float32("weight_decay", weight_decay_),
                initial = in.float32("initial_accumulator_value", initial_),
                eps = in.float32("eps", eps_);
    check_non_negative("lr_decay", lr_decay);
    check_non_negative("weight_decay", weight_decay);
    check_non_negative("eps", eps);
    std::vector<float> steps(params_.size(), 0.0f);
    std::vector<Array> sums(params_.size());
    for (std::size_t i = 0; i < params_.size(); ++i) {
        float t = 0.0f;
        const bool has_step = in.per_param_number("step", i, t);
        const Array* sum = in.per_param("sum", i, params_[i].shape());
        if (!has_step && !sum) continue;
        const std::string at = std::to_string(i);
        if (!has_step || !sum)
            in.fail("parameter " + at + " needs step." + at + " and sum." + at +
                    ", but one is missing");
        if (!(t >= 1.0f && t == std::floor(t)))
            in.fail("'step." + at + "' must be a whole number >= 1, but it is " + number_str(t));
        steps[i] = t;
        sums[i] = *sum;
    }
    return [=]() mutable {
        lr_decay_ = lr_decay;
        weight_decay_ = weight_decay;
        initial_ = initial;
        eps_ = eps;
        steps_ = std::move(steps);
        sums_ = std::move(sums);
    };
}

}  // namespace tapegrad::optim
