// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay; the same
// update as torch.optim.SGD (with dampening 0). For each parameter p with gradient grad:
//
//   g = grad + weight_decay * p
//   if momentum > 0:   buf = g on the first step, then buf = momentum * buf + g
//                      g = g + momentum * buf    (nesterov)     or     g = buf
//   p = p - lr * g
//
// state(): "lr", "momentum", "weight_decay", "nesterov" (0 or 1), "param_count" (one-element
// arrays) and "momentum_buffer.i" for each parameter i that has a buffer (the shape of p).
#pragma once

#include <vector>

#include "optimizer.hpp"

namespace tapegrad::optim {

class SGD : public Optimizer {
  public:
    // Throws std::invalid_argument for a negative lr, momentum or weight_decay, and for
    // nesterov without momentum.
    SGD(ParamGroups params, float lr, float momentum = 0.0f, bool nesterov = false,
        float weight_decay = 0.0f);

    void step() override;

    float momentum() const { return momentum_; }
    bool nesterov() const { return nesterov_; }
    float weight_decay() const { return weight_decay_; }

  protected:
    void save_settings(State& out) const override;
    void save_slots(State& out) const override;
    std::function<void()> read_state(const StateReader& in) override;

  private:
    void check_hyper_parameters(float momentum, bool nesterov, float weight_decay) const;

    float momentum_;
    bool nesterov_;
    float weight_decay_;
    std::vector<Array> buffers_;    // one per parameter; empty until its first step
    std::vector<bool> has_buffer_;
};

}  // namespace tapegrad::optim
