// Adam, the same update as torch.optim.Adam (weight decay is L2, added to the gradient). For
// each parameter p with gradient grad, at its step t = 1, 2, ...:
//
//   g = grad + weight_decay * p
//   m = beta1 * m + (1 - beta1) * g            (m and v start at 0)
//   v = beta2 * v + (1 - beta2) * g^2
//   amsgrad: v_max = max(v_max, v), used for v below
//   p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//
// which is p -= lr * m_hat / (sqrt(v_hat) + eps) with the bias-corrected m_hat = m / (1 - beta1^t)
// and v_hat = v / (1 - beta2^t), computed in torch's order.
//
//   optim::Adam adam(model.parameters(), optim::AdamOptions(1e-3).betas({0.9, 0.999}).amsgrad(true));
//
// state(): "lr", "betas" (two numbers), "eps", "weight_decay", "amsgrad" (0 or 1),
// "param_count", and for each parameter i that has taken a step: "step.i" (one number),
// "exp_avg.i" (m), "exp_avg_sq.i" (v) and with amsgrad "max_exp_avg_sq.i", each of p's shape.
#pragma once

#include <tuple>
#include <utility>
#include <vector>

#include "optimizer.hpp"

namespace tapegrad::optim {

using Betas = std::tuple<double, double>;  // (beta1, beta2)

// torch's names and defaults (AdamW's weight decay is 1e-2).
struct AdamOptions {
    AdamOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit, for Adam(params, 1e-3)
    TAPEGRAD_OPTION(double, lr, 1e-3)
    TAPEGRAD_OPTION(Betas, betas, (Betas(0.9, 0.999)))
    TAPEGRAD_OPTION(double, eps, 1e-8)
    TAPEGRAD_OPTION(double, weight_decay, 0.0)
    TAPEGRAD_OPTION(bool, amsgrad, false)
};
struct AdamWOptions {
    AdamWOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit, for AdamW(params, 1e-3)
    TAPEGRAD_OPTION(double, lr, 1e-3)
    TAPEGRAD_OPTION(Betas, betas, (Betas(0.9, 0.999)))
    TAPEGRAD_OPTION(double, eps, 1e-8)
    TAPEGRAD_OPTION(double, weight_decay, 1e-2)
    TAPEGRAD_OPTION(bool, amsgrad, false)
};

class Adam : public Optimizer {
  public:
    // Throws std::invalid_argument for a negative lr, eps or weight_decay and for betas
    // outside [0, 1).
    Adam(ParamGroups params, AdamOptions options = {});

    void step() override;

    std::pair<float, float> betas() const { return betas_; }
    float eps() const { return eps_; }
    float weight_decay() const { return weight_decay_; }
    bool amsgrad() const { return amsgrad_; }


  protected:
    void save_settings(State& out) const override;
    void save_slots(State& out) const override;
    std::function<void()> read_state(const StateReader& in) override;

  protected:
    // AdamW's: weight decay decoupled from the gradient.
    Adam(const char* name, bool decoupled, ParamGroups params, const AdamOptions& options);

  private:
    void check_hyper_parameters(std::pair<float, float> betas, float eps,
                                float weight_decay) const;

    bool decoupled_ = false;
    std::pair<float, float> betas_;
    float eps_;
    float weight_decay_;
    bool amsgrad_;
    struct Moments {
        float step = 0.0f;      // t; 0 until the parameter's first update
        Array exp_avg;          // m
        Array exp_avg_sq;       // v
        Array max_exp_avg_sq;   // v_max, with amsgrad
    };
    std::vector<Moments> moments_;  // one per parameter
};

// AdamW, as torch.optim.AdamW: Adam with the weight decay taken out of the gradient and applied
// to the parameter directly, before the update:
//
//   p = p - lr * weight_decay * p      then Adam's update with g = grad (no decay term)
//
// Its state() has the same entries as Adam's.
class AdamW : public Adam {
  public:
    AdamW(ParamGroups params, AdamWOptions options = {});
};

}  // namespace tapegrad::optim
