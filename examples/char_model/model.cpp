#include "model.hpp"

#include <stdexcept>

namespace char_model {

using namespace tapegrad;

CharModel::CharModel(const std::string& kind, std::size_t alphabet, const ModelSize& size)
    : kind_(kind), context_(size.context) {
    embed_ = register_module("embed", nn::Embedding(alphabet, size.dim));
    if (kind == "lstm" || kind == "gru") {
        if (kind == "lstm") rnn_ = register_module("rnn", nn::LSTM(nn::LSTMOptions(size.dim, size.hidden).num_layers(size.layers)));
        else rnn_ = register_module("rnn", nn::GRU(nn::GRUOptions(size.dim, size.hidden).num_layers(size.layers)));
        head_ = register_module("head", nn::Linear(size.hidden, alphabet));
        return;
    }
    if (kind != "transformer")
        throw std::invalid_argument("--model " + kind + ": choose lstm, gru or transformer");
    positions_ = register_module("positions", nn::Embedding(size.context, size.dim));
    for (std::size_t l = 0; l < size.layers; ++l)
        blocks_.push_back(register_module(
            "block" + std::to_string(l),
            nn::TransformerEncoderLayer(nn::TransformerEncoderLayerOptions(size.dim, 4)
                                            .dim_feedforward(4 * size.dim)
                                            .dropout(0.1)
                                            .activation(nn::kGELU)
                                            .norm_first(true))));
    norm_ = register_module("norm", nn::LayerNorm({size.dim}));
    head_ = register_module("head", nn::Linear(size.dim, alphabet));
}

Tensor CharModel::forward(const Tensor& indices) {
    Tensor x = (*embed_)(indices);  // [T, N, dim]
    if (rnn_) return (*head_)(rnn_->run(x).output);
    const std::size_t steps = indices.shape()[0];
    if (steps > context_)
        throw std::invalid_argument("CharModel: a window of " + std::to_string(steps) +
                                    " characters is longer than the transformer's context (" +
                                    std::to_string(context_) + ")");
    x = x + unsqueeze((*positions_)(arange(0.0f, static_cast<float>(steps))), 1);
    const Tensor mask = nn::causal_mask(steps);
    for (const auto& block : blocks_) x = block->forward(x, mask);
    return (*head_)((*norm_)(x));
}

}  // namespace char_model
