// Recurrent and attention layers: names and shapes as torch's, gradients and gradients of
// gradients by finite differences, masks, train/eval, and errors that name the layer and shapes.
// (Values against PyTorch: test_torch_layers.cpp.)
#include <cmath>
#include <limits>
#include <vector>

#include <xtensor/xview.hpp>

#include "helpers.hpp"

using namespace tapegrad;
using test::random_array;

namespace {

std::vector<std::string> names_and_shapes(const nn::Module& m) {
    std::vector<std::string> out;
    for (const auto& [name, p] : m.named_parameters()) out.push_back(name + " " + shape_str(p.shape()));
    return out;
}

// How far two float computations of one LSTM layer (lstm_layer's layout: h_1 .. h_T, then c_T)
// can fall apart when each adds a gate's I + H products and two biases in an order of its own,
// and otherwise rounds the same way: a gate's sum within sum_bound of its magnitude, plus what
// h's difference makes through w_hh; sigmoid and tanh pass a difference on times at most 1/4 and
// 1, plus the few ulps of their approximations; c = f c + i g and h = o tanh(c) add their own
// products' rounding. The values that scale the differences are the layer's, in double (first
// order: a difference times a difference is left out). x [T, N, I], h0 and c0 [N, H].
Array lstm_bounds(const Array& x, const Array& h0, const Array& c0, const Array& w_ih,
                  const Array& w_hh, const Array& b_ih, const Array& b_hh) {
    const std::size_t steps = x.shape()[0], n = x.shape()[1], in = x.shape()[2];
    const std::size_t hid = w_hh.shape()[1];
    const double act = 8.0 * std::numeric_limits<float>::epsilon() / 2.0;  // a few ulps below 1
    auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
    Array bounds = Array::from_shape({steps + 1, n, hid});
    for (std::size_t r = 0; r < n; ++r) {
        std::vector<double> h(hid), c(hid), eh(hid, 0.0), ec(hid, 0.0);
        for (std::size_t j = 0; j < hid; ++j) {
            h[j] = h0(r, j);
            c[j] = c0(r, j);
        }
        for (std::size_t t = 0; t < steps; ++t) {
            std::vector<double> a(4 * hid), ea(4 * hid);
            for (std::size_t k = 0; k < 4 * hid; ++k) {
                double sum = double(b_ih(k)) + b_hh(k), magnitude = std::abs(b_ih(k)) + std::abs(b_hh(k)), carried = 0;
                for (std::size_t j = 0; j < in; ++j) {
                    sum += double(w_ih(k, j)) * x(t, r, j);
                    magnitude += std::abs(double(w_ih(k, j)) * x(t, r, j));
                }
                for (std::size_t j = 0; j < hid; ++j) {
                    sum += w_hh(k, j) * h[j];
                    magnitude += std::abs(w_hh(k, j)) * (std::abs(h[j]) + eh[j]);
                    carried += std::abs(w_hh(k, j)) * eh[j];
                }
                a[k] = sum;
                ea[k] = test::sum_bound(in + hid + 2, magnitude) + carried;
            }
            for (std::size_t j = 0; j < hid; ++j) {
                const double i = sigmoid(a[j]), f = sigmoid(a[hid + j]), g = std::tanh(a[2 * hid + j]),
                             o = sigmoid(a[3 * hid + j]);
                const double ei = ea[j] / 4 + act, ef = ea[hid + j] / 4 + act, eg = ea[2 * hid + j] + act,
                             eo = ea[3 * hid + j] / 4 + act;
                const double c_next = f * c[j] + i * g;
                ec[j] = ef * std::abs(c[j]) + f * ec[j] + ei * std::abs(g) + i * eg +
                        test::sum_bound(2, std::abs(f * c[j]) + std::abs(i * g));
                c[j] = c_next;
                const double tc = std::tanh(c[j]);
                h[j] = o * tc;
                eh[j] = eo * std::abs(tc) + o * (ec[j] + act) + test::sum_bound(1, std::abs(h[j]));
                bounds(t, r, j) = float(eh[j]);
            }
        }
        for (std::size_t j = 0; j < hid; ++j) bounds(steps, r, j) = float(ec[j]);
    }
    return bounds;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("recurrent layers have torch's parameter names, shapes and initial range") {
    nn::LSTM lstm(nn::LSTMOptions(3, 4).num_layers(2));
    CHECK(names_and_shapes(lstm) ==
          std::vector<std::string>{"weight_ih_l0 [16, 3]", "weight_hh_l0 [16, 4]", "bias_ih_l0 [16]",
                                   "bias_hh_l0 [16]", "weight_ih_l1 [16, 4]", "weight_hh_l1 [16, 4]",
                                   "bias_ih_l1 [16]", "bias_hh_l1 [16]"});
    for (const Tensor& p : lstm.parameters()) {
        CHECK(xt::amax(xt::abs(p.value()))() <= 0.5f);  // U(-1/sqrt(4), 1/sqrt(4))
        CHECK(xt::amax(xt::abs(p.value()))() > 0.2f);
    }
    CHECK(names_and_shapes(nn::GRUCell(nn::GRUCellOptions(3, 5).bias(false))) ==
          std::vector<std::string>{"weight_ih [15, 3]", "weight_hh [15, 5]"});
    CHECK(names_and_shapes(nn::MultiheadAttention(8, 2)) ==
          std::vector<std::string>{"in_proj_weight [24, 8]", "in_proj_bias [24]",
                                   "out_proj.weight [8, 8]", "out_proj.bias [8]"});
    nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16));
    CHECK(names_and_shapes(layer).size() == 12);
    CHECK(names_and_shapes(layer)[4] == "linear1.weight [16, 8]");
    CHECK(names_and_shapes(layer)[11] == "norm2.bias [8]");
}

