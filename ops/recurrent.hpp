// A whole LSTM layer over a sequence as one op: what nn::LSTM runs (nn/recurrent.hpp has the
// equations; nn::LSTMCell composes the same step from elementwise ops, one record per op).
//
//   lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
//     x [T, N, I], h0 and c0 [N, H], w_ih [4H, I], w_hh [4H, H], b_ih and b_hh [4H] or empty
//     gates_t = x_t w_ihT + b_ih + h_(t-1) w_hhT + b_hh, split i, f, g, o; i, f, o = σ(.), g = tanh(.)
//     c_t = f c_(t-1) + i g          h_t = o tanh(c_t)
//   returns [T + 1, N, H]: h_1 .. h_T, then c_T (slice it: the outputs and the final state)
//
// Forward: the input part of every step's gates in one GEMM [T N, I] x [I, 4H], then per step
// one GEMM [N, H] x [H, 4H] and one pass over the gates. Backward, through time from the end:
//   dh_t = dy_t + dh from step t+1           dc_t += dh_t o (1 - tanh² c_t)
//   do = dh_t tanh c_t   di = dc_t g   dg = dc_t i   df = dc_t c_(t-1)   dc_(t-1) = dc_t f
//   da = (di i (1-i), df f (1-f), dg (1-g²), do o (1-o))      (the gates' pre-activations)
//   dh from step t = da w_hh
// then once for all steps: dx = da w_ih, dw_ih = daT x, dw_hh = daT [h0, h_1 .. h_(T-1)],
// db_ih = db_hh = the sum of da's rows. Its tensor backward recomputes the same with ops, so the
// layer is differentiable twice.
#pragma once

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor lstm_layer(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& w_ih,
                  const Tensor& w_hh, const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor());

}  // namespace tapegrad
