// Recurrent layers: one step (the cells) and a whole sequence (RNN, GRU, LSTM), with torch's
// equations, parameter names, layouts and gate order, so PyTorch's weights load unchanged.
//
//   RNNCell   h' = tanh(x · W_ihT + b_ih + h · W_hhT + b_hh)         (or relu)
//   GRUCell   r  = σ(x W_irT + b_ir + h W_hrT + b_hr)                  gates in the order r, z, n
//             z  = σ(x W_izT + b_iz + h W_hzT + b_hz)
//             n  = tanh(x W_inT + b_in + r ⊙ (h W_hnT + b_hn))
//             h' = (1 − z) ⊙ n + z ⊙ h
//   LSTMCell  i, f, g, o = σ, σ, tanh, σ of (x W_ihT + b_ih + h W_hhT + b_hh), split in four
//             c' = f ⊙ c + i ⊙ g        h' = o ⊙ tanh(c')               gates in the order i, f, g, o
//
//   x [N, input_size] (or [input_size] for one sample), h and c [N, hidden_size].
//   weight_ih [G·hidden, input_size], weight_hh [G·hidden, hidden], bias_ih, bias_hh [G·hidden],
//   G = 1, 3, 4 for RNN, GRU, LSTM; every parameter starts ~ U(−k, k), k = 1/sqrt(hidden), as torch.
//
// RNN, GRU and LSTM run a cell over a sequence x [T, N, input_size] ([N, T, input_size] with
// batch_first), layer after layer (num_layers stacked; layer l's input is layer l−1's outputs).
// Their parameters are named per layer as torch's: weight_ih_l0, weight_hh_l0, bias_ih_l0,
// bias_hh_l0, weight_ih_l1, ... They return the last layer's h at every step, [T, N, hidden]
// (batch first: [N, T, hidden]), and the final state of every layer, h_n (and c_n) [num_layers,
// N, hidden]. The initial state is zeros unless given.
//
// The cells and the RNN and GRU layers compose each step of ops (linear, sigmoid, tanh, chunk,
// *, +), so a reader can follow each gate on the tape; an LSTM layer is one op over the whole
// sequence, lstm_layer (ops/recurrent.hpp), with the same equations and a hand-written
// backward through time. All are differentiable twice. Not implemented (torch has them):
// bidirectional layers, dropout between layers, proj_size, packed sequences.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "layers.hpp"  // Nonlinearity, kReLU, TAPEGRAD_OPTION
#include "module.hpp"

namespace tapegrad::nn {

// Which recurrence a layer runs, and how many gates' rows its weights stack (G below).
enum class CellKind { rnn, gru, lstm };
constexpr std::size_t gate_count(CellKind kind) {
    return kind == CellKind::rnn ? 1 : kind == CellKind::gru ? 3 : 4;
}

// torch's RNNOptions, GRUOptions, LSTMOptions and the cells' options: sizes in the constructor,
// the rest by name (RNNOptions(8, 16).num_layers(2).nonlinearity(nn::kReLU).batch_first(true)).
struct RNNOptions {
    RNNOptions(std::size_t input_size, std::size_t hidden_size)
        : input_size_(input_size), hidden_size_(hidden_size) {}
    TAPEGRAD_OPTION(std::size_t, input_size, 0)
    TAPEGRAD_OPTION(std::size_t, hidden_size, 0)
    TAPEGRAD_OPTION(std::size_t, num_layers, 1)
    TAPEGRAD_OPTION(Nonlinearity, nonlinearity, Nonlinearity::tanh)
    TAPEGRAD_OPTION(bool, bias, true)
    TAPEGRAD_OPTION(bool, batch_first, false)
};
struct GRUOptions {
    GRUOptions(std::size_t input_size, std::size_t hidden_size)
        : input_size_(input_size), hidden_size_(hidden_size) {}
    TAPEGRAD_OPTION(std::size_t, input_size, 0)
    TAPEGRAD_OPTION(std::size_t, hidden_size, 0)
    TAPEGRAD_OPTION(std::size_t, num_layers, 1)
    TAPEGRAD_OPTION(bool, bias, true)
    TAPEGRAD_OPTION(bool, batch_first, false)
};
using LSTMOptions = GRUOptions;

struct RNNCellOptions {
    RNNCellOptions(std::size_t input_size, std::size_t hidden_size)
        : input_size_(input_size), hidden_size_(hidden_size) {}
    TAPEGRAD_OPTION(std::size_t, input_size, 0)
    TAPEGRAD_OPTION(std::size_t, hidden_size, 0)
    TAPEGRAD_OPTION(bool, bias, true)
    TAPEGRAD_OPTION(Nonlinearity, nonlinearity, Nonlinearity::tanh)
};
struct GRUCellOptions {
    GRUCellOptions(std::size_t input_size, std::size_t hidden_size)
        : input_size_(input_size), hidden_size_(hidden_size) {}
    TAPEGRAD_OPTION(std::size_t, input_size, 0)
    TAPEGRAD_OPTION(std::size_t, hidden_size, 0)
    TAPEGRAD_OPTION(bool, bias, true)
};
using LSTMCellOptions = GRUCellOptions;

// What a recurrent layer carries from step to step: h, and c for an LSTM (empty otherwise).
struct RecurrentState {
    Tensor h;
    Tensor c;
};
inline const Tensor& summary_output(const RecurrentState& s) { return s.h; }  // Module::call

// The parameters of one cell (or one layer of a sequence model), and what checks them.
class RecurrentBase : public Module {
  public:
    std::size_t input_size() const { return input_; }
    std::size_t hidden_size() const { return hidden_; }
    std::string extra_repr() const override;

