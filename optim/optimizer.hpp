// What every optimizer shares: the parameters it updates, the learning rate, zero_grad(), and its
// state (optim/state.hpp, for checkpoints next to the model's parameters).
//
// An optimizer touches parameter values and gradients directly (Tensor::mutable_value) inside a
// NoGrad scope: an update is not part of the model's computation, so it is never recorded.
// Parameters without a gradient yet (has_grad() false) are skipped by step(), as in PyTorch.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"
#include "../ops/options.hpp"  // TAPEGRAD_OPTION
#include "state.hpp"

// Each options struct takes the learning rate in its constructor, implicitly, so that
// SGD(params, 0.1) reads as torch's; every other setting goes by its name (ops/options.hpp).

namespace tapegrad::optim {

// Parameters that share a learning rate and a weight decay, as a torch param_group. An empty
// lr or weight_decay takes the optimizer's.
struct ParamGroup {
    explicit ParamGroup(std::vector<Tensor> params, std::optional<float> lr = std::nullopt,
                        std::optional<float> weight_decay = std::nullopt)
        : params(std::move(params)), lr(lr), weight_decay(weight_decay) {}
    std::vector<Tensor> params;
    std::optional<float> lr;
    std::optional<float> weight_decay;
};

// What an optimizer is built from: a list of parameters (one group), or groups:
//   optim::AdamW adamw(model.parameters(), 1e-3f);
//   optim::AdamW adamw({optim::ParamGroup(weights),
//                       optim::ParamGroup(biases, /*lr=*/{}, /*weight_decay=*/0.0f)}, 1e-3f);
//   optim::AdamW adamw(optim::decay_groups(model.parameters()), 1e-3f);
class ParamGroups {
  public:
    ParamGroups() = default;  // no parameters: an optimizer refuses it
    ParamGroups(std::vector<Tensor> params) : groups_{ParamGroup(std::move(params))} {}
    ParamGroups(std::initializer_list<Tensor> params) : ParamGroups(std::vector<Tensor>(params)) {}
    ParamGroups(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {}
    ParamGroups(std::initializer_list<ParamGroup> groups) : groups_(groups) {}
    const std::vector<ParamGroup>& groups() const { return groups_; }

  private:
    std::vector<ParamGroup> groups_;
};

// The usual split for weight decay: matrices and kernels (2 or more axes) decay; biases and
// norm weights (vectors) do not (their group's weight_decay is 0).
std::vector<ParamGroup> decay_groups(const std::vector<Tensor>& params);

class Optimizer {
  public:
    virtual ~Optimizer() = default;

    // One update of every parameter that has a gradient.
    virtual void step() = 0;

    // Sets every gradient to zeros (keeping its memory); call it before each backward(). With
    // set_to_none, drops the gradients instead (torch's zero_grad(set_to_none=True), the default
    // from PyTorch 2.0): the next backward() hands each parameter its gradient rather than adding
    // it to zeros, which saves two passes over every parameter, and a parameter that backward()
    // does not reach has no gradient, so step() leaves it and its state alone.
    void zero_grad(bool set_to_none = false);

    // The learning rate of the first group; set_lr sets every group's.
    float lr() const { return groups_[0].lr; }
    void set_lr(float lr);
    // One group's learning rate.
    std::size_t group_count() const { return groups_.size(); }
    float lr(std::size_t group) const;
    void set_lr(std::size_t group, float lr);
    // A group's learning rate when the first scheduler was made for this optimizer: every
    // scheduler's base, as torch's initial_lr (optim/scheduler.hpp).
    float initial_lr(std::size_t group = 0);

    // Every parameter, group after group; parameter i's group.
    const std::vector<Tensor>& params() const { return params_; }
    std::size_t group_of(std::size_t i) const { return group_of_[i]; }

    // The state needed to continue training exactly where it stopped, and its inverse: the
    // learning rates ("lr", the first group's; with several groups "group_count" and
    // "group<g>.lr"), the optimizer's settings, "param_count", then per parameter i its arrays
    // named "kind.i". load_state checks every entry before it changes anything, and throws
    // std::invalid_argument naming the first one that does not fit.
    State state() const;
    void load_state(const State& state);

  protected:
    // `name` ("SGD", "Adam") starts every error message.
    Optimizer(const char* name, ParamGroups params, float lr);

    // Parameter i's learning rate, and its weight decay (its group's, or `otherwise`).
    float lr_of(std::size_t i) const { return groups_[group_of_[i]].lr; }
    float weight_decay_of(std::size_t i, float otherwise) const {
        return groups_[group_of_[i]].weight_decay.value_or(otherwise);
    }

    // The optimizer's own part of state(): its settings, then its per-parameter entries.
    virtual void save_settings(State& out) const = 0;
    virtual void save_slots(State& out) const = 0;
    // Reads that part back and checks it, changing nothing: returns what sets it, which
    // load_state calls once the whole state is known to fit.
    virtual std::function<void()> read_state(const StateReader& in) = 0;

    // Throws std::invalid_argument when value < 0: "SGD: momentum must be >= 0, but it is -0.5".
    void check_non_negative(const char* what, float value) const;

    // "0.001", "-0.5": a number as the messages print it.
    static std::string number_str(float value);

    const char* name_;
    std::vector<Tensor> params_;

  private:
    struct Group {
        float lr;
        std::optional<float> weight_decay;
        float initial_lr = -1.0f;  // set by the first scheduler
    };
    std::vector<Group> groups_;
    std::vector<std::size_t> group_of_;
};

}  // namespace tapegrad::optim