TEST_CASE("recurrent layers return outputs and final states of torch's shapes") {
    nn::LSTM lstm(nn::LSTMOptions(3, 4).num_layers(2).batch_first(true));
    const nn::RecurrentOutput out = lstm.run(Tensor(random_array({2, 5, 3})));
    CHECK(out.output.shape() == Shape{2, 5, 4});
    CHECK(out.state.h.shape() == Shape{2, 2, 4});
    CHECK(out.state.c.shape() == Shape{2, 2, 4});
    // The last step's output is the last layer's final h.
    CHECK(xt::allclose(select(out.output, 1, 4).value(), select(out.state.h, 0, 1).value()));
    nn::GRU gru(3, 4);
    const nn::RecurrentOutput g = gru.run(Tensor(random_array({5, 3})));  // unbatched
    CHECK(g.output.shape() == Shape{5, 4});
    CHECK(g.state.h.shape() == Shape{1, 4});
    CHECK_FALSE(g.state.c.defined());
    // Running the cell by hand over the steps gives the layer's outputs.
    nn::GRUCell cell(3, 4);
    cell.weight_ih.mutable_value() = gru.named_parameters()[0].second.value();
    cell.weight_hh.mutable_value() = gru.named_parameters()[1].second.value();
    cell.bias_ih.mutable_value() = gru.named_parameters()[2].second.value();
    cell.bias_hh.mutable_value() = gru.named_parameters()[3].second.value();
    const Tensor x(random_array({5, 3}));
    nn::RecurrentState s;
    for (long t = 0; t < 5; ++t) s = cell.step(select(x, 0, t), s);
    CHECK(xt::allclose(s.h.value(), select(gru.run(x).output, 0, 4).value()));
}

TEST_CASE("gradcheck and gradgradcheck through LSTM, GRU and RNN layers") {
    nn::LSTM lstm(nn::LSTMOptions(2, 3).num_layers(2));
    const Array x = random_array({3, 2, 2}, -1, 1, 1), h0 = random_array({2, 2, 3}, -1, 1, 2),
                c0 = random_array({2, 2, 3}, -1, 1, 3);
    auto lstm_f = [&](const auto& t) {
        const nn::RecurrentOutput o = lstm.run(t[0], {t[1], t[2]});
        return sum(o.output * o.output) + sum(o.state.c);
    };
    CHECK_GRAD(gradcheck(lstm_f, {x, h0, c0}));
    CHECK_GRADGRAD(gradgradcheck([&](const auto& t) { return lstm.run(t[0]).output; }, {x}));
    nn::GRU gru(2, 3);
    CHECK_GRAD(gradcheck([&](const auto& t) { return gru.run(t[0], {t[1], Tensor()}).output; },
                         {x, random_array({1, 2, 3})}));
    CHECK_GRADGRAD(gradgradcheck([&](const auto& t) { return gru(t[0]).output; }, {x}));
    nn::RNN rnn(2, 3);
    CHECK_GRADGRAD(gradgradcheck([&](const auto& t) { return rnn(t[0]).output; }, {x}));
}