  protected:
    // G = gate_count(kind): 1 (RNN), 3 (GRU), 4 (LSTM). With layer_suffix, parameter names end in "_l0",
    // "_l1", ... (the sequence layers); without, there is one layer and no suffix (the cells).
    RecurrentBase(const char* type, CellKind kind, std::size_t input_size,
                  std::size_t hidden_size, bool bias, std::size_t num_layers, bool layer_suffix);
    struct Weights {
        Tensor weight_ih, weight_hh, bias_ih, bias_hh;
    };
    // One step of this kind of cell with one layer's weights; x [N, in], h and c [N, hidden].
    RecurrentState cell_step(const Weights& w, const Tensor& x, const RecurrentState& state) const;
    const char* type_;
    CellKind kind_;
    std::size_t input_, hidden_, num_layers_;
    Nonlinearity nonlinearity_ = Nonlinearity::tanh;
    std::vector<Weights> layers_;
};

// One step. forward(x) starts from zeros; step(x, state) continues from a state.
class RecurrentCell : public RecurrentBase {
  public:
    Tensor forward(const Tensor& x) override { return step(x, RecurrentState{}).h; }
    // The new state (h and, for an LSTMCell, c). An empty h or c means zeros.
    RecurrentState step(const Tensor& x, const RecurrentState& state);
    // torch's call, the same as step: auto [h, c] = cell(x, {h, c}). (torch's RNNCell and GRUCell
    // return h alone; here c is empty for them.)
    RecurrentState operator()(const Tensor& x, const RecurrentState& state = {}) {
        return call([&] { return step(x, state); });
    }
    std::string type_name() const override { return type_; }

    Tensor weight_ih, weight_hh, bias_ih, bias_hh;  // bias_* empty without bias

  protected:
    RecurrentCell(const char* type, CellKind kind, std::size_t input_size,
                  std::size_t hidden_size, bool bias);
};

class RNNCell : public RecurrentCell {
  public:
    RNNCell(std::size_t input_size, std::size_t hidden_size)
        : RNNCell(RNNCellOptions(input_size, hidden_size)) {}
    explicit RNNCell(const RNNCellOptions& options);
};

class GRUCell : public RecurrentCell {
  public:
    GRUCell(std::size_t input_size, std::size_t hidden_size)
        : GRUCell(GRUCellOptions(input_size, hidden_size)) {}
    explicit GRUCell(const GRUCellOptions& o)
        : RecurrentCell("GRUCell", CellKind::gru, o.input_size(), o.hidden_size(), o.bias()) {}
};

class LSTMCell : public RecurrentCell {
  public:
    LSTMCell(std::size_t input_size, std::size_t hidden_size)
        : LSTMCell(LSTMCellOptions(input_size, hidden_size)) {}
    explicit LSTMCell(const LSTMCellOptions& o)
        : RecurrentCell("LSTMCell", CellKind::lstm, o.input_size(), o.hidden_size(), o.bias()) {}
};

// The outputs of a sequence layer: output [T, N, hidden] (or [N, T, hidden]) and the final
// state, h_n and c_n [num_layers, N, hidden] (c_n only for an LSTM).
struct RecurrentOutput {
    Tensor output;
    RecurrentState state;
};

class RecurrentLayer : public RecurrentBase {
  public:
    // The outputs of every step (the layer's Module::forward).
    Tensor forward(const Tensor& x) override { return run(x).output; }
    // Outputs and final states, from `initial` (h_0 and c_0 [num_layers, N, hidden]; empty:
    // zeros). An unbatched x [T, input_size] gives unbatched results, as torch.
    RecurrentOutput run(const Tensor& x, const RecurrentState& initial = {});
    // torch's call, the same as run: auto [y, state] = lstm(x) (or lstm(x, {h0, c0})). In a
    // Sequential the layer passes its outputs alone on (forward).
    RecurrentOutput operator()(const Tensor& x, const RecurrentState& initial = {}) {
        return call([&] { return run(x, initial); });
    }
    std::string type_name() const override { return type_; }
    std::string extra_repr() const override;
    std::size_t num_layers() const { return num_layers_; }

  protected:
    RecurrentLayer(const char* type, CellKind kind, std::size_t input_size,
                   std::size_t hidden_size, std::size_t num_layers, bool batch_first, bool bias);

  private:
    // One layer over seq [T, N, features] from `start`: its outputs and final state.
    RecurrentOutput run_layer(const Weights& w, const Tensor& seq, const RecurrentState& start) const;
    bool batch_first_;
};

class RNN : public RecurrentLayer {
  public:
    RNN(std::size_t input_size, std::size_t hidden_size) : RNN(RNNOptions(input_size, hidden_size)) {}
    explicit RNN(const RNNOptions& options);
};

class GRU : public RecurrentLayer {
  public:
    GRU(std::size_t input_size, std::size_t hidden_size) : GRU(GRUOptions(input_size, hidden_size)) {}
    explicit GRU(const GRUOptions& o)
        : RecurrentLayer("GRU", CellKind::gru, o.input_size(), o.hidden_size(), o.num_layers(),
                         o.batch_first(), o.bias()) {}
};

class LSTM : public RecurrentLayer {
  public:
    LSTM(std::size_t input_size, std::size_t hidden_size) : LSTM(LSTMOptions(input_size, hidden_size)) {}
    explicit LSTM(const LSTMOptions& o)
        : RecurrentLayer("LSTM", CellKind::lstm, o.input_size(), o.hidden_size(), o.num_layers(),
                         o.batch_first(), o.bias()) {}
};

}  // namespace tapegrad::nn
