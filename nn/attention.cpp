#include "attention.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "../ops/activation.hpp"
#include "../ops/elementwise.hpp"
#include "../ops/index.hpp"
#include "../ops/matmul.hpp"
#include "../ops/norm.hpp"
#include "../ops/reduce.hpp"
#include "../ops/shape.hpp"
#include "init.hpp"

namespace tapegrad::nn {

Tensor causal_mask(std::size_t length) {
    Array mask = Array::from_shape({length, length});
    const float inf = std::numeric_limits<float>::infinity();
    for (std::size_t i = 0; i < length; ++i)
        for (std::size_t j = 0; j < length; ++j) mask(i, j) = j > i ? -inf : 0.0f;
    return Tensor(std::move(mask));
}

MultiheadAttention::MultiheadAttention(const MultiheadAttentionOptions& o)
    : embed_dim_(o.embed_dim()), num_heads_(o.num_heads()),
      dropout_(static_cast<float>(o.dropout())), batch_first_(o.batch_first()) {
    const std::size_t embed_dim = embed_dim_, num_heads = num_heads_;
    const float dropout = dropout_;
    const bool bias = o.bias();
    if (embed_dim == 0 || num_heads == 0 || embed_dim % num_heads != 0)
        throw std::invalid_argument("MultiheadAttention: num_heads (" + std::to_string(num_heads) +
                                    ") must be at least 1 and divide embed_dim (" +
                                    std::to_string(embed_dim) + ")");
    if (!(dropout >= 0.0f && dropout <= 1.0f))
        throw std::invalid_argument("MultiheadAttention: dropout must be in [0, 1], got " +
                                    std::to_string(dropout));
    in_proj_weight = register_parameter("in_proj_weight", Array::from_shape({3 * embed_dim, embed_dim}));
    if (bias) in_proj_bias = register_parameter("in_proj_bias", xt::zeros<float>({3 * embed_dim}));
    out_proj = register_module("out_proj", std::make_shared<Linear>(LinearOptions(embed_dim, embed_dim).bias(bias)));
    // torch's _reset_parameters, after out_proj drew its Linear initialisation.
    init::xavier_uniform_(in_proj_weight);
    if (bias) init::zeros_(out_proj->bias);
}

std::string MultiheadAttention::extra_repr() const {
    return "embed_dim=" + std::to_string(embed_dim_) + ", num_heads=" + std::to_string(num_heads_) +
           (dropout_ > 0.0f ? ", dropout=" + std::to_string(dropout_) : std::string()) +
           (batch_first_ ? ", batch_first=true" : "");
}

Tensor MultiheadAttention::forward(const Tensor& x) { return attend(x, x, x).output; }

AttentionOutput MultiheadAttention::attend(const Tensor& query, const Tensor& key,
                                           const Tensor& value, const Tensor& mask,
                                           bool need_weights) {
    const std::size_t e = embed_dim_, heads = num_heads_, d = e / heads;
    const bool batched = query.dim() == 3;
    const std::string layout = batch_first_ ? "[N, L, E]" : "[L, N, E]";
    for (const auto& [name, t] : {std::pair<const char*, const Tensor&>{"query", query},
                                  {"key", key}, {"value", value}})
        if (t.dim() != query.dim() || (t.dim() != 2 && t.dim() != 3) || t.shape().back() != e)
            throw std::invalid_argument(
                "MultiheadAttention: query, key and value must be " + layout +
                " (or [L, E] unbatched) with E = " + std::to_string(e) + ", but " + name +
                " is " + shape_str(t.shape()) + " and query is " + shape_str(query.shape()));
    // Time first with a batch axis: [L, N, E].
    auto time_first = [&](const Tensor& t) {
        return !batched ? unsqueeze(t, 1) : batch_first_ ? transpose(t, 0, 1) : t;
    };
    const Tensor q_in = time_first(query), k_in = time_first(key), v_in = time_first(value);
    const std::size_t l = q_in.shape()[0], n = q_in.shape()[1], s = k_in.shape()[0];
    if (k_in.shape() != v_in.shape() || k_in.shape()[1] != n)
        throw std::invalid_argument("MultiheadAttention: key " + shape_str(key.shape()) +
                                    " and value " + shape_str(value.shape()) +
                                    " must have the same shape and query's batch size (query is " +
                                    shape_str(query.shape()) + ")");
    if (mask.defined() && mask.shape() != Shape{l, s} && mask.shape() != Shape{n * heads, l, s})
        throw std::invalid_argument("MultiheadAttention: the mask must be " +
                                    shape_str(Shape{l, s}) + " or " +
                                    shape_str(Shape{n * heads, l, s}) + ", but it is " +
                                    shape_str(mask.shape()));

    // Project with the q, k, v rows of in_proj, and split each into heads: [N·heads, len, d].
    auto project = [&](const Tensor& x, std::size_t part) {
        const long from = static_cast<long>(part * e), to = static_cast<long>((part + 1) * e);
        const Tensor w = slice(in_proj_weight, 0, from, to);
        const Tensor b = in_proj_bias.defined() ? slice(in_proj_bias, 0, from, to) : Tensor();
        const std::size_t len = x.shape()[0];
        return transpose(reshape(linear(x, w, b), {len, n * heads, d}), 0, 1);
    };
    const Tensor q = project(q_in, 0) * (1.0f / std::sqrt(static_cast<float>(d)));
    const Tensor k = project(k_in, 1), v = project(v_in, 2);

    Tensor scores = matmul(q, transpose(k, 1, 2));  // [N·heads, L, S]
    if (mask.defined()) scores = scores + mask;
    Tensor a = softmax(scores, -1);
    const Tensor weights = a;
    if (dropout_ > 0.0f && is_training()) a = dropout(a, dropout_, true);
    const Tensor o = reshape(transpose(matmul(a, v), 0, 1), {l, n, e});  // heads side by side

    AttentionOutput out;
    out.output = (*out_proj)(o);
    if (need_weights) out.weights = mean(reshape(weights, {n, heads, l, s}), 1);
    if (!batched) {
        out.output = squeeze(out.output, 1);
        if (need_weights) out.weights = squeeze(out.weights, 0);
    } else if (batch_first_) {
        out.output = transpose(out.output, 0, 1);
    }
    return out;
}

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerEncoderLayerOptions& o)
    : activation_(o.activation()), norm_first_(o.norm_first()) {
    const std::size_t d_model = o.d_model(), dim_feedforward = o.dim_feedforward();
    const double dropout_p = o.dropout();
    const LayerNormOptions norm = LayerNormOptions({d_model}).eps(o.layer_norm_eps());
    self_attn = register_module(
        "self_attn", std::make_shared<MultiheadAttention>(MultiheadAttentionOptions(d_model, o.nhead())
                                                              .dropout(dropout_p)
                                                              .batch_first(o.batch_first())));
    linear1 = register_module("linear1", std::make_shared<Linear>(d_model, dim_feedforward));
    dropout = register_module("dropout", std::make_shared<Dropout>(DropoutOptions(dropout_p)));
    linear2 = register_module("linear2", std::make_shared<Linear>(dim_feedforward, d_model));
    norm1 = register_module("norm1", std::make_shared<LayerNorm>(norm));
    norm2 = register_module("norm2", std::make_shared<LayerNorm>(norm));
    dropout1 = register_module("dropout1", std::make_shared<Dropout>(DropoutOptions(dropout_p)));
    dropout2 = register_module("dropout2", std::make_shared<Dropout>(DropoutOptions(dropout_p)));
}

