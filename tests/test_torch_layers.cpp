// PyTorch's weights load into the same tapegrad layers and give PyTorch's outputs and gradients.
// tests/data/make_layer_references.py saved each torch layer's state_dict with numpy.savez (as
// the README tells users to) in tests/data/torch_layers/NAME.npz, and what the layer computed in
// io.npz. Every case here loads the file with nn::load, runs the layer on the same inputs, and
// compares the outputs and the gradients of sum(output * r) for the input and every parameter.
// The file and the table below must name the same cases.
#include <functional>
#include <map>
#include <set>

#include "helpers.hpp"

using namespace tapegrad;

namespace {

using NamedInputs = std::map<std::string, Tensor>;
using Outputs = std::map<std::string, Tensor>;

struct Case {
    std::function<std::shared_ptr<nn::Module>()> make;
    std::function<Outputs(nn::Module&, const NamedInputs&)> run;
};

template <class M>
M& as(nn::Module& m) {
    return dynamic_cast<M&>(m);
}

Outputs one(nn::Module& m, const NamedInputs& in) { return {{"output", m(in.at("input"))}}; }

Outputs recurrent(nn::Module& m, const NamedInputs& in) {
    nn::RecurrentState initial;
    if (in.count("h0")) initial.h = in.at("h0");
    if (in.count("c0")) initial.c = in.at("c0");
    const nn::RecurrentOutput out = as<nn::RecurrentLayer>(m).run(in.at("input"), initial);
    Outputs o{{"output", out.output}, {"h_n", out.state.h}};
    if (out.state.c.defined()) o["c_n"] = out.state.c;
    return o;
}

Outputs cell(nn::Module& m, const NamedInputs& in) {
    nn::RecurrentState state{in.at("h0"), in.count("c0") ? in.at("c0") : Tensor()};
    const nn::RecurrentState next = as<nn::RecurrentCell>(m).step(in.at("input"), state);
    Outputs o{{"output", next.h}};
    if (next.c.defined()) o["c_n"] = next.c;
    return o;
}

Outputs attention(nn::Module& m, const NamedInputs& in) {
    const Tensor& q = in.at("input");
    const bool cross = in.count("key") > 0;
    const nn::AttentionOutput out = as<nn::MultiheadAttention>(m).attend(
        q, cross ? in.at("key") : q, cross ? in.at("value") : q,
        cross ? Tensor() : nn::causal_mask(q.shape()[0]));
    return {{"output", out.output}, {"weights", out.weights}};
}

template <class M, class... Args>
std::function<std::shared_ptr<nn::Module>()> make(Args... args) {
    return [=] { return std::make_shared<M>(args...); };
}

const std::map<std::string, Case>& cases() {
    static const std::map<std::string, Case> table{
        {"linear", {make<nn::Linear>(5, 3), one}},
        {"conv2d", {make<nn::Conv2D>(nn::Conv2dOptions(4, 6, 3).padding(2).dilation(2).groups(2)), one}},
        {"batchnorm1d_eval", {[] {
                                  auto m = std::make_shared<nn::BatchNorm1D>(5);
                                  m->eval();
                                  return m;
                              },
                              one}},
        {"batchnorm2d_train", {make<nn::BatchNorm2D>(3),
                               [](nn::Module& m, const NamedInputs& in) {
                                   auto& bn = as<nn::BatchNorm2D>(m);
                                   const Tensor y = bn(in.at("input"));
                                   return Outputs{{"output", y},
                                                  {"running_mean", bn.running_mean.detach()},
                                                  {"running_var", bn.running_var.detach()}};
                               }}},
        {"layernorm", {make<nn::LayerNorm>(std::vector<std::size_t>{4, 5}), one}},
        {"embedding", {make<nn::Embedding>(10, 4), one}},
        {"rnn", {make<nn::RNN>(nn::RNNOptions(4, 5).num_layers(2)), recurrent}},
        {"rnn_relu", {make<nn::RNN>(nn::RNNOptions(4, 5).nonlinearity(nn::kReLU)), recurrent}},
        {"gru", {make<nn::GRU>(nn::GRUOptions(4, 5).batch_first(true)), recurrent}},
        {"lstm", {make<nn::LSTM>(nn::LSTMOptions(4, 5).num_layers(2)), recurrent}},
        {"lstm_unbatched", {make<nn::LSTM>(3, 4), recurrent}},
        {"rnncell", {make<nn::RNNCell>(4, 5), cell}},
        {"grucell", {make<nn::GRUCell>(4, 5), cell}},
        {"lstmcell", {make<nn::LSTMCell>(4, 5), cell}},
        {"mha_causal", {make<nn::MultiheadAttention>(8, 2), attention}},
        {"mha_cross", {make<nn::MultiheadAttention>(nn::MultiheadAttentionOptions(6, 3).batch_first(true)), attention}},
        {"encoder_post", {make<nn::TransformerEncoderLayer>(
                              nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16).dropout(0.0)),
                          [](nn::Module& m, const NamedInputs& in) {
                              const Tensor& x = in.at("input");
                              return Outputs{{"output", as<nn::TransformerEncoderLayer>(m).forward(
                                                            x, nn::causal_mask(x.shape()[0]))}};
                          }}},
        {"encoder_pre_gelu", {make<nn::TransformerEncoderLayer>(nn::TransformerEncoderLayerOptions(8, 2)
                                                                    .dim_feedforward(16)
                                                                    .dropout(0.0)
                                                                    .activation(nn::kGELU)
                                                                    .batch_first(true)
                                                                    .norm_first(true)),
                              one}},
        {"activations", {[] {
                             return std::make_shared<nn::Sequential>(
                                 nn::Linear(6, 8), nn::LeakyReLU(0.2f), nn::Linear(8, 8), nn::GELU(),
                                 nn::Linear(8, 8), nn::SiLU(), nn::Linear(8, 8), nn::ELU(0.7f),
                                 nn::Linear(8, 8), nn::Softplus(nn::SoftplusOptions().beta(2.0).threshold(3.0)), nn::Identity(),
                                 nn::Linear(8, 4), nn::GELU(true), nn::Tanh(), nn::Sigmoid(),
                                 nn::Softmax(-1));
                         },
                         one}},
        {"pooling", {[] {
                         return std::make_shared<nn::Sequential>(
                             nn::Conv2D(nn::Conv2dOptions(2, 3, 3).padding(1)),
                             nn::AvgPool2D(nn::AvgPool2dOptions(3).stride(2).padding(1)), nn::ReLU(),
                             nn::MaxPool2D(nn::MaxPool2dOptions(3).stride(2).padding(1)));
                     },
                     one}},
        {"sequential_eval", {[] {
                                 auto m = std::make_shared<nn::Sequential>(
                                     std::make_shared<nn::Conv2D>(nn::Conv2dOptions(1, 4, 3).padding(1)),
                                     std::make_shared<nn::BatchNorm2D>(4), std::make_shared<nn::ReLU>(),
                                     std::make_shared<nn::MaxPool2D>(2), std::make_shared<nn::Flatten>(),
                                     std::make_shared<nn::Dropout>(0.5f), std::make_shared<nn::Linear>(64, 3));
                                 m->eval();
                                 return m;
                             },
                             one}},
    };
    return table;
}

