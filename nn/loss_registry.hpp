// The loss registry: losses by name, so that a training script or a config file can say
// "cross_entropy" and get the function.
//
//     auto loss_fn = nn::LossRegistry::instance().get("cross_entropy");
//     Tensor loss = loss_fn(logits, labels);                      // mean over the samples
//     auto total = nn::LossRegistry::instance().get("squared", Reduction::sum);
//
// Built in (ops/loss.hpp has the formulas, shapes and target conventions):
//   zero_one, absolute, hinge, log, squared, exponential, cross_entropy, log_with_logits, and
//   PyTorch's mse, l1, bce, bce_with_logits, nll, smooth_l1, huber, kl_div (torch's formulas
//   and defaults; call the functions of ops/loss.hpp for weights and other settings).
// The table of built-ins is one explicit list in loss_registry.cpp (no self-registering objects:
// a static library drops them at link time).
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "../core/tensor.hpp"
#include "../ops/loss.hpp"

namespace tapegrad::nn {

// What get() returns: the loss of a prediction against a target.
using LossFn = std::function<Tensor(const Tensor& prediction, const Tensor& target)>;

struct LossOptions {
    Reduction reduction = Reduction::mean;
    // cross_entropy only: false when the predictions already are probabilities rather than
    // logits (Paddle's use_softmax=False); the loss is then -sum_k y_k ln max(a_k, eps).
    bool use_softmax = true;
};

struct LossInfo {
    std::string name;
    std::string description;  // one line
    bool differentiable = true;
};

class LossRegistry {
  public:
    static LossRegistry& instance();

    // The loss called `name`, with the given reduction or options. An unknown name is a
    // std::invalid_argument that lists the known ones.
    LossFn get(const std::string& name, const LossOptions& options = {}) const;
    LossFn get(const std::string& name, Reduction reduction) const;

    // The names in registration order: the built-ins first, then those added.
    std::vector<std::string> names() const;
    bool contains(const std::string& name) const;
    LossInfo info(const std::string& name) const;

    // Registers a loss of your own. `per_element` returns the loss of each element (or sample),
    // any shape; the registry applies the reduction (mean or sum over what it returns, or none).
    // The name must be new. `differentiable` is a description for users of the registry.
    void add(const std::string& name, LossFn per_element, const std::string& description,
             bool differentiable = true);

  private:
    using ConfiguredFn =
        std::function<Tensor(const Tensor&, const Tensor&, const LossOptions&)>;
    struct Entry {
        LossInfo info;
        ConfiguredFn fn;
        bool has_use_softmax = false;  // whether LossOptions::use_softmax means anything to it
    };

    LossRegistry();
    const Entry& find(const std::string& name) const;  // caller holds mutex_

    std::vector<Entry> entries_;
    mutable std::mutex mutex_;
};

}  // namespace tapegrad::nn
