// RMSprop and Adagrad, the same updates as torch.optim.RMSprop and torch.optim.Adagrad. For each
// parameter p with gradient grad (g = grad + weight_decay * p):
//
// RMSprop(lr = 0.01, alpha = 0.99, eps = 1e-8, weight_decay, momentum = 0, centered = false)
//   v = alpha v + (1 - alpha) g^2                          (v starts at 0)
//   centered:  a = alpha a + (1 - alpha) g,  d = sqrt(v - a^2) + eps;  else d = sqrt(v) + eps
//   momentum > 0:  b = momentum b + g / d,  p = p - lr b;  else p = p - lr g / d
//
// Adagrad(lr = 0.01, lr_decay = 0, weight_decay, initial_accumulator_value = 0, eps = 1e-10)
//   at its step t = 1, 2, ...:  s = s + g^2,  p = p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)
//
// state(): the settings (one-element arrays) and, per parameter i that has taken a step,
// RMSprop's "square_avg.i", "grad_avg.i" (centered), "momentum_buffer.i" (momentum), and
// Adagrad's "step.i" and "sum.i", as torch names them.
#pragma once

#include <vector>

#include "optimizer.hpp"

namespace tapegrad::optim {

// torch's names and defaults.
struct RMSpropOptions {
    RMSpropOptions(double lr = 1e-2) : lr_(lr) {}  // NOLINT: implicit, for RMSprop(params, 0.01)
    TAPEGRAD_OPTION(double, lr, 1e-2)
    TAPEGRAD_OPTION(double, alpha, 0.99)
    TAPEGRAD_OPTION(double, eps, 1e-8)
    TAPEGRAD_OPTION(double, weight_decay, 0.0)
    TAPEGRAD_OPTION(double, momentum, 0.0)
    TAPEGRAD_OPTION(bool, centered, false)
};
struct AdagradOptions {
    AdagradOptions(double lr = 1e-2) : lr_(lr) {}  // NOLINT: implicit, for Adagrad(params, 0.01)
    TAPEGRAD_OPTION(double, lr, 1e-2)
    TAPEGRAD_OPTION(double, lr_decay, 0.0)
    TAPEGRAD_OPTION(double, weight_decay, 0.0)
    TAPEGRAD_OPTION(double, initial_accumulator_value, 0.0)
    TAPEGRAD_OPTION(double, eps, 1e-10)
};

class RMSprop : public Optimizer {
  public:
    RMSprop(ParamGroups params, RMSpropOptions options = {});

    void step() override;

  protected:
    void save_settings(State& out) const override;
    void save_slots(State& out) const override;
    std::function<void()> read_state(const StateReader& in) override;

  private:
    void check_hyper_parameters(float alpha, float eps, float weight_decay, float momentum) const;

    float alpha_, eps_, weight_decay_, momentum_;
    bool centered_;
    struct Slots {
        bool started = false;
        Array square_avg, grad_avg, momentum_buffer;
    };
    std::vector<Slots> slots_;
};

class Adagrad : public Optimizer {
  public:
    Adagrad(ParamGroups params, AdagradOptions options = {});

    void step() override;

  protected:
    void save_settings(State& out) const override;
    void save_slots(State& out) const override;
    std::function<void()> read_state(const StateReader& in) override;

  private:
    float lr_decay_, weight_decay_, initial_, eps_;
    std::vector<float> steps_;  // t of each parameter
    std::vector<Array> sums_;   // s; made (at initial_accumulator_value) on the first step
};

}  // namespace tapegrad::optim