std::string folder() { return std::string(TAPEGRAD_TEST_DATA) + "/torch_layers/"; }

std::map<std::string, Array> io() {
    std::map<std::string, Array> arrays;
    for (auto& [name, a] : nn::float32_arrays(load_npz(folder() + "io.npz"))) arrays[name] = a;
    return arrays;
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

Array abs_of(const Array& a) { return xt::abs(a); }

// Floors for check_close from the sums of products of a case's Linear and Conv2D layers (the
// model itself, or the layers of a Sequential), keyed as the reference file's parts: "output",
// "input_grad", "grad.NAME". Each such layer again, with |parameters|, on |its input| and for
// |the gradient that reached its output|, gives the sums of |term| of its output, input gradient
// and parameter gradients; torch's float32 sums and tapegrad's are within sum_bounds of these,
// over the terms each sums: y the layer's inputs to one output and the bias; dx the outputs one
// input feeds (O/groups x kh x kw for a convolution); dW and db every row or output position.
// (A layer's own sums: what the layers around it round arrives as a difference in its input
// and in its output's gradient, which 1e-4 of |want| and 1e-5 of the largest |want| cover.)
std::map<std::string, Array> product_floors(const std::string& name, const Case& c,
                                            const std::map<std::string, Array>& ref) {
    std::shared_ptr<nn::Module> plain = c.make(), absolute = c.make();
    nn::load(*plain, folder() + name + ".npz");
    nn::load(*absolute, folder() + name + ".npz");
    for (const auto& [pname, p] : absolute->named_parameters()) p.mutable_value() = abs_of(p.value());
    // The layers in order, with the prefix of their parameters' names.
    std::vector<std::string> prefixes;
    std::vector<std::shared_ptr<nn::Module>> layers, abs_layers;
    if (auto seq = std::dynamic_pointer_cast<nn::Sequential>(plain)) {
        const auto abs_seq = std::dynamic_pointer_cast<nn::Sequential>(absolute);
        for (std::size_t i = 0; i < seq->size(); ++i) {
            prefixes.push_back(std::to_string(i) + ".");
            layers.push_back((*seq)[i]);
            abs_layers.push_back((*abs_seq)[i]);
        }
    } else {
        prefixes = {""};
        layers = {plain};
        abs_layers = {absolute};
    }
    // Each layer's input, and the gradient that reaches its output, one layer at a time.
    std::vector<Tensor> acts{Tensor(ref.at(name + ".input"), true)};
    for (const auto& layer : layers) {
        acts.push_back(layer->forward(acts.back()));
        acts.back().retain_grad();
    }
    const Array& r = ref.at(name + ".r");
    sum(acts.back() * Tensor(r)).backward();

    std::map<std::string, Array> floors;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const auto* fc = dynamic_cast<nn::Linear*>(abs_layers[i].get());
        const auto* conv = dynamic_cast<nn::Conv2D*>(abs_layers[i].get());
        if (!fc && !conv) continue;
        const Tensor x(abs_of(acts[i].value()), i == 0);
        const Tensor y = abs_layers[i]->forward(x);
        sum(y * Tensor(abs_of(i + 1 == layers.size() ? r : acts[i + 1].grad()))).backward();
        const Shape w = fc ? fc->weight.shape() : conv->weight.shape();
        const std::size_t per_output = fc ? w[1] + 1 : w[1] * w[2] * w[3] + 1;
        const std::size_t per_input = fc ? w[0] : w[0] * w[1] / x.shape()[1] * w[2] * w[3];
        const std::size_t positions = fc ? x.size() / w[1] : y.size() / w[0];
        if (i == 0) floors["input_grad"] = test::sum_bounds(per_input, x.grad());
        if (i + 1 == layers.size()) floors["output"] = test::sum_bounds(per_output, y.value());
        for (const auto& [pname, p] : abs_layers[i]->named_parameters())
            floors["grad." + prefixes[i] + pname] = test::sum_bounds(positions, p.grad());
    }
    return floors;
}

}  // namespace

