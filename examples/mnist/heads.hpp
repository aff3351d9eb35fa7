// How a loss from the LossRegistry meets a 10-class digit classifier: what the network's outputs
// become before the loss (a "head") and how a label becomes a target.
//
//   loss             outputs  prediction given to the loss   target
//   cross_entropy    10       logits                          class index
//   squared          10       softmax(logits)                 one-hot          (the tutorial's)
//   absolute         10       softmax(logits)                 one-hot
//   log              10       sigmoid(logits), one per class  one-hot (one class vs the rest)
//   log_with_logits  10       logits                          one-hot
//   hinge            10       logits                          +1 / -1 (one vs the rest)
//   exponential      10       logits                          +1 / -1
//   digit_squared    1        the single output               the digit's value 0..9
//
// digit_squared is not a registry name: it is the first experiment of --compare-losses,
// squared error on one output that regresses the digit value.
#pragma once

#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace mnist {

using tapegrad::Array;
using tapegrad::Tensor;

struct Head {
    std::string loss;         // registry name, or digit_squared
    std::size_t outputs = 10;
    enum class Transform { none, softmax, sigmoid } transform = Transform::none;
    enum class Target { index, one_hot, plus_minus_one, value } target = Target::index;
    std::string description;
};

// The head for a loss name; throws std::invalid_argument naming the loss and listing the ones
// that fit (zero_one, for one, has no gradient to train with).
Head head_for(const std::string& loss);
std::vector<std::string> trainable_losses();

Tensor predict(const Head& head, const Tensor& outputs);  // what the loss compares
Array targets(const Head& head, const Array& labels);      // labels [N] -> what it compares with
// Predicted classes [N] from the network's outputs.
Array classes(const Head& head, const Array& outputs);

}  // namespace mnist
