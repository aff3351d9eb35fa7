#include "loss_registry.hpp"

#include <stdexcept>
#include <utility>

#include "../ops/reduce.hpp"

namespace tapegrad::nn {

namespace {

using Loss = Tensor (*)(const Tensor&, const Tensor&, Reduction);

// A built-in loss that only takes a reduction.
template <Loss F>
Tensor with_reduction(const Tensor& prediction, const Tensor& target, const LossOptions& options) {
    return F(prediction, target, options.reduction);
}

// torch's losses that take more than a reduction, with their other settings at torch's defaults.
Tensor bce(const Tensor& p, const Tensor& y, Reduction r) { return binary_cross_entropy(p, y, {}, r); }
Tensor bce_with_logits(const Tensor& z, const Tensor& y, Reduction r) {
    return binary_cross_entropy_with_logits(z, y, {}, {}, r);
}
Tensor nll(const Tensor& a, const Tensor& y, Reduction r) { return nll_loss(a, y, {}, -100, r); }
Tensor smooth_l1(const Tensor& a, const Tensor& y, Reduction r) { return smooth_l1_loss(a, y, r); }
Tensor huber(const Tensor& a, const Tensor& y, Reduction r) { return huber_loss(a, y, r); }
Tensor kl(const Tensor& a, const Tensor& y, Reduction r) { return kl_div(a, y, r); }

Tensor cross_entropy_with_options(const Tensor& prediction, const Tensor& target,
                                  const LossOptions& options) {
    return options.use_softmax
               ? cross_entropy(prediction, target, options.reduction)
               : cross_entropy_from_probabilities(prediction, target, options.reduction);
}

}  // namespace

LossRegistry::LossRegistry() {
    // The table: name, one-line description, differentiable, function, takes use_softmax.
    entries_ = {
        {{"zero_one",
          "0 if the argmax of the [N, C] scores is the [N] label, else 1; the mean is the error "
          "rate (no gradient)",
          false},
         with_reduction<zero_one_loss>},
        {{"absolute", "|y - a| elementwise, prediction and target of the same shape", true},
         with_reduction<absolute_loss>},
        {{"hinge", "max(0, 1 - y a) on raw scores a, targets +1 or -1 (0 is read as -1)", true},
         with_reduction<hinge_loss>},
        {{"log",
          "binary log loss -[y ln a + (1 - y) ln(1 - a)] on probabilities a, targets 0 or 1",
          true},
         with_reduction<log_loss>},
        {{"squared", "(y - a)^2 elementwise, prediction and target of the same shape", true},
         with_reduction<squared_loss>},
        {{"exponential", "e^(-y a) on raw scores a, targets +1 or -1 (0 is read as -1)", true},
         with_reduction<exponential_loss>},
        {{"cross_entropy",
          "-sum_k y_k ln softmax(a)_k on [N, C] logits, targets [N] class indices or [N, C] "
          "probabilities (use_softmax = false: a already holds probabilities)",
          true},
         cross_entropy_with_options,
         true},
        {{"log_with_logits",
          "binary log loss on raw scores z (sigmoid applied inside, stably), targets 0 or 1",
          true},
         with_reduction<log_loss_with_logits>},
        // PyTorch's names (ops/loss.hpp): torch.nn.functional's formulas and defaults.
        {{"mse", "torch's mse_loss: (a - y)^2 elementwise", true}, with_reduction<mse_loss>},
        {{"l1", "torch's l1_loss: |a - y| elementwise", true}, with_reduction<l1_loss>},
        {{"bce",
          "torch's binary_cross_entropy on probabilities a, targets anywhere in [0, 1]", true},
         with_reduction<bce>},
        {{"bce_with_logits",
          "torch's binary_cross_entropy_with_logits on raw scores, targets in [0, 1]", true},
         with_reduction<bce_with_logits>},
        {{"nll", "torch's nll_loss on [N, C] log-probabilities, [N] class indices", true},
         with_reduction<nll>},
        {{"smooth_l1", "torch's smooth_l1_loss with beta = 1", true}, with_reduction<smooth_l1>},
        {{"huber", "torch's huber_loss with delta = 1", true}, with_reduction<huber>},
        {{"kl_div",
          "torch's kl_div: y (ln y - a) on log-probabilities a, probability targets y (use "
          "Reduction::batchmean for the divergence per sample)",
          true},
         with_reduction<kl>},
    };
}

LossRegistry& LossRegistry::instance() {
    static LossRegistry registry;
    return registry;
}

const LossRegistry::Entry& LossRegistry::find(const std::string& name) const {
    for (const Entry& e : entries_)
        if (e.info.name == name) return e;
    std::string known;
    for (const Entry& e : entries_) known += (known.empty() ? "" : ", ") + e.info.name;
    throw std::invalid_argument("LossRegistry: there is no loss named '" + name +
                                "'; the known losses are: " + known);
}

LossFn LossRegistry::get(const std::string& name, const LossOptions& options) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const Entry& entry = find(name);
    if (!options.use_softmax && !entry.has_use_softmax)
        throw std::invalid_argument("LossRegistry: use_softmax = false applies to cross_entropy "
                                    "only; '" + name + "' does not take it");
    ConfiguredFn fn = entry.fn;
    return [fn, options](const Tensor& prediction, const Tensor& target) {
        return fn(prediction, target, options);
    };
}

LossFn LossRegistry::get(const std::string& name, Reduction reduction) const {
    LossOptions options;
    options.reduction = reduction;
    return get(name, options);
}

std::vector<std::string> LossRegistry::names() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const Entry& e : entries_) out.push_back(e.info.name);
    return out;
}

bool LossRegistry::contains(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Entry& e : entries_)
        if (e.info.name == name) return true;
    return false;
}

LossInfo LossRegistry::info(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return find(name).info;
}

void LossRegistry::add(const std::string& name, LossFn per_element,
                       const std::string& description, bool differentiable) {
    if (name.empty()) throw std::invalid_argument("LossRegistry::add: the name is empty");
    if (!per_element)
        throw std::invalid_argument("LossRegistry::add: the function for '" + name +
                                    "' is empty");
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Entry& e : entries_)
        if (e.info.name == name)
            throw std::invalid_argument("LossRegistry::add: a loss named '" + name +
                                        "' is already registered; choose another name");
    ConfiguredFn fn = [per_element, name_for_errors = name](const Tensor& prediction, const Tensor& target,
                                    const LossOptions& options) {
        Tensor losses = per_element(prediction, target);
        switch (options.reduction) {
            case Reduction::mean: return mean(losses);
            case Reduction::sum: return sum(losses);
            case Reduction::none: break;
            case Reduction::batchmean:
                throw std::invalid_argument("LossRegistry: Reduction::batchmean is kl_div's; '" +
                                            name_for_errors + "' takes mean, sum or none");
        }
        return losses;
    };
    entries_.push_back({{name, description, differentiable}, std::move(fn)});
}

}  // namespace tapegrad::nn
