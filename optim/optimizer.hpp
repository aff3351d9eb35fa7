// What every optimizer shares: the parameters it updates, the learning rate, zero_grad(), and its
// state as named arrays (for checkpoints next to the model's parameters).
//
// An optimizer touches parameter values and gradients directly (Tensor::mutable_value) inside a
// NoGrad scope: an update is not part of the model's computation, so it is never recorded.
// Parameters without a gradient yet (has_grad() false) are skipped by step(), as in PyTorch.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"
#include "../data/formats/npz.hpp"

namespace tapegrad::optim {

// An optimizer's state: ("exp_avg.0", array), ("lr", [0.001]), ...
using tapegrad::NamedArrays;

class Optimizer {
  public:
    virtual ~Optimizer() = default;

    // One update of every parameter that has a gradient.
    virtual void step() = 0;

    // Sets every gradient to zeros (keeping its memory); call it before each backward().
    void zero_grad();

    float lr() const { return lr_; }
    void set_lr(float lr);
    // The learning rate when the first scheduler was made for this optimizer: every scheduler's
    // base, as torch's initial_lr (optim/scheduler.hpp).
    float initial_lr();

    const std::vector<Tensor>& params() const { return params_; }

    // The state needed to continue training exactly where it stopped, and its inverse. Entries
    // for parameter i end in ".i"; load_state checks every name and shape before it changes
    // anything, and throws std::invalid_argument naming the first entry that does not fit.
    virtual NamedArrays state() const = 0;
    virtual void load_state(const NamedArrays& state) = 0;

  protected:
    // `name` ("SGD", "Adam") starts every error message.
    Optimizer(const char* name, std::vector<Tensor> params, float lr);

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
    // The hyper-parameter `name` of a split state, or `otherwise` when it was not saved.
    float hyper_or(const SavedState& saved, const std::string& name, float otherwise) const;

    const char* name_;
    std::vector<Tensor> params_;
    float lr_;
    float initial_lr_ = -1.0f;  // set by the first scheduler
};

}  // namespace tapegrad::optim
