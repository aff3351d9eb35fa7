#include "helpers.hpp"

#include <sstream>

using namespace tapegrad;

namespace {

std::vector<std::string> names_of(const nn::Module& m) {
    std::vector<std::string> names;
    for (const auto& [name, p] : m.named_parameters()) names.push_back(name);
    return names;
}

// A module written the way users write theirs: parameters and children registered by name.
struct TwoLayer : nn::Module {
    Tensor scale = register_parameter("scale", Array{2.0f});
    std::shared_ptr<nn::Linear> fc1 = register_module("fc1", std::make_shared<nn::Linear>(3, 4));
    std::shared_ptr<nn::Linear> fc2 = register_module("fc2", std::make_shared<nn::Linear>(4, 2));
    Tensor forward(const Tensor& x) override { return (*fc2)(relu((*fc1)(x))) * scale; }
    std::string type_name() const override { return "TwoLayer"; }
};

}  // namespace

TEST_CASE("register_parameter returns a handle sharing the registered value") {
    TwoLayer net;
    REQUIRE(net.own_parameters().size() == 1);
    CHECK(net.own_parameters()[0].first == "scale");
    CHECK(net.scale.requires_grad());
    net.scale.mutable_value()(0) = 5.0f;
    CHECK(net.named_parameters()[0].second.value()(0) == 5.0f);
}

TEST_CASE("named_parameters of a custom module: own parameters first then children by name") {
    TwoLayer net;
    CHECK(names_of(net) == std::vector<std::string>{"scale", "fc1.weight", "fc1.bias",
                                                    "fc2.weight", "fc2.bias"});
    CHECK(net.named_parameters()[1].second.node() == net.fc1->weight.node());
    CHECK(net.parameters().size() == 5);
    CHECK(net.parameter_count() == 1 + (3 * 4 + 4) + (4 * 2 + 2));
}

TEST_CASE("named_parameters of a nested Sequential use dotted paths in registration order") {
    auto inner = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 2),
                                                  std::make_shared<nn::Tanh>());
    nn::Sequential model{std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::ReLU>(),
                         inner, std::make_shared<nn::Linear>(nn::LinearOptions(2, 1).bias(false))};
    CHECK(names_of(model) ==
          std::vector<std::string>{"0.weight", "0.bias", "2.0.weight", "2.0.bias", "3.weight"});
    const auto params = model.named_parameters();
    CHECK(params[2].second.shape() == Shape{2, 4});
    CHECK(params[4].second.shape() == Shape{1, 2});
}

TEST_CASE("Sequential takes layers by value, as shared_ptr, or both, and nests") {
    nn::Sequential model{nn::Linear(784, 256), nn::ReLU(), nn::Dropout(0.2f), nn::Linear(256, 10)};
    CHECK(model.size() == 4);
    CHECK(names_of(model) ==
          std::vector<std::string>{"0.weight", "0.bias", "3.weight", "3.bias"});
    CHECK(model.at<nn::Dropout>(2)->type_name() == "Dropout");
    CHECK(model(Tensor(xt::zeros<float>({2, 784}))).shape() == Shape{2, 10});

    auto shared = std::make_shared<nn::Linear>(3, 4);
    nn::Sequential mixed{shared, nn::Tanh(), nn::Sequential{nn::Linear(4, 2), nn::ReLU()}};
    mixed.push_back(nn::Linear(nn::LinearOptions(2, 1).bias(false)));
    CHECK(names_of(mixed) ==
          std::vector<std::string>{"0.weight", "0.bias", "2.0.weight", "2.0.bias", "3.weight"});
    CHECK(mixed.named_parameters()[0].second.node() == shared->weight.node());  // shared, not copied
    // The moved layer's handles are the registered parameters: training one trains the other.
    nn::Sequential moved{nn::Linear(2, 2)};
    const Tensor w = moved.at<nn::Linear>(0)->weight;
    CHECK(moved.named_parameters()[0].second.node() == w.node());
}

TEST_CASE("a custom module registers a child by value in one line") {
    struct Net : nn::Module {
        std::shared_ptr<nn::Linear> fc = register_module("fc", nn::Linear(3, 2));
        std::shared_ptr<nn::LSTM> rnn = register_module("rnn", nn::LSTM(2, 4));
        Tensor forward(const Tensor& x) override { return (*rnn)((*fc)(x)).output; }
    } net;
    CHECK(names_of(net).size() == 6);
    CHECK(names_of(net)[2] == "rnn.weight_ih_l0");
    CHECK(net.named_parameters()[0].second.node() == net.fc->weight.node());
    CHECK(net(Tensor(xt::zeros<float>({5, 1, 3}))).shape() == Shape{5, 1, 4});
}

