#include "recurrent.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "../backend/vector_math.hpp"
#include "../core/tape.hpp"
#include "activation.hpp"
#include "create.hpp"
#include "elementwise.hpp"
#include "index.hpp"
#include "matmul.hpp"
#include "reduce.hpp"
#include "shape.hpp"

namespace tapegrad {

namespace {

// One row of one step: the gates' pre-activations a (i, f, g, o, `hid` each) are replaced by
// their activations, and c = f c_prev + i g, h = o tanh(c) are written.
[[gnu::noinline]] void cell_forward(float* a, const float* __restrict c_prev, float* __restrict c,
                                     float* __restrict h, std::size_t hid) {
    float* __restrict ai = a;
    float* __restrict af = a + hid;
    float* __restrict ag = a + 2 * hid;
    float* __restrict ao = a + 3 * hid;
    for (std::size_t j = 0; j < hid; ++j) {
        const float i = vector_math::sigmoid(ai[j]), f = vector_math::sigmoid(af[j]);
        const float g = vector_math::tanh(ag[j]), o = vector_math::sigmoid(ao[j]);
        ai[j] = i;
        af[j] = f;
        ag[j] = g;
        ao[j] = o;
        c[j] = f * c_prev[j] + i * g;
        h[j] = o * vector_math::tanh(c[j]);
    }
}

// Its backward: from the activations (ai, af, ag, ao), c, c_prev, the gradient dy of h and
// dh coming back from the next step, and dc (updated in place to the gradient of c_prev), the
// gradients of the pre-activations (di, df, dg, d_o). Every array its own pointer, so that the
// compiler sees they do not overlap and vectorises the loop.
[[gnu::noinline]] void cell_backward(
    const float* __restrict ai, const float* __restrict af, const float* __restrict ag,
    const float* __restrict ao, const float* __restrict c, const float* __restrict c_prev,
    const float* __restrict dy, const float* __restrict dh_next, float* __restrict dc,
    float* __restrict di, float* __restrict df, float* __restrict dg, float* __restrict d_o,
    std::size_t hid) {
    for (std::size_t j = 0; j < hid; ++j) {
        const float i = ai[j], f = af[j], g = ag[j], o = ao[j];
        const float dh = dy[j] + dh_next[j];
        const float tc = vector_math::tanh(c[j]);
        const float dcv = dc[j] + dh * o * (1.0f - tc * tc);
        di[j] = dcv * g * i * (1.0f - i);
        df[j] = dcv * c_prev[j] * f * (1.0f - f);
        dg[j] = dcv * i * (1.0f - g * g);
        d_o[j] = dh * tc * o * (1.0f - o);
        dc[j] = dcv * f;
    }
}

void check_shapes(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& w_ih,
                  const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh) {
    auto fail = [&](const std::string& what) {
        std::string shapes = "x " + shape_str(x.shape()) + ", w_ih " + shape_str(w_ih.shape()) +
                             ", w_hh " + shape_str(w_hh.shape());
        throw std::invalid_argument("lstm_layer: " + what + " (" + shapes + ")");
    };
    if (!x.defined() || !h0.defined() || !c0.defined() || !w_ih.defined() || !w_hh.defined())
        throw std::invalid_argument("lstm_layer: x, h0, c0, w_ih and w_hh are required");
    if (x.dim() != 3 || x.shape()[0] == 0) fail("x must be [T, N, I] with at least one step");
    if (w_ih.dim() != 2 || w_hh.dim() != 2 || w_ih.shape()[0] % 4 != 0)
        fail("w_ih must be [4H, I] and w_hh [4H, H]");
    const std::size_t n = x.shape()[1], h = w_ih.shape()[0] / 4;
    if (w_ih.shape()[1] != x.shape()[2]) fail("w_ih's columns must be x's features");
    if (w_hh.shape() != Shape{4 * h, h}) fail("w_hh must be [4H, H]");
    for (const Tensor* s : {&h0, &c0})
        if (s->shape() != Shape{n, h})
            fail("h0 and c0 must be " + shape_str(Shape{n, h}) + ", but one is " +
                 shape_str(s->shape()));
    for (const Tensor* b : {&b_ih, &b_hh})
        if (b->defined() && b->shape() != Shape{4 * h})
            fail("the biases must be [4H] = " + shape_str(Shape{4 * h}) + ", but one is " +
                 shape_str(b->shape()));
    if (b_ih.defined() != b_hh.defined()) fail("give both biases or neither");
}

// The derivative as tensor ops: the forward is recomputed from the inputs with ops, so that the
// gradients it returns are themselves differentiable in every input.
Grads lstm_derivative(const Inputs& in, const Tensor& dy) {
    const Tensor &x = in[0], &h0 = in[1], &c0 = in[2], &w_ih = in[3], &w_hh = in[4];
    const bool bias = in.size() == 7;
    const Tensor b_ih = bias ? in[5] : Tensor(), b_hh = bias ? in[6] : Tensor();
    const long steps = static_cast<long>(x.shape()[0]);
    const Tensor x_part = linear(x, w_ih, b_ih);  // [T, N, 4H]
    const std::size_t count = x.shape()[0];
    std::vector<Tensor> i(count), f(count), g(count), o(count), c(count + 1), h(count + 1);
    c[0] = c0;
    h[0] = h0;
    for (long t = 0; t < steps; ++t) {
        const std::vector<Tensor> a = chunk(select(x_part, 0, t) + linear(h[t], w_hh, b_hh), 4, -1);
        i[t] = sigmoid(a[0]);
        f[t] = sigmoid(a[1]);
        g[t] = tanh(a[2]);
        o[t] = sigmoid(a[3]);
        c[t + 1] = f[t] * c[t] + i[t] * g[t];
        h[t + 1] = o[t] * tanh(c[t + 1]);
    }
    std::vector<Tensor> da(count);
    Tensor dh_next = zeros_like(h0), dc = select(dy, 0, steps);
    for (long t = steps - 1; t >= 0; --t) {
        const Tensor dh = select(dy, 0, t) + dh_next;
        const Tensor tc = tanh(c[t + 1]);
        dc = dc + dh * o[t] * (1.0f - tc * tc);
        da[t] = concat({dc * g[t] * i[t] * (1.0f - i[t]), dc * c[t] * f[t] * (1.0f - f[t]),
                        dc * i[t] * (1.0f - g[t] * g[t]), dh * tc * o[t] * (1.0f - o[t])},
                       -1);
        dh_next = matmul(da[t], w_hh);
        dc = dc * f[t];
    }
    const Tensor all = stack(da, 0);  // [T, N, 4H]
    const std::size_t rows = x.shape()[0] * x.shape()[1], gates = w_ih.shape()[0];
    const Tensor flat = reshape(all, {rows, gates});
    const Tensor previous = reshape(stack(std::vector<Tensor>(h.begin(), h.end() - 1), 0),
                                    {rows, h0.shape()[1]});
    Grads d{matmul(all, w_ih), dh_next, dc,
            matmul(transpose(flat), reshape(x, {rows, x.shape()[2]})),
            matmul(transpose(flat), previous)};
    if (bias) {
        const Tensor db = sum(flat, 0);
        d.push_back(db);
        d.push_back(db);
    }
    return d;
}

}  // namespace

Tensor lstm_layer(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& w_ih,
                  const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh) {
    check_shapes(x, h0, c0, w_ih, w_hh, b_ih, b_hh);
    const std::size_t steps = x.shape()[0], n = x.shape()[1], in = x.shape()[2];
    const std::size_t hid = w_hh.shape()[1], g4 = 4 * hid, step = n * hid;

    // The gates of every step: the biases in every row, then x · w_ihT added (one GEMM).
    Array gates = Array::from_shape({steps * n, g4});
    if (b_ih.defined()) {
        const float *bi = b_ih.value().data(), *bh = b_hh.value().data();
        for (std::size_t r = 0; r < steps * n; ++r)
            for (std::size_t j = 0; j < g4; ++j) gates.data()[r * g4 + j] = bi[j] + bh[j];
    }
    sgemm(false, true, steps * n, g4, in, x.value().data(), w_ih.value().data(), gates.data(),
          b_ih.defined() ? 1.0f : 0.0f);
    Array y = Array::from_shape({steps + 1, n, hid});  // h_1 .. h_T, then c_T
    Array cells = Array::from_shape({steps, n, hid});   // c_1 .. c_T, for backward
    const float* h_prev = h0.value().data();
    const float* c_prev = c0.value().data();
    for (std::size_t t = 0; t < steps; ++t) {
        float* a = gates.data() + t * n * g4;
        sgemm(false, true, n, g4, hid, h_prev, w_hh.value().data(), a, 1.0f);
        float* h_out = y.data() + t * step;
        float* c_out = cells.data() + t * step;
        for (std::size_t r = 0; r < n; ++r)
            cell_forward(a + r * g4, c_prev + r * hid, c_out + r * hid, h_out + r * hid, hid);
        h_prev = h_out;
        c_prev = c_out;
    }
    const float* c_last = cells.data() + (steps - 1) * step;
    std::copy(c_last, c_last + step, y.data() + steps * step);

    // The derivative: backward through time as tensor ops (lstm_tensor_backward). The fast path:
    // the same with each step's gate gradients in one loop and the weight products in one GEMM
    // each, over all steps.
    auto fast = [x, h0, c0, w_ih, w_hh, b_ih, b_hh, gates = std::move(gates), cells = std::move(cells),
                 steps, n, in, hid](const Inputs&, const Tensor& y_tensor, const Tensor& dy_tensor) {
            const Array &dy = dy_tensor.value(), &y = y_tensor.value();
            Grads d(7);
            const std::size_t g4 = 4 * hid, step = n * hid;
            Array da = Array::from_shape({steps * n, g4});
            Array dh_next = xt::zeros<float>({n, hid});
            Array dc = Array::from_shape({n, hid});
            std::copy(dy.data() + steps * step, dy.data() + (steps + 1) * step, dc.data());
            for (std::size_t t = steps; t-- > 0;) {
                const float* act = gates.data() + t * n * g4;
                const float* c_now = cells.data() + t * step;
                const float* c_before = t > 0 ? cells.data() + (t - 1) * step : c0.value().data();
                const float* dy_t = dy.data() + t * step;
                float* d = da.data() + t * n * g4;
                for (std::size_t r = 0; r < n; ++r) {
                    const std::size_t k = r * hid;
                    const float* a = act + r * g4;
                    float* da_r = d + r * g4;
                    cell_backward(a, a + hid, a + 2 * hid, a + 3 * hid, c_now + k, c_before + k,
                                  dy_t + k, dh_next.data() + k, dc.data() + k, da_r, da_r + hid,
                                  da_r + 2 * hid, da_r + 3 * hid, hid);
                }
                sgemm(false, false, n, hid, g4, d, w_hh.value().data(), dh_next.data());
            }
            if (x.requires_grad()) {
                Array dx = Array::from_shape(x.shape());
                sgemm(false, false, steps * n, in, g4, da.data(), w_ih.value().data(), dx.data());
                d[0] = Tensor(std::move(dx));
            }
            if (h0.requires_grad()) d[1] = Tensor(std::move(dh_next));
            if (c0.requires_grad()) d[2] = Tensor(std::move(dc));
            if (w_ih.requires_grad()) {
                Array dw = Array::from_shape(w_ih.shape());
                sgemm(true, false, g4, in, steps * n, da.data(), x.value().data(), dw.data());
                d[3] = Tensor(std::move(dw));
            }
            if (w_hh.requires_grad()) {
                // [h0, h_1 .. h_(T-1)]: h0, then the first T - 1 rows of y
                Array dw = Array::from_shape(w_hh.shape());
                sgemm(true, false, g4, hid, n, da.data(), h0.value().data(), dw.data());
                sgemm(true, false, g4, hid, (steps - 1) * n, da.data() + n * g4, y.data(),
                      dw.data(), 1.0f);
                d[4] = Tensor(std::move(dw));
            }
            if (b_ih.defined() && (b_ih.requires_grad() || b_hh.requires_grad())) {
                Array db = xt::zeros<float>({g4});
                for (std::size_t r = 0; r < steps * n; ++r)
                    for (std::size_t j = 0; j < g4; ++j) db.data()[j] += da.data()[r * g4 + j];
                if (b_ih.requires_grad()) d[5] = Tensor(Array(db));
                if (b_hh.requires_grad()) d[6] = Tensor(std::move(db));
            }
            return d;
        };
    return record("lstm_layer", {x, h0, c0, w_ih, w_hh, b_ih, b_hh}, std::move(y),
                  [](const Inputs& inputs, const Tensor&, const Tensor& dy) {
                      return lstm_derivative(inputs, dy);
                  },
                  fast_path(std::move(fast)));
}

}  // namespace tapegrad