TEST_CASE("PyTorch layers' saved weights load and give PyTorch's outputs and gradients") {
    const std::map<std::string, Array> ref = io();
    std::set<std::string> names;
    for (const auto& entry : ref)
        if (entry.first.size() > 7 && entry.first.compare(entry.first.size() - 7, 7, ".output") == 0)
            names.insert(entry.first.substr(0, entry.first.size() - 7));
    for (const auto& entry : cases())
        CHECK_MESSAGE(names.count(entry.first), "the reference file has no case " << entry.first);

    for (const std::string& name : names) {
        INFO("case " << name);
        REQUIRE_MESSAGE(cases().count(name), "no C++ layer for the case " << name);
        const Case& c = cases().at(name);
        std::shared_ptr<nn::Module> model = c.make();
        nn::load(*model, folder() + name + ".npz");

        NamedInputs in;
        const bool indices = name == "embedding";
        for (const char* k : {"input", "h0", "c0", "key", "value"})
            if (ref.count(name + "." + k))
                in[k] = Tensor(ref.at(name + "." + k), std::string(k) == "input" && !indices);
        const Outputs out = c.run(*model, in);
        // Products' floors for the models made of Linear and Conv2D layers (and others around
        // them in a Sequential).
        const bool products = dynamic_cast<nn::Linear*>(model.get()) ||
                              dynamic_cast<nn::Conv2D*>(model.get()) ||
                              dynamic_cast<nn::Sequential*>(model.get());
        const std::map<std::string, Array> floors = products ? product_floors(name, c, ref)
                                                             : std::map<std::string, Array>();
        auto floor = [&](const std::string& part) { return floors.count(part) ? &floors.at(part) : nullptr; };
        for (const auto& [key, want] : ref) {
            if (!starts_with(key, name + ".")) continue;
            const std::string part = key.substr(name.size() + 1);
            if (out.count(part)) test::check_close(name + " " + part, out.at(part).value(), want, floor(part));
        }
        for (const auto& [part, t] : out)
            CHECK_MESSAGE(ref.count(name + "." + part), "torch gave no " << part);

        sum(out.at("output") * Tensor(ref.at(name + ".r"))).backward();
        if (!indices)
            test::check_close(name + " input gradient", in.at("input").grad(), ref.at(name + ".input_grad"),
                              floor("input_grad"));
        for (const auto& [pname, p] : model->named_parameters())
            test::check_close(name + " gradient of " + pname, p.grad(), ref.at(name + ".grad." + pname),
                              floor("grad." + pname));
    }
}