TEST_CASE("parameter counts: Linear 784 to 10 has 7850") {
    CHECK(nn::Linear(784, 10).parameter_count() == 7850);
    CHECK(nn::Linear(nn::LinearOptions(784, 10).bias(false)).parameter_count() == 7840);
    CHECK(nn::Conv2D(1, 8, 3).parameter_count() == 8 * 1 * 3 * 3 + 8);
    CHECK(nn::ReLU().parameter_count() == 0);
    nn::Sequential mlp{std::make_shared<nn::Linear>(784, 100), std::make_shared<nn::ReLU>(),
                       std::make_shared<nn::Linear>(100, 10)};
    CHECK(mlp.parameter_count() == 78500 + 1010);
}

TEST_CASE("names must be non-empty without dots and unique") {
    TwoLayer net;
    CHECK_THROWS_WITH_AS(net.register_parameter("scale", Array{1.0f}),
                         doctest::Contains("already has a parameter, buffer or module named 'scale'"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(net.register_module("fc1", std::make_shared<nn::ReLU>()),
                         doctest::Contains("'fc1'"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(net.register_parameter("a.b", Array{1.0f}),
                         doctest::Contains("contain no '.'"), std::invalid_argument);
    CHECK_THROWS_AS(net.register_parameter("", Array{1.0f}), std::invalid_argument);
    CHECK(net.own_parameters().size() == 1);
}

TEST_CASE("a module cannot become its own descendant") {
    auto outer = std::make_shared<nn::Sequential>();
    auto inner = std::make_shared<nn::Sequential>();
    outer->push_back(inner);
    CHECK_THROWS_WITH_AS(inner->push_back(outer), doctest::Contains("cycles"),
                         std::invalid_argument);
}

TEST_CASE("a parameter shared by two modules is listed once") {
    auto a = std::make_shared<nn::Linear>(2, 2);
    nn::Sequential model{a, std::make_shared<nn::Tanh>(), a};
    CHECK(names_of(model) == std::vector<std::string>{"0.weight", "0.bias"});
    CHECK(model.parameter_count() == 6);
}

TEST_CASE("train and eval reach every descendant") {
    auto inner = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(2, 2));
    nn::Sequential model{std::make_shared<nn::ReLU>(), inner};
    CHECK(model.is_training());
    CHECK(inner->is_training());
    model.eval();
    CHECK_FALSE(model.is_training());
    CHECK_FALSE(inner->is_training());
    CHECK_FALSE((*inner)[0]->is_training());
    CHECK_FALSE(model[0]->is_training());
    model.train();
    CHECK((*inner)[0]->is_training());
    inner->train(false);
    CHECK(model.is_training());
    CHECK_FALSE((*inner)[0]->is_training());
}

TEST_CASE("zero_grad zeroes every parameter gradient") {
    nn::Sequential model{std::make_shared<nn::Linear>(3, 2), std::make_shared<nn::Tanh>(),
                         std::make_shared<nn::Linear>(2, 1)};
    sum(model(Tensor(xt::ones<float>({4, 3})))).backward();
    for (const Tensor& p : model.parameters()) {
        REQUIRE(p.has_grad());
        CHECK(xt::any(xt::not_equal(p.grad(), 0.0f)));
    }
    model.zero_grad();
    for (const Tensor& p : model.parameters()) {
        CHECK(p.grad().shape() == p.value().shape());
        CHECK(xt::all(xt::equal(p.grad(), 0.0f)));
    }
}

TEST_CASE("operator<< prints the structure like PyTorch's repr") {
    auto inner = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(100, 10),
                                                  std::make_shared<nn::Softmax>());
    nn::Sequential model{std::make_shared<nn::Linear>(nn::LinearOptions(784, 100).bias(false)),
                         std::make_shared<nn::ReLU>(), inner};
    std::ostringstream out;
    out << model;
    CHECK(out.str() ==
          "Sequential(\n"
          "  (0): Linear(in=784, out=100, bias=false)\n"
          "  (1): ReLU()\n"
          "  (2): Sequential(\n"
          "    (0): Linear(in=100, out=10, bias=true)\n"
          "    (1): Softmax(axis=-1)\n"
          "  )\n"
          ")");
}

TEST_CASE("summary of a Sequential lists each layer with output shape and parameter count") {
    nn::Sequential mlp{std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(784, 100),
                       std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(100, 10)};
    const std::string s = mlp.summary({32, 1, 28, 28});
    INFO(s);
    CHECK(s.find("input") != std::string::npos);
    CHECK(s.find("[32, 1, 28, 28]") != std::string::npos);
    CHECK(s.find("0 (Flatten)") != std::string::npos);
    CHECK(s.find("[32, 784]") != std::string::npos);
    CHECK(s.find("1 (Linear)") != std::string::npos);
    CHECK(s.find("[32, 100]") != std::string::npos);
    CHECK(s.find("78500") != std::string::npos);
    CHECK(s.find("3 (Linear)") != std::string::npos);
    CHECK(s.find("[32, 10]") != std::string::npos);
    CHECK(s.find("1010") != std::string::npos);
    CHECK(s.find("Total params: 79510\n") != std::string::npos);
    CHECK(s.find("Trainable params: 79510\n") != std::string::npos);
    // One line per layer, in order: header, rule, input, 4 layers, rule, 2 totals.
    CHECK(std::count(s.begin(), s.end(), '\n') == 10);
    CHECK(s.find("0 (Flatten)") < s.find("1 (Linear)"));
    CHECK(s.find("1 (Linear)") < s.find("2 (ReLU)"));
    CHECK(s.find("2 (ReLU)") < s.find("3 (Linear)"));
}

TEST_CASE("summary sees the layers inside a custom module and records nothing on the tape") {
    TwoLayer net;
    std::ostringstream out;
    nn::summary(out, net, {5, 3});
    const std::string s = out.str();
    INFO(s);
    CHECK(s.find("(TwoLayer)") != std::string::npos);  // it owns `scale`
    CHECK(s.find("fc1 (Linear)") != std::string::npos);
    CHECK(s.find("[5, 4]") != std::string::npos);
    CHECK(s.find("fc2 (Linear)") != std::string::npos);
    CHECK(s.find("[5, 2]") != std::string::npos);
    CHECK(s.find("Total params: 27\n") != std::string::npos);
    CHECK(Tape::current().size() == 0);
}

TEST_CASE("summary with a wrong input shape throws the op error naming the layer") {
    nn::Sequential mlp{std::make_shared<nn::Linear>(4, 3), std::make_shared<nn::ReLU>()};
    CHECK_THROWS_WITH_AS(mlp.summary({2, 5}),
                         doctest::Contains("Sequential: layer 0 (Linear): linear: x has 5 "
                                           "features per row but weight [3, 4] expects 4"),
                         std::invalid_argument);
    // A failed summary leaves no tracing behind: the next one is complete.
    CHECK(mlp.summary({2, 4}).find("Total params: 15\n") != std::string::npos);
}

TEST_CASE("a frozen parameter counts in total but not in trainable") {
    nn::Linear fc(3, 2);
    fc.bias.set_requires_grad(false);
    const std::string s = fc.summary({1, 3});
    CHECK(s.find("Total params: 8\n") != std::string::npos);
    CHECK(s.find("Trainable params: 6\n") != std::string::npos);
}

TEST_CASE("ModuleList and ModuleDict register their modules under torch's names") {
    struct Net : nn::Module {
        std::shared_ptr<nn::ModuleList> blocks = register_module("blocks", nn::ModuleList());
        std::shared_ptr<nn::ModuleDict> heads = register_module("heads", nn::ModuleDict());
        Net() {
            for (int i = 0; i < 2; ++i) blocks->push_back(nn::Linear(3, 3));
            heads->insert("digit", nn::Linear(3, 10));
            heads->insert("parity", nn::Linear(nn::LinearOptions(3, 2).bias(false)));
        }
        Tensor forward(const Tensor& x) override {
            Tensor h = x;
            for (const auto& block : *blocks) h = relu((*block)(h));
            return (*heads->at<nn::Linear>("digit"))(h);
        }
    } net;
    std::vector<std::string> names;
    for (const auto& [name, p] : net.named_parameters()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                                            "blocks.1.bias", "heads.digit.weight", "heads.digit.bias",
                                            "heads.parity.weight"});
    const Tensor x(Array{{1.0f, -2.0f, 0.5f}});
    const Tensor want = linear(relu(linear(relu(linear(x, net.blocks->at<nn::Linear>(0)->weight,
                                                       net.blocks->at<nn::Linear>(0)->bias)),
                                           net.blocks->at<nn::Linear>(1)->weight,
                                           net.blocks->at<nn::Linear>(1)->bias)),
                               net.heads->at<nn::Linear>("digit")->weight,
                               net.heads->at<nn::Linear>("digit")->bias);
    CHECK(net(x).value() == want.value());
    CHECK(net.blocks->size() == 2);
    CHECK(net.heads->keys() == std::vector<std::string>{"digit", "parity"});
    CHECK(net.heads->contains("parity"));
    CHECK_THROWS_WITH_AS((*net.heads)["colour"],
                         "ModuleDict: there is no module under 'colour'; its keys are digit, parity",
                         std::out_of_range);
    CHECK_THROWS_WITH_AS(net.heads->insert("digit", nn::ReLU()),
                         "ModuleDict::insert: there is a module under 'digit' already",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(net.blocks->at<nn::ReLU>(1),
                         "ModuleList: module 1 is a Linear, not the type asked for",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((*net.blocks)[2], "ModuleList: index 2 is out of range; it has 2 modules",
                         std::out_of_range);
    CHECK_THROWS_AS((*net.blocks)(x), std::logic_error);
}

namespace {
// A VAE's shape: a forward of two tensors returning three, called as vae(x, eps).
struct TinyVAE : nn::Module {
    std::shared_ptr<nn::Linear> encoder = register_module("encoder", nn::Linear(4, 4));
    std::shared_ptr<nn::Linear> decoder = register_module("decoder", nn::Linear(2, 4));
    TAPEGRAD_FORWARD_CALLS()
    std::tuple<Tensor, Tensor, Tensor> forward(const Tensor& x, const Tensor& eps) {
        const Tensor h = (*encoder)(x);
        const Tensor mu = slice(h, 1, 0, 2), logvar = slice(h, 1, 2, 4);
        const Tensor z = mu + exp(logvar * 0.5f) * eps;
        return {sigmoid((*decoder)(z)), mu, logvar};
    }
};
}  // namespace

TEST_CASE("a module's forward may take and return several tensors, called as model(x, eps)") {
    TinyVAE vae;
    const Tensor x(Array{{0.1f, 0.9f, 0.4f, 0.6f}}), eps(Array{{0.5f, -1.0f}});
    auto [reconstruction, mu, logvar] = vae(x, eps);
    CHECK(reconstruction.shape() == Shape{1, 4});
    const Tensor h = (*vae.encoder)(x);
    CHECK(mu.value() == slice(h, 1, 0, 2).value());
    const Tensor loss = binary_cross_entropy(reconstruction, x, {}, Reduction::sum) -
                        0.5f * sum(1.0f + logvar - mu * mu - exp(logvar));
    loss.backward();
    CHECK(vae.encoder->weight.has_grad());
    CHECK(vae.decoder->weight.has_grad());
    std::ostringstream out;
    vae.summary(out, [&] { vae(x, eps); });
    CHECK(out.str().find("encoder (Linear)") != std::string::npos);
    CHECK(out.str().find("decoder (Linear)") != std::string::npos);
    CHECK(out.str().find("(the example inputs)") != std::string::npos);
    // Its forward of one tensor does not exist: the error says how to call it.
    nn::Module& base = vae;
    CHECK_THROWS_WITH_AS(base(x), doctest::Contains("no forward of one tensor"), std::logic_error);
}

TEST_CASE("recurrent layers and cells return outputs and states from the call, as torch's") {
    nn::LSTM lstm(nn::LSTMOptions(3, 4).num_layers(2));
    const Tensor x(test::random_array({5, 2, 3}));
    auto [y, state] = lstm(x);
    const nn::RecurrentOutput ran = lstm.run(x);
    CHECK(y.value() == ran.output.value());
    CHECK(state.h.shape() == Shape{2, 2, 4});
    CHECK(state.c.value() == ran.state.c.value());
    auto [y2, state2] = lstm(x, state);  // continues from a state
    CHECK(y2.value() == lstm.run(x, state).output.value());
    nn::GRUCell cell(3, 4);
    auto [h, c] = cell(Tensor(test::random_array({2, 3})));
    CHECK(h.shape() == Shape{2, 4});
    CHECK_FALSE(c.defined());
    nn::Sequential seq{nn::LSTM(3, 4), nn::Linear(4, 2)};  // in a Sequential: the outputs alone
    CHECK(seq(x).shape() == Shape{5, 2, 2});
}
