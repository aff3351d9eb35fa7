// Layers that run as one op what a model writes as several, and nn::fuse, which finds them in a
// Sequential. Fusion is asked for, never done behind the user's back: a model runs the layers it
// was built from, and its tape shows them, until it is fused.
//     auto model = nn::fuse(nn::Sequential{nn::Conv2D(1, 20, 5), nn::ReLU(), nn::MaxPool2D(2), ...});
// The fused model keeps the same layers (shared, not copied) under the same names, so its
// state_dict, checkpoints and PyTorch weights are the unfused model's; only forward() differs,
// computing the same values and gradients in fewer passes over memory.
#pragma once

#include <memory>

#include "layers.hpp"

namespace tapegrad::nn {

// ReLU then MaxPool2D(2) (kernel 2, stride 2, no padding) as relu_max_pool2d: one pass over the
// input, without the ReLU's output in between.
class ReLUMaxPool2D : public Module {
  public:
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "ReLUMaxPool2D"; }
};

// A BatchNorm2D's forward, then ReLU and MaxPool2D(2), as batch_norm_relu_max_pool2d in training
// (in evaluation, the three ops with the running statistics). Runs the BatchNorm2D it is given,
// whose parameters and buffers it uses and updates.
class BatchNormReLUMaxPool2D : public Module {
  public:
    explicit BatchNormReLUMaxPool2D(std::shared_ptr<BatchNorm2D> norm);
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "BatchNormReLUMaxPool2D"; }

  private:
    std::shared_ptr<BatchNorm2D> norm_;
};

// A Sequential with the same layers in which every ReLU followed by MaxPool2D(2) runs as a
// ReLUMaxPool2D, and a BatchNorm2D followed by both as a BatchNormReLUMaxPool2D; Sequentials
// inside it are fused in turn. Only layers of exactly these types (a class derived from one may
// do something else in its forward) and pools of kernel 2, stride 2, no padding.
std::shared_ptr<Sequential> fuse(const Sequential& model);

}  // namespace tapegrad::nn
