// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay;
// the same update as torch.optim.SGD. For each parameter p with gradient grad:
//
//   g = grad + weight_decay * p
//   if momentum > 0:   buf = g on the first step, then buf = momentum * buf + (1 - dampening) g
//                      g = g + momentum * buf    (nesterov)     or     g = buf
//   p = p - lr * g
//
//   optim::SGD sgd(model.parameters(), optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4));
//   optim::SGD plain(model.parameters(), 0.1);     // the learning rate alone
//
// state(): "lr", "momentum", "dampening", "weight_decay", "nesterov" (0 or 1), "param_count"
// (one-element arrays) and "momentum_buffer.i" for each parameter i that has a buffer.
#pragma once

#include <vector>

#include "optimizer.hpp"

namespace tapegrad::optim {

// torch's names and defaults; the learning rate has none.
struct SGDOptions {
    SGDOptions(double lr) : lr_(lr) {}  // NOLINT: implicit, for SGD(params, 0.1)
    TAPEGRAD_OPTION(double, lr, 0.0)
    TAPEGRAD_OPTION(double, momentum, 0.0)
    TAPEGRAD_OPTION(double, dampening, 0.0)
    TAPEGRAD_OPTION(double, weight_decay, 0.0)
    TAPEGRAD_OPTION(bool, nesterov, false)
};

class SGD : public Optimizer {
  public:
    // Throws std::invalid_argument for a negative lr, momentum, dampening or weight_decay, and
    // for nesterov without momentum or with dampening.
    SGD(ParamGroups params, SGDOptions options);

    void step() override;

    float momentum() const { return momentum_; }
    float dampening() const { return dampening_; }
    bool nesterov() const { return nesterov_; }
    float weight_decay() const { return weight_decay_; }

  protected:
    void save_settings(State& out) const override;
    void save_slots(State& out) const override;
    std::function<void()> read_state(const StateReader& in) override;

  private:
    void check_hyper_parameters(float momentum, float dampening, bool nesterov,
                                float weight_decay) const;

    float momentum_, dampening_;
    bool nesterov_;
    float weight_decay_;
    std::vector<Array> buffers_;    // one per parameter; empty until its first step
    std::vector<bool> has_buffer_;
};

}  // namespace tapegrad::optim
