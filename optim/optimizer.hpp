// What every optimizer shares: the parameters it updates, the learning rate, zero_grad(), and its
// state as named arrays (for checkpoints next to the model's parameters).
//
// An optimizer touches parameter values and gradients directly (Tensor::mutable_value) inside a
// NoGrad scope: an update is not part of the model's computation, so it is never recorded.
// Parameters without a gradient yet (has_grad() false) are skipped by step(), as in PyTorch.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"
#include "../data/formats/npz.hpp"

namespace tapegrad::optim {

// An optimizer's state: ("exp_avg.0", array), ("lr", [0.001]), ...
using tapegrad::NamedArrays;

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

    // The state needed to continue training exactly where it stopped, and its inverse. Entries
    // for parameter i end in ".i"; load_state checks every name and shape before it changes
    // anything, and throws std::invalid_argument naming the first entry that does not fit.
    virtual NamedArrays state() const = 0;
    virtual void load_state(const NamedArrays& state) = 0;

  protected:
    // `name` ("SGD", "Adam") starts every error message.
    Optimizer(const char* name, ParamGroups params, float lr);

    // Parameter i's learning rate, and its weight decay (its group's, or `otherwise`).
    float lr_of(std::size_t i) const { return groups_[group_of_[i]].lr; }
    float weight_decay_of(std::size_t i, float otherwise) const {
        return groups_[group_of_[i]].weight_decay.value_or(otherwise);
    }

    // The start of every state(): the learning rates ("lr", the first group's, and with several
    // groups "group_count" and "group<g>.lr" for the others), then the optimizer's own
    // `settings`, then "param_count".
    NamedArrays base_state(NamedArrays settings) const;

    // Throws std::invalid_argument when value < 0: "SGD: momentum must be >= 0, but it is -0.5".
    void check_non_negative(const char* what, float value) const;

    // "0.001", "-0.5": a number as the messages print it.
    static std::string number_str(float value);

    // The one-element array of a hyper-parameter or a step count, and its reader for load_state.
    static Array scalar(float value);
    float read_scalar(const std::string& name, const Array& value) const;

    // A saved state after the checks every load_state shares: each name given once and known
    // (one of `hyper`, "param_count", or KIND.<i> for a KIND of `per_param` and an index i of a
    // parameter), param_count equal to this optimizer's, per-parameter arrays of their
    // parameter's shape (except the kinds in `scalar_kinds`, one number each). Changes nothing.
    struct SavedState {
        std::map<std::string, const Array*> hyper;
        std::map<std::string, std::map<std::size_t, const Array*>> per_param;  // kind, index
    };
    SavedState split_state(const NamedArrays& state, const std::vector<std::string>& hyper,
                           const std::vector<std::string>& per_param,
                           const std::vector<std::string>& scalar_kinds = {}) const;
    // Every group's learning rate in a split state (the current one where it is missing),
    // checked; set them with set_group_lrs once everything else is checked too. split_state
    // accepts base_state()'s names and checks "group_count".
    std::vector<float> group_lrs(const SavedState& saved) const;
    void set_group_lrs(const std::vector<float>& lrs);
    // The hyper-parameter `name` of a split state, or `otherwise` when it was not saved.
    float hyper_or(const SavedState& saved, const std::string& name, float otherwise) const;

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
