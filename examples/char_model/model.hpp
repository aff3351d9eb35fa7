// The character models: indices [T, N] -> logits [T, N, alphabet] for the next character.
//
//   lstm, gru     Embedding(alphabet, dim) -> LSTM or GRU(dim, hidden, layers) -> Linear(hidden, alphabet)
//   transformer   Embedding(alphabet, dim) + a learned position embedding (context, dim)
//                 -> layers x TransformerEncoderLayer(dim, 4 heads, 4 dim, dropout 0.1, GELU,
//                    pre-norm) with a causal mask -> LayerNorm(dim) -> Linear(dim, alphabet)
#pragma once

#include <memory>
#include <string>

#include <tapegrad/tapegrad.hpp>

namespace char_model {

struct ModelSize {
    std::size_t dim = 64;       // embedding width (the transformer's model width)
    std::size_t hidden = 256;   // recurrent state
    std::size_t layers = 1;
    std::size_t context = 64;   // the longest window the transformer's positions cover
};

class CharModel : public tapegrad::nn::Module {
  public:
    CharModel(const std::string& kind, std::size_t alphabet, const ModelSize& size);
    tapegrad::Tensor forward(const tapegrad::Tensor& indices) override;
    std::string type_name() const override { return "CharModel"; }
    std::string extra_repr() const override { return kind_; }

  private:
    std::string kind_;
    std::size_t context_;
    std::shared_ptr<tapegrad::nn::Embedding> embed_, positions_;
    std::shared_ptr<tapegrad::nn::RecurrentLayer> rnn_;
    std::vector<std::shared_ptr<tapegrad::nn::TransformerEncoderLayer>> blocks_;
    std::shared_ptr<tapegrad::nn::LayerNorm> norm_;
    std::shared_ptr<tapegrad::nn::Linear> head_;
};

}  // namespace char_model
