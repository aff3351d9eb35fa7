// A backprop worksheet for the classroom: a small network with concrete numbers and blanks for
// the forward values, the local derivatives, the chain products and the gradients; the key
// (answers) comes from tapegrad's engine.
//
//   the network   I inputs -> H hidden sigmoid units -> 1 sigmoid output a
//                 z1 = W1 x + b1,  h = sigmoid(z1),  z2 = W2 h + b2,  a = sigmoid(z2)
//   the loss      squared:        L = (a - y)^2
//                 cross_entropy:  L = -(y ln a + (1 - y) ln(1 - a))
//
// Weights are drawn from the seed and rounded to one decimal, inputs to halves, so that the
// forward pass can be done with a pocket calculator. Every number of the key is read from the
// engine: forward values are the tensors' values, the chain products the gradients backward()
// left in a, z2, h and z1 (retain_grad), each local derivative the gradient of its own op run on
// its own, and the final gradients those of the parameters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace worksheet {

struct Spec {
    std::size_t inputs = 2, hidden = 2;  // the network I-H-1
    std::string loss = "squared";        // or cross_entropy
    std::uint64_t seed = 1;
};

// "2-2-1" -> a Spec's sizes; throws std::invalid_argument naming what is wrong.
Spec parse_network(const std::string& network);

struct Worksheet {
    Spec spec;
    // Given: the input, the target, the parameters.
    tapegrad::Array x;        // [I]
    float y = 0;
    tapegrad::Array W1, b1;   // [H, I], [H]
    tapegrad::Array W2;       // [H] (the output's weights)
    float b2 = 0;
    // The forward pass.
    tapegrad::Array z1, h;    // [H]
    float z2 = 0, a = 0, L = 0;
    // Local derivatives: of the loss, of the output sigmoid, of each hidden sigmoid.
    float dL_da = 0, da_dz2 = 0;
    tapegrad::Array dh_dz1;   // [H]
    // The chain, from the loss back.
    float dL_dz2 = 0;
    tapegrad::Array dL_dh, dL_dz1;  // [H]
    // The gradients.
    tapegrad::Array dW1, db1, dW2;  // [H, I], [H], [H]
    float db2 = 0;
};

Worksheet make(const Spec& spec);

// The loss of the worksheet's network as a function of (W1, b1, W2, b2), W2 as [1, H] and b2 as
// [1]: what the test suite hands to gradcheck.
tapegrad::Tensor loss_of(const Worksheet& w, const std::vector<tapegrad::Tensor>& parameters);

// The exercise (blanks) or the key (answers), as Markdown or as a standalone HTML page.
std::string markdown(const Worksheet& w, bool answers);
std::string html(const Worksheet& w, bool answers);

}  // namespace worksheet
