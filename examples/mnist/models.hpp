// The networks of the tutorial this project grew from, and a wider MLP.
//
//   cnn       conv 5x5, 20 channels, padding 2, ReLU, max-pool 2
//             conv 5x5, 20 channels, padding 2, ReLU, max-pool 2, Linear 980 -> outputs
//   cnn_bn    conv 3x3, 32 channels, BatchNorm, ReLU, max-pool 2
//             conv 3x3, 64 channels, BatchNorm, ReLU, max-pool 2 (twice: 14x14, then 7x7),
//             Dropout 0.25, Linear 576 -> outputs
//   mlp       784 -> 10 -> 10 -> outputs, Sigmoid after each hidden layer
//   relu_mlp  784 -> 256 -> 256 -> outputs, ReLU after each hidden layer
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace mnist {

std::vector<std::string> model_names();
// Throws std::invalid_argument naming the model and listing the known ones.
std::shared_ptr<tapegrad::nn::Sequential> make_model(const std::string& name, std::size_t outputs);
// Whether the model takes [N, 1, 28, 28] images (else [N, 784]).
bool takes_images(const std::string& name);

}  // namespace mnist
