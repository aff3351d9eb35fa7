// Attention layers with torch's parameters and layouts.
//
// MultiheadAttention(embed_dim, num_heads), or with MultiheadAttentionOptions (dropout, bias,
// batch_first): query [L, N, E], key and value [S, N, E]
// ([N, L, E] and [N, S, E] with batch_first; [L, E] and [S, E] unbatched), E = embed_dim,
// split into num_heads heads of d = E / num_heads features:
//
//   q, k, v = query · W_qT + b_q,  key · W_kT + b_k,  value · W_vT + b_v   (in_proj, rows q|k|v)
//   per head:  A = softmax(q kT / sqrt(d) + mask)      [L, S]             (dropout on A in training)
//              o = A v                                 [L, d]
//   output    = concat of the heads' o · W_oT + b_o    (out_proj)
//
//   in_proj_weight [3E, E] (Xavier-uniform), in_proj_bias [3E] (zeros), out_proj.weight [E, E]
//   (as a Linear's), out_proj.bias [E] (zeros): the names of torch's state_dict.
//   mask [L, S] is added to the scores: 0 where allowed, −inf where not; causal_mask(L) builds
//   the one that lets position i see positions 0..i. The returned weights are A averaged over
//   the heads, [N, L, S], as torch's default. Not implemented: key_padding_mask, add_bias_kv,
//   kdim/vdim different from E, boolean masks (use masked_fill or causal_mask).
//
// TransformerEncoderLayer(TransformerEncoderLayerOptions(d_model, nhead).dim_feedforward(..)
// .dropout(..).activation(nn::kGELU).layer_norm_eps(..).batch_first(..).norm_first(..)), torch's:
//   post-norm (default):  x = norm1(x + dropout1(self_attn(x)));  x = norm2(x + dropout2(ff(x)))
//   pre-norm:             x = x + dropout1(self_attn(norm1(x)));  x = x + dropout2(ff(norm2(x)))
//   ff(x) = linear2(dropout(activation(linear1(x))))
// with children self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "layers.hpp"

namespace tapegrad::nn {

// [L, L] with 0 on and below the diagonal and −inf above it.
Tensor causal_mask(std::size_t length);

// torch's MultiheadAttentionOptions and TransformerEncoderLayerOptions.
struct MultiheadAttentionOptions {
    MultiheadAttentionOptions(std::size_t embed_dim, std::size_t num_heads)
        : embed_dim_(embed_dim), num_heads_(num_heads) {}
    TAPEGRAD_OPTION(std::size_t, embed_dim, 0)
    TAPEGRAD_OPTION(std::size_t, num_heads, 0)
    TAPEGRAD_OPTION(double, dropout, 0.0)
    TAPEGRAD_OPTION(bool, bias, true)
    TAPEGRAD_OPTION(bool, batch_first, false)
};

struct TransformerEncoderLayerOptions {
    TransformerEncoderLayerOptions(std::size_t d_model, std::size_t nhead)
        : d_model_(d_model), nhead_(nhead) {}
    TAPEGRAD_OPTION(std::size_t, d_model, 0)
    TAPEGRAD_OPTION(std::size_t, nhead, 0)
    TAPEGRAD_OPTION(std::size_t, dim_feedforward, 2048)
    TAPEGRAD_OPTION(double, dropout, 0.1)
    TAPEGRAD_OPTION(Activation, activation, Activation::relu)  // nn::kReLU or nn::kGELU
    TAPEGRAD_OPTION(double, layer_norm_eps, 1e-5)
    TAPEGRAD_OPTION(bool, batch_first, false)
    TAPEGRAD_OPTION(bool, norm_first, false)
};

struct AttentionOutput {
    Tensor output;   // like query
    Tensor weights;  // [N, L, S] (or [L, S] unbatched), averaged over the heads
};

class MultiheadAttention : public Module {
  public:
    MultiheadAttention(std::size_t embed_dim, std::size_t num_heads)
        : MultiheadAttention(MultiheadAttentionOptions(embed_dim, num_heads)) {}
    explicit MultiheadAttention(const MultiheadAttentionOptions& options);
    // Self-attention without a mask: attend(x, x, x).output.
    Tensor forward(const Tensor& x) override;
    // weights is left empty when need_weights is false (it costs a pass over every head's A).
    AttentionOutput attend(const Tensor& query, const Tensor& key, const Tensor& value,
                           const Tensor& mask = Tensor(), bool need_weights = true);
    // torch's call, the same as attend: auto [output, weights] = mha(q, k, v, mask).
    AttentionOutput operator()(const Tensor& query, const Tensor& key, const Tensor& value,
                               const Tensor& mask = Tensor(), bool need_weights = true) {
        return call([&] { return attend(query, key, value, mask, need_weights); });
    }
    using Module::operator();  // mha(x): self-attention's output alone, as in a Sequential
    std::string type_name() const override { return "MultiheadAttention"; }
    std::size_t num_heads() const { return num_heads_; }
    bool batch_first() const { return batch_first_; }
    std::string extra_repr() const override;

    Tensor in_proj_weight;  // [3E, E]
    Tensor in_proj_bias;    // [3E]; empty without bias
    std::shared_ptr<Linear> out_proj;

  private:
    std::size_t embed_dim_, num_heads_;
    float dropout_;
    bool batch_first_;
};

class TransformerEncoderLayer : public Module {
  public:
    TransformerEncoderLayer(std::size_t d_model, std::size_t nhead)
        : TransformerEncoderLayer(TransformerEncoderLayerOptions(d_model, nhead)) {}
    explicit TransformerEncoderLayer(const TransformerEncoderLayerOptions& options);
    Tensor forward(const Tensor& x) override { return forward(x, Tensor()); }
    // With torch's masks: src_mask [L, L], added to the attention scores (causal_mask(L) for a
    // language model), and src_key_padding_mask [N, L], nonzero where a position is padding that
    // no position attends to (a row of padding alone gives nan, as torch).
    Tensor forward(const Tensor& x, const Tensor& src_mask, const Tensor& src_key_padding_mask = {});
    // layer(x, src_mask, src_key_padding_mask), as torch's; layer(x) as any module.
    Tensor operator()(const Tensor& x, const Tensor& src_mask,
                      const Tensor& src_key_padding_mask = {}) {
        return call([&] { return forward(x, src_mask, src_key_padding_mask); });
    }
    using Module::operator();
    std::string type_name() const override { return "TransformerEncoderLayer"; }
    std::string extra_repr() const override;

    std::shared_ptr<MultiheadAttention> self_attn;
    std::shared_ptr<Linear> linear1;
    std::shared_ptr<Dropout> dropout;
    std::shared_ptr<Linear> linear2;
    std::shared_ptr<LayerNorm> norm1, norm2;
    std::shared_ptr<Dropout> dropout1, dropout2;

  private:
    Tensor feed_forward(const Tensor& x);
    Activation activation_;
    bool norm_first_;
};

}  // namespace tapegrad::nn