TEST_CASE("gradcheck and gradgradcheck through attention and a transformer layer") {
    nn::MultiheadAttention mha(4, 2);
    const Array x = random_array({3, 2, 4}, -1, 1, 4);
    auto masked = [&](const auto& t) { return mha.attend(t[0], t[0], t[0], nn::causal_mask(3)).output; };
    CHECK_GRAD(gradcheck(masked, {x}));
    CHECK_GRADGRAD(gradgradcheck(masked, {x}));
    nn::TransformerEncoderLayer pre(nn::TransformerEncoderLayerOptions(4, 2)
                                        .dim_feedforward(8)
                                        .dropout(0.0)
                                        .activation(nn::kGELU)
                                        .norm_first(true));
    CHECK_GRAD(gradcheck([&](const auto& t) { return pre(t[0]); }, {x}));
}

TEST_CASE("a causal mask keeps every position from seeing later ones") {
    nn::MultiheadAttention mha(4, 2);
    Tensor x(random_array({4, 1, 4}), true);
    const nn::AttentionOutput out = mha.attend(x, x, x, nn::causal_mask(4));
    // The weights are zero above the diagonal, and each row sums to one.
    const Array w = out.weights.value();  // [1, 4, 4]
    for (std::size_t i = 0; i < 4; ++i) {
        float row = 0.0f;
        for (std::size_t j = 0; j < 4; ++j) {
            if (j > i) CHECK(w(0, i, j) == 0.0f);
            row += w(0, i, j);
        }
        CHECK(row == doctest::Approx(1.0f));
    }
    // Position 1's output has no gradient from positions 2 and 3.
    sum(select(out.output, 0, 1)).backward();
    const Array dx = x.grad();
    for (std::size_t k = 0; k < dx.size(); ++k) {
        INFO("element " << k);
        if (k >= 8) CHECK(dx.data()[k] == 0.0f);  // positions 2 and 3: 2 x 4 values each
    }
    CHECK(xt::amax(xt::abs(dx))() > 0.0f);
}

TEST_CASE("a transformer layer's dropout acts in training and not after eval()") {
    manual_seed(3);
    nn::TransformerEncoderLayer layer(
        nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16).dropout(0.5));
    const Tensor x(random_array({3, 2, 8}));
    const Array a = layer(x).value(), b = layer(x).value();
    CHECK_FALSE(xt::allclose(a, b));
    layer.eval();
    CHECK(xt::allclose(layer(x).value(), layer(x).value()));
}

TEST_CASE("recurrent and attention layers name themselves and both shapes on bad input") {
    nn::LSTM lstm(3, 4);
    CHECK(error_of([&] { lstm(Tensor(random_array({5, 2, 6}))); }) ==
          "LSTM: x must be [T, N, 3] (or [T, 3] unbatched), but its shape is [5, 2, 6]");
    CHECK(error_of([&] { lstm.run(Tensor(random_array({5, 2, 3})), {Tensor(random_array({1, 3, 4})), Tensor()}); }) ==
          "LSTM: h_0 must be [1, 2, 4], but it is [1, 3, 4]");
    nn::Sequential model{std::make_shared<nn::Linear>(3, 3), std::make_shared<nn::GRU>(4, 4)};
    CHECK(error_of([&] { model(Tensor(random_array({5, 2, 3}))); }) ==
          "Sequential: layer 1 (GRU): GRU: x must be [T, N, 4] (or [T, 4] unbatched), but its "
          "shape is [5, 2, 3]");
    CHECK(error_of([&] { nn::LSTMCell(3, 4).step(Tensor(random_array({2, 5})), {}); }) ==
          "LSTMCell: x must be [N, 3] (or [3] for one sample), but its shape is [2, 5]");
    CHECK(error_of([] { nn::MultiheadAttention(6, 4); }) ==
          "MultiheadAttention: num_heads (4) must be at least 1 and divide embed_dim (6)");
    nn::MultiheadAttention mha(4, 2);
    const Tensor x(random_array({3, 2, 4}));
    CHECK(error_of([&] { mha.attend(x, x, x, nn::causal_mask(2)); }) ==
          "MultiheadAttention: the mask must be [3, 3] or [4, 3, 3], but it is [2, 2]");
    CHECK(error_of([&] { mha(Tensor(random_array({3, 2, 5}))); }).find("E = 4, but query is [3, 2, 5]") !=
          std::string::npos);
    // After the errors the layers still work.
    CHECK(lstm(Tensor(random_array({5, 2, 3}))).output.shape() == Shape{5, 2, 4});
}

