#include "recurrent.hpp"

#include <cmath>
#include <stdexcept>

#include "../ops/activation.hpp"
#include "../ops/create.hpp"
#include "../ops/elementwise.hpp"
#include "../ops/index.hpp"
#include "../ops/matmul.hpp"
#include "../ops/recurrent.hpp"
#include "../ops/shape.hpp"
#include "init.hpp"

namespace tapegrad::nn {

RecurrentBase::RecurrentBase(const char* type, CellKind kind, std::size_t input_size,
                             std::size_t hidden_size, bool bias, std::size_t num_layers,
                             bool layer_suffix)
    : type_(type), kind_(kind), input_(input_size), hidden_(hidden_size),
      num_layers_(num_layers) {
    if (input_size == 0 || hidden_size == 0 || num_layers == 0)
        throw std::invalid_argument(std::string(type) + ": input_size, hidden_size and " +
                                    "num_layers must be at least 1, got " +
                                    std::to_string(input_size) + ", " +
                                    std::to_string(hidden_size) + " and " +
                                    std::to_string(num_layers));
    // torch's reset_parameters: every parameter ~ U(-k, k), k = 1/sqrt(hidden), in order.
    const float k = 1.0f / std::sqrt(static_cast<float>(hidden_size));
    const std::size_t rows = gate_count(kind) * hidden_size;
    for (std::size_t l = 0; l < num_layers; ++l) {
        const std::string suffix = layer_suffix ? "_l" + std::to_string(l) : "";
        const std::size_t in = l == 0 ? input_size : hidden_size;
        Weights w;
        w.weight_ih = register_parameter("weight_ih" + suffix, Array::from_shape({rows, in}));
        w.weight_hh = register_parameter("weight_hh" + suffix, Array::from_shape({rows, hidden_size}));
        if (bias) {
            w.bias_ih = register_parameter("bias_ih" + suffix, Array::from_shape({rows}));
            w.bias_hh = register_parameter("bias_hh" + suffix, Array::from_shape({rows}));
        }
        for (const Tensor& p : {w.weight_ih, w.weight_hh, w.bias_ih, w.bias_hh})
            if (p.defined()) init::uniform_(p, -k, k);
        layers_.push_back(w);
    }
}

std::string RecurrentBase::extra_repr() const {
    std::string s = std::to_string(input_) + ", " + std::to_string(hidden_);
    if (!layers_[0].bias_ih.defined()) s += ", bias=false";
    if (nonlinearity_ == Nonlinearity::relu) s += ", nonlinearity=relu";
    return s;
}

RecurrentState RecurrentBase::cell_step(const Weights& w, const Tensor& x,
                                        const RecurrentState& state) const {
    const Tensor& h = state.h;
    const Tensor gi = linear(x, w.weight_ih, w.bias_ih);  // [N, G·hidden]
    const Tensor gh = linear(h, w.weight_hh, w.bias_hh);
    if (kind_ == CellKind::rnn) {  // RNN
        const Tensor a = gi + gh;
        return {nonlinearity_ == Nonlinearity::tanh ? tanh(a) : relu(a), Tensor()};
    }
    if (kind_ == CellKind::gru) {  // GRU: r and z from both sums; n sees h only through r
        const std::vector<Tensor> i = chunk(gi, 3, -1), hh = chunk(gh, 3, -1);
        const Tensor r = sigmoid(i[0] + hh[0]);
        const Tensor z = sigmoid(i[1] + hh[1]);
        const Tensor n = tanh(i[2] + r * hh[2]);
        return {n + z * (h - n), Tensor()};  // (1 - z) n + z h
    }
    const std::vector<Tensor> g = chunk(gi + gh, 4, -1);  // LSTM: i, f, g, o
    const Tensor c = sigmoid(g[1]) * state.c + sigmoid(g[0]) * tanh(g[2]);
    return {sigmoid(g[3]) * tanh(c), c};
}

namespace {

// zeros [n, hidden] for a missing state, or the given one after checking its shape.
Tensor state_or_zeros(const char* type, const char* name, const Tensor& given, std::size_t n,
                      std::size_t hidden) {
    if (!given.defined()) return zeros({n, hidden});
    if (given.shape() != Shape{n, hidden})
        throw std::invalid_argument(std::string(type) + ": " + name + " must be " +
                                    shape_str(Shape{n, hidden}) + " for this x, but it is " +
                                    shape_str(given.shape()));
    return given;
}

}  // namespace

RecurrentCell::RecurrentCell(const char* type, CellKind kind, std::size_t input_size,
                             std::size_t hidden_size, bool bias)
    : RecurrentBase(type, kind, input_size, hidden_size, bias, 1, false) {
    weight_ih = layers_[0].weight_ih;
    weight_hh = layers_[0].weight_hh;
    bias_ih = layers_[0].bias_ih;
    bias_hh = layers_[0].bias_hh;
}

RecurrentState RecurrentCell::step(const Tensor& x, const RecurrentState& state) {
    const bool batched = x.dim() == 2;
    if ((x.dim() != 1 && x.dim() != 2) || x.shape().back() != input_)
        throw std::invalid_argument(std::string(type_) + ": x must be [N, " +
                                    std::to_string(input_) + "] (or [" + std::to_string(input_) +
                                    "] for one sample), but its shape is " +
                                    shape_str(x.shape()));
    const Tensor xb = batched ? x : unsqueeze(x, 0);
    const std::size_t n = xb.shape()[0];
    auto batch = [&](const Tensor& t) { return t.defined() && !batched ? unsqueeze(t, 0) : t; };
    RecurrentState s{state_or_zeros(type_, "h", batch(state.h), n, hidden_), Tensor()};
    if (kind_ == CellKind::lstm) s.c = state_or_zeros(type_, "c", batch(state.c), n, hidden_);
    RecurrentState next = cell_step(layers_[0], xb, s);
    if (!batched) {
        next.h = squeeze(next.h, 0);
        if (next.c.defined()) next.c = squeeze(next.c, 0);
    }
    return next;
}

RNNCell::RNNCell(const RNNCellOptions& o)
    : RecurrentCell("RNNCell", CellKind::rnn, o.input_size(), o.hidden_size(), o.bias()) {
    nonlinearity_ = o.nonlinearity();
}

RecurrentLayer::RecurrentLayer(const char* type, CellKind kind, std::size_t input_size,
                               std::size_t hidden_size, std::size_t num_layers, bool batch_first,
                               bool bias)
    : RecurrentBase(type, kind, input_size, hidden_size, bias, num_layers, true),
      batch_first_(batch_first) {}

std::string RecurrentLayer::extra_repr() const {
    std::string s = RecurrentBase::extra_repr();
    if (num_layers_ != 1) s += ", num_layers=" + std::to_string(num_layers_);
    if (batch_first_) s += ", batch_first=true";
    return s;
}

RecurrentOutput RecurrentLayer::run_layer(const Weights& w, const Tensor& seq,
                                          const RecurrentState& start) const {
    const long steps = static_cast<long>(seq.shape()[0]);
    if (kind_ == CellKind::lstm) {  // an LSTM layer is one op over the whole sequence (ops/recurrent.hpp)
        const Tensor packed = lstm_layer(seq, start.h, start.c, w.weight_ih, w.weight_hh,
                                         w.bias_ih, w.bias_hh);  // h_1 .. h_T, then c_T
        return {slice(packed, 0, 0, steps),
                {select(packed, 0, steps - 1), select(packed, 0, steps)}};
    }
    std::vector<Tensor> outputs;  // RNN and GRU: the cell, step by step, composed of ops
    RecurrentState s = start;
    for (long t = 0; t < steps; ++t) {
        s = cell_step(w, select(seq, 0, t), s);
        outputs.push_back(s.h);
    }
    return {stack(outputs, 0), s};
}

RecurrentOutput RecurrentLayer::run(const Tensor& x, const RecurrentState& initial) {
    const bool batched = x.dim() == 3;
    if ((x.dim() != 2 && x.dim() != 3) || x.shape().back() != input_)
        throw std::invalid_argument(
            std::string(type_) + ": x must be " + (batch_first_ ? "[N, T, " : "[T, N, ") +
            std::to_string(input_) + "] (or [T, " + std::to_string(input_) +
            "] unbatched), but its shape is " + shape_str(x.shape()));
    // Time first, with a batch axis: [T, N, input].
    const Tensor seq = !batched ? unsqueeze(x, 1) : batch_first_ ? transpose(x, 0, 1) : x;
    const std::size_t steps = seq.shape()[0], n = seq.shape()[1];
    auto initial_state = [&](const char* name, const Tensor& given) {
        if (!given.defined()) return given;
        const Tensor g = batched ? given : unsqueeze(given, 1);
        if (g.shape() != Shape{num_layers_, n, hidden_})
            throw std::invalid_argument(std::string(type_) + ": " + name + " must be " +
                                        shape_str(batched ? Shape{num_layers_, n, hidden_}
                                                          : Shape{num_layers_, hidden_}) +
                                        ", but it is " + shape_str(given.shape()));
        return g;
    };
    const Tensor h0 = initial_state("h_0", initial.h);
    const Tensor c0 = kind_ == CellKind::lstm ? initial_state("c_0", initial.c) : Tensor();

    if (steps == 0)
        throw std::invalid_argument(std::string(type_) + ": x has no steps (its shape is " +
                                    shape_str(x.shape()) + ")");
    auto state_of = [&](const Tensor& given, std::size_t l) {
        return given.defined() ? select(given, 0, static_cast<long>(l)) : zeros({n, hidden_});
    };
    RecurrentOutput out;
    std::vector<Tensor> h_n, c_n;  // every layer's final state
    Tensor input = seq;            // [T, N, features]: the sequence, then each layer's outputs
    for (std::size_t l = 0; l < num_layers_; ++l) {
        const RecurrentState start{state_of(h0, l), kind_ == CellKind::lstm ? state_of(c0, l) : Tensor()};
        const RecurrentOutput layer = run_layer(layers_[l], input, start);
        input = layer.output;
        h_n.push_back(layer.state.h);
        if (kind_ == CellKind::lstm) c_n.push_back(layer.state.c);
    }
    out.output = input;
    out.state.h = stack(h_n, 0);                                          // [layers, N, hidden]
    if (kind_ == CellKind::lstm) out.state.c = stack(c_n, 0);
    if (!batched) {
        out.output = squeeze(out.output, 1);
        out.state.h = squeeze(out.state.h, 1);
        if (out.state.c.defined()) out.state.c = squeeze(out.state.c, 1);
    } else if (batch_first_) {
        out.output = transpose(out.output, 0, 1);
    }
    return out;
}

RNN::RNN(const RNNOptions& o)
    : RecurrentLayer("RNN", CellKind::rnn, o.input_size(), o.hidden_size(), o.num_layers(),
                     o.batch_first(), o.bias()) {
    nonlinearity_ = o.nonlinearity();
}

}  // namespace tapegrad::nn