std::string TransformerEncoderLayer::extra_repr() const {
    return std::string("activation=") + (activation_ == Activation::relu ? "relu" : "gelu") +
           ", norm_first=" + (norm_first_ ? "true" : "false");
}

Tensor TransformerEncoderLayer::feed_forward(const Tensor& x) {
    const Tensor h = (*linear1)(x);
    return (*dropout2)((*linear2)((*dropout)(activation_ == Activation::relu ? relu(h) : gelu(h))));
}

namespace {
// src_mask [L, L] and src_key_padding_mask [N, L] as one additive mask [N * heads, L, L], the
// form MultiheadAttention takes for a mask per sequence.
Tensor with_padding(const Tensor& x, const Tensor& src_mask, const Tensor& padding,
                    std::size_t heads, bool batch_first) {
    if (x.dim() != 3)
        throw std::invalid_argument("TransformerEncoderLayer: src_key_padding_mask needs a batch, "
                                    "x [L, N, E] or [N, L, E], but x is " + shape_str(x.shape()));
    const std::size_t n = x.shape()[batch_first ? 0 : 1], l = x.shape()[batch_first ? 1 : 0];
    if (padding.shape() != Shape{n, l})
        throw std::invalid_argument("TransformerEncoderLayer: src_key_padding_mask must be " +
                                    shape_str(Shape{n, l}) + " ([N, L]), but it is " +
                                    shape_str(padding.shape()));
    if (src_mask.defined() && src_mask.shape() != Shape{l, l})
        throw std::invalid_argument("TransformerEncoderLayer: src_mask must be " + shape_str(Shape{l, l}) +
                                    " with src_key_padding_mask, but it is " + shape_str(src_mask.shape()));
    Array mask = xt::zeros<float>({n * heads, l, l});
    const float inf = std::numeric_limits<float>::infinity();
    for (std::size_t b = 0; b < n; ++b)
        for (std::size_t h = 0; h < heads; ++h)
            for (std::size_t i = 0; i < l; ++i)
                for (std::size_t j = 0; j < l; ++j)
                    mask(b * heads + h, i, j) = (src_mask.defined() ? src_mask.value()(i, j) : 0.0f) +
                                                (padding.value()(b, j) != 0.0f ? -inf : 0.0f);
    return Tensor(std::move(mask));
}
}  // namespace

Tensor TransformerEncoderLayer::forward(const Tensor& x, const Tensor& src_mask,
                                        const Tensor& src_key_padding_mask) {
    const Tensor mask = src_key_padding_mask.defined()
                            ? with_padding(x, src_mask, src_key_padding_mask, self_attn->num_heads(),
                                           self_attn->batch_first())
                            : src_mask;
    auto attention = [&](const Tensor& t) { return (*dropout1)(self_attn->attend(t, t, t, mask, false).output); };
    if (norm_first_) {
        const Tensor y = x + attention((*norm1)(x));
        return y + feed_forward((*norm2)(y));
    }
    const Tensor y = (*norm1)(x + attention(x));
    return (*norm2)(y + feed_forward(y));
}

}  // namespace tapegrad::nn