TEST_CASE("lstm_layer, the fused LSTM op, equals LSTMCell step by step and passes gradcheck and gradgradcheck") {
    nn::LSTMCell cell(3, 4);
    const Tensor x(random_array({5, 2, 3}, -1, 1, 7), true), h0(random_array({2, 4}, -1, 1, 8), true),
        c0(random_array({2, 4}, -1, 1, 9), true);
    const Tensor packed = lstm_layer(x, h0, c0, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh);
    REQUIRE(packed.shape() == Shape{6, 2, 4});
    // The cell adds x's products, h's products and the biases in an order of its own.
    const Array bounds = lstm_bounds(x.value(), h0.value(), c0.value(), cell.weight_ih.value(),
                                     cell.weight_hh.value(), cell.bias_ih.value(), cell.bias_hh.value());
    nn::RecurrentState s{h0, c0};
    for (long t = 0; t < 5; ++t) {
        s = cell.step(select(x, 0, t), s);
        test::check_within("h_" + std::to_string(t + 1), select(packed, 0, t).value(), s.h.value(),
                           Array(xt::view(bounds, t)));
    }
    test::check_within("c_5", select(packed, 0, 5).value(), s.c.value(), Array(xt::view(bounds, 5)));
    // Gradients of every input, with and without biases, and their second derivatives.
    const std::vector<Array> in{random_array({3, 2, 2}, -1, 1, 1), random_array({2, 3}, -1, 1, 2),
                                random_array({2, 3}, -1, 1, 3),  random_array({12, 2}, -1, 1, 4),
                                random_array({12, 3}, -1, 1, 5), random_array({12}, -1, 1, 6),
                                random_array({12}, -1, 1, 7)};
    auto with_bias = [](const auto& t) { return lstm_layer(t[0], t[1], t[2], t[3], t[4], t[5], t[6]); };
    auto without = [](const auto& t) { return lstm_layer(t[0], t[1], t[2], t[3], t[4]); };
    CHECK_GRAD(gradcheck(with_bias, in));
    CHECK_GRAD(gradcheck(without, {in[0], in[1], in[2], in[3], in[4]}));
    CHECK_GRADGRAD(gradgradcheck(with_bias, in));
    CHECK_THROWS_WITH_AS(lstm_layer(x, h0, c0, cell.weight_hh, cell.weight_hh),
                         doctest::Contains("lstm_layer: w_ih's columns must be x's features"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(nn::LSTM(3, 4).run(Tensor(Array::from_shape({0, 2, 3}))),
                         "LSTM: x has no steps (its shape is [0, 2, 3])", std::invalid_argument);
}

TEST_CASE("TransformerEncoderLayer takes src_mask and src_key_padding_mask, as torch's") {
    nn::TransformerEncoderLayer layer(
        nn::TransformerEncoderLayerOptions(4, 2).dim_feedforward(8).dropout(0.0).batch_first(true));
    Array data = random_array({2, 3, 4});
    const Tensor padding(Array{{0.0f, 0.0f, 1.0f}, {0.0f, 0.0f, 0.0f}});  // sequence 0 ends early
    const Tensor y = layer(Tensor(data), nn::causal_mask(3), padding);
    // What sits at a padded position does not reach the others.
    Array changed = data;
    for (std::size_t e = 0; e < 4; ++e) changed(0, 2, e) = 5.0f;
    const Tensor y2 = layer(Tensor(changed), Tensor(), padding);
    CHECK(layer(Tensor(changed)).value()(0, 0, 0) != doctest::Approx(layer(Tensor(data)).value()(0, 0, 0)));
    const Tensor unpadded = layer(Tensor(data), Tensor(), padding);
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t e = 0; e < 4; ++e) CHECK(y2.value()(0, i, e) == doctest::Approx(unpadded.value()(0, i, e)).epsilon(1e-5));
    // The causal mask and the padding together: the first position sees itself alone.
    const Tensor first_alone = layer(Tensor(Array(xt::view(data, xt::all(), xt::range(0, 1), xt::all()))));
    for (std::size_t e = 0; e < 4; ++e)
        CHECK(y.value()(1, 0, e) == doctest::Approx(first_alone.value()(1, 0, e)).epsilon(1e-5));
    CHECK_THROWS_WITH_AS(layer(Tensor(data), Tensor(), Tensor(Array{{0.0f, 1.0f}})),
                         doctest::Contains("src_key_padding_mask must be [2, 3] ([N, L]), but it is [1, 2]"),
                         std::invalid_argument);
}

TEST_CASE("MultiheadAttention is called as torch's, mha(q, k, v, mask) -> (output, weights)") {
    nn::MultiheadAttention mha(4, 2);
    const Tensor q(random_array({3, 2, 4})), kv(random_array({5, 2, 4}));
    auto [output, weights] = mha(q, kv, kv);
    const nn::AttentionOutput attended = mha.attend(q, kv, kv);
    CHECK(output.value() == attended.output.value());
    CHECK(weights.shape() == Shape{2, 3, 5});
    CHECK(mha(q).value() == mha.attend(q, q, q).output.value());  // one tensor: self-attention
}