TEST_CASE("nn::load reads int64 and float64 arrays that convert exactly, and names those that do not") {
    test::TempDir dir;
    nn::BatchNorm1D bn(2);
    NamedTypedArrays arrays{{"weight", xt::xarray<double>{0.5, 0.25}},
                            {"bias", xt::xarray<double>{1.0, -2.0}},
                            {"running_mean", Array{0.0f, 1.0f}},
                            {"running_var", Array{1.0f, 3.0f}},
                            {"num_batches_tracked", xt::xarray<std::int64_t>(7)}};
    save_npz(dir.file("exact.npz"), arrays);
    nn::load(bn, dir.file("exact.npz"));
    CHECK(bn.weight.value()(1) == 0.25f);
    CHECK(bn.num_batches_tracked.value()() == 7.0f);

    arrays[0].second = xt::xarray<double>{0.1, 0.5};          // 0.1 has no float32
    arrays[4].second = xt::xarray<std::int64_t>(16777217);    // 2^24 + 1 neither
    save_npz(dir.file("inexact.npz"), arrays);
    try {
        nn::load(bn, dir.file("inexact.npz"));
        FAIL("no error");
    } catch (const std::runtime_error& e) {
        const std::string msg = e.what();
        INFO(msg);
        CHECK(msg.find("'weight' is float64 and 1 of its 2 values") != std::string::npos);
        CHECK(msg.find("0.10000000000000001") != std::string::npos);
        CHECK(msg.find("'num_batches_tracked' is int64") != std::string::npos);
        CHECK(msg.find("16777217") != std::string::npos);
    }
    CHECK(bn.weight.value()(1) == 0.25f);  // unchanged
    CHECK(bn.num_batches_tracked.value()() == 7.0f);
}
