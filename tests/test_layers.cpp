#include <xtensor/xview.hpp>

#include "helpers.hpp"

#include <cmath>
#include <limits>

using namespace tapegrad;

namespace {

bool same_values(const nn::Module& a, const nn::Module& b) {
    const auto pa = a.parameters(), pb = b.parameters();
    if (pa.size() != pb.size()) return false;
    for (std::size_t i = 0; i < pa.size(); ++i)
        if (pa[i].value() != pb[i].value()) return false;
    return true;
}

float max_abs(const Array& a) { return xt::amax(xt::abs(a))(); }

}  // namespace

// ---- initialisation -------------------------------------------------------------------------

TEST_CASE("the generator is mt19937_64 with the 24-bit float mapping") {
    CHECK(nn::init::unit_float(0) == 0.0f);
    CHECK(nn::init::unit_float(~std::uint64_t{0}) == 1.0f - 1.0f / 16777216.0f);
    // The C++ standard fixes the 10000th output of mt19937_64 seeded with 5489:
    // 9981545732273789042, whose top 24 bits are 9078162.
    manual_seed(5489);
    const Array u = nn::init::uniform({10000}, 0.0f, 1.0f);
    CHECK(u(9999) == 9078162.0f / 16777216.0f);
    CHECK(nn::init::unit_float(9981545732273789042ULL) == 9078162.0f / 16777216.0f);
    manual_seed(5489);
    const Array v = nn::init::uniform({10000}, -1.0f, 1.0f);
    CHECK(v(9999) == 2.0f * (9078162.0f / 16777216.0f) - 1.0f);
}

TEST_CASE("the same seed gives identical weights and a different seed different ones") {
    auto build = [] {
        return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(5, 4),
                                                std::make_shared<nn::ReLU>(),
                                                std::make_shared<nn::Conv2D>(2, 3, 3));
    };
    manual_seed(42);
    auto a = build();
    manual_seed(42);
    auto b = build();
    auto c = build();  // continues the sequence: not a repeat
    manual_seed(43);
    auto d = build();
    CHECK(same_values(*a, *b));
    CHECK_FALSE(same_values(*a, *c));
    CHECK_FALSE(same_values(*a, *d));
    CHECK(a->parameters()[0].value() != d->parameters()[0].value());
}

TEST_CASE("Linear init lies within 1/sqrt(fan_in) and spreads uniformly") {
    manual_seed(1);
    nn::Linear fc(100, 300);  // fan_in = 100, bound 0.1
    const float bound = 1.0f / std::sqrt(100.0f);
    CHECK(nn::init::kaiming_uniform_bound(std::sqrt(5.0), 100) == doctest::Approx(bound));
    CHECK(max_abs(fc.weight.value()) <= bound * (1.0f + 1e-6f));
    CHECK(max_abs(fc.bias.value()) <= bound * (1.0f + 1e-6f));
    // U(-b, b): mean 0, standard deviation b / sqrt(3), extremes near +-b. 30000 draws.
    const Array& w = fc.weight.value();
    CHECK(std::abs(xt::mean(w)()) < 0.002f);  // 6 standard errors
    CHECK(std::sqrt(xt::variance(w)()) == doctest::Approx(bound / std::sqrt(3.0f)).epsilon(0.02));
    CHECK(xt::amax(w)() > 0.99f * bound);
    CHECK(xt::amin(w)() < -0.99f * bound);
    // A tenth of the draws fall in each tenth of the range, roughly.
    const auto in_first_tenth = xt::sum(xt::cast<int>(w < -0.8f * bound))();
    CHECK(in_first_tenth > 2700);
    CHECK(in_first_tenth < 3300);
    CHECK(max_abs(fc.bias.value()) > 0.8f * bound);  // 300 biases cover the range too
}

TEST_CASE("Conv2D init uses fan_in = in_channels times kernel squared") {
    manual_seed(2);
    nn::Conv2D conv(3, 16, 5);  // fan_in = 75
    CHECK(nn::init::fan_in(conv.weight.shape()) == 75);
    const float bound = 1.0f / std::sqrt(75.0f);
    CHECK(max_abs(conv.weight.value()) <= bound * (1.0f + 1e-6f));
    CHECK(max_abs(conv.weight.value()) > 0.95f * bound);
    CHECK(max_abs(conv.bias.value()) <= bound * (1.0f + 1e-6f));
    CHECK(conv.weight.shape() == Shape{16, 3, 5, 5});
    CHECK(conv.bias.shape() == Shape{16});
}

// ---- Linear ---------------------------------------------------------------------------------

TEST_CASE("Linear forward equals x times W transposed plus b by hand") {
    nn::Linear fc(3, 2);
    CHECK(fc.weight.shape() == Shape{2, 3});
    CHECK(fc.in_features() == 3);
    CHECK(fc.out_features() == 2);
    fc.weight.mutable_value() = Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}};
    fc.bias.mutable_value() = Array{0.5f, -1.0f};
    // [1, 0, -1] -> [1 - 3 + 0.5, 4 - 6 - 1];  [2, 1, 0] -> [2 + 2 + 0.5, 8 + 5 - 1]
    const Tensor y = fc(Tensor(Array{{1.0f, 0.0f, -1.0f}, {2.0f, 1.0f, 0.0f}}));
    CHECK(y.value() == Array{{-1.5f, -3.0f}, {4.5f, 12.0f}});
}

TEST_CASE("Linear without bias has no bias parameter") {
    nn::Linear fc(nn::LinearOptions(2, 2).bias(false));
    CHECK_FALSE(fc.bias.defined());
    CHECK(fc.named_parameters().size() == 1);
    fc.weight.mutable_value() = Array{{1.0f, 2.0f}, {3.0f, 4.0f}};
    CHECK(fc(Tensor(Array{{1.0f, 1.0f}})).value() == Array{{3.0f, 7.0f}});
}

TEST_CASE("Linear parameter gradients by hand: dW = dy transposed times x and db = column sums") {
    nn::Linear fc(2, 2);
    const Tensor x(Array{{1.0f, 2.0f}, {3.0f, -1.0f}});
    sum(fc(x)).backward();  // dy = ones [2, 2]
    CHECK(fc.weight.grad() == Array{{4.0f, 1.0f}, {4.0f, 1.0f}});
    CHECK(fc.bias.grad() == Array{2.0f, 2.0f});
}

TEST_CASE("gradcheck of Linear Tanh Linear with respect to its input") {
    manual_seed(3);
    nn::Sequential model{std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::Tanh>(),
                         std::make_shared<nn::Linear>(4, 2)};
    CHECK_GRAD(gradcheck([&](const std::vector<Tensor>& in) { return model(in[0]); },
                         {test::random_array({5, 3})}));
}

TEST_CASE("a wrong input shape gives the op error prefixed by the layer") {
    nn::Sequential model{std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::Tanh>(),
                         std::make_shared<nn::Linear>(5, 2)};
    CHECK_THROWS_WITH_AS(model(Tensor(xt::zeros<float>({2, 3}))),
                         "Sequential: layer 2 (Linear): linear: x has 4 features per row but "
                         "weight [2, 5] expects 5 (x is [2, 4])",
                         std::invalid_argument);
    nn::Linear fc(3, 4);
    CHECK_THROWS_WITH_AS(fc(Tensor(xt::zeros<float>({2, 5, 2}))),
                         "linear: x has 2 features per row but weight [4, 3] expects 3 (x is "
                         "[2, 5, 2])",
                         std::invalid_argument);
    CHECK(fc(Tensor(xt::zeros<float>({3}))).shape() == Shape{4});  // [in] -> [out], as torch
    CHECK(fc(Tensor(xt::zeros<float>({2, 5, 3}))).shape() == Shape{2, 5, 4});
    CHECK_THROWS_AS(nn::Linear(0, 4), std::invalid_argument);
}

// ---- activations and shapes -------------------------------------------------------------------

TEST_CASE("activation layers compute their functions") {
    const Tensor x(Array{{-1.0f, 0.5f}, {2.0f, -3.0f}});
    CHECK(nn::ReLU()(x).value() == Array{{0.0f, 0.5f}, {2.0f, 0.0f}});
    const Array s = nn::Sigmoid()(x).value();
    CHECK(s(0, 0) == doctest::Approx(1.0 / (1.0 + std::exp(1.0))));
    CHECK(s(1, 0) == doctest::Approx(1.0 / (1.0 + std::exp(-2.0))));
    const Array t = nn::Tanh()(x).value();
    CHECK(t(0, 1) == doctest::Approx(std::tanh(0.5)));
    CHECK(t(1, 1) == doctest::Approx(std::tanh(-3.0)));
}

TEST_CASE("Softmax normalises along its axis") {
    const Tensor x(Array{{0.0f, std::log(3.0f)}, {1.0f, 1.0f}});
    const Array rows = nn::Softmax()(x).value();
    CHECK(rows(0, 0) == doctest::Approx(0.25));
    CHECK(rows(0, 1) == doctest::Approx(0.75));
    CHECK(rows(1, 0) == doctest::Approx(0.5));
    const Array cols = nn::Softmax(0)(x).value();
    CHECK(cols(0, 0) == doctest::Approx(1.0 / (1.0 + std::exp(1.0))));
    CHECK(cols(0, 1) + cols(1, 1) == doctest::Approx(1.0));
}

TEST_CASE("Flatten keeps dim 0") {
    Array x = Array::from_shape({2, 3, 2, 2});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i);
    const Tensor y = nn::Flatten()(Tensor(x));
    CHECK(y.shape() == Shape{2, 12});
    CHECK(y.value()(1, 0) == 12.0f);
    CHECK(y.value()(1, 11) == 23.0f);
}

// ---- Sequential ----------------------------------------------------------------------------

TEST_CASE("Sequential indexing size and push_back") {
    nn::Sequential model{std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::ReLU>()};
    CHECK(model.size() == 2);
    CHECK(model[1]->type_name() == "ReLU");
    model.push_back(std::make_shared<nn::Linear>(4, 1));
    CHECK(model.size() == 3);
    CHECK(model.named_children()[2].first == "2");
    CHECK(model.at<nn::Linear>(2)->out_features() == 1);
    CHECK_THROWS_AS(model.at<nn::Linear>(1), std::invalid_argument);
    CHECK_THROWS_WITH_AS(model[3], "Sequential: index 3 is out of range; it has 3 layers",
                         std::out_of_range);
    CHECK(model(Tensor(xt::ones<float>({6, 3}))).shape() == Shape{6, 1});
}

TEST_CASE("Sequential applies its layers in order") {
    auto fc = std::make_shared<nn::Linear>(1, 1);
    fc->weight.mutable_value().fill(-2.0f);
    fc->bias.mutable_value() = Array{1.0f};
    auto model = std::make_shared<nn::Sequential>(fc, std::make_shared<nn::ReLU>());
    // relu(-2x + 1): x = 1 -> 0, x = -1 -> 3
    Array x{1.0f, -1.0f}, expected{0.0f, 3.0f};
    x.reshape({2, 1});
    expected.reshape({2, 1});
    CHECK((*model)(Tensor(x)).value() == expected);
    nn::Sequential empty;
    const Tensor same(Array{1.0f, 2.0f});
    CHECK(empty(same).value() == same.value());
}

// ---- Conv2D and MaxPool2D -------------------------------------------------------------------

TEST_CASE("Conv2D forward equals conv2d with its weight bias stride and padding") {
    manual_seed(4);
    nn::Conv2D conv(nn::Conv2dOptions(2, 3, 3).stride(2).padding(1));
    const Tensor x(test::random_array({2, 2, 5, 5}));
    const Tensor y = conv(x);
    CHECK(y.shape() == Shape{2, 3, 3, 3});  // (5 + 2 - 3) / 2 + 1
    CHECK(y.value() == conv2d(x, conv.weight, conv.bias, 2, 1).value());
    std::ostringstream out;
    out << conv;
    CHECK(out.str() == "Conv2D(in=2, out=3, kernel=3, stride=2, padding=1, bias=true)");
}

TEST_CASE("Conv2D with a one by one kernel mixes channels by hand") {
    nn::Conv2D conv(2, 1, 1);
    Array w{2.0f, -1.0f};
    w.reshape({1, 2, 1, 1});
    conv.weight.mutable_value() = w;
    conv.bias.mutable_value() = Array{0.5f};
    Array x = Array::from_shape({1, 2, 1, 2});
    x(0, 0, 0, 0) = 1.0f;
    x(0, 0, 0, 1) = 3.0f;
    x(0, 1, 0, 0) = 4.0f;
    x(0, 1, 0, 1) = 1.0f;
    const Array y = conv(Tensor(x)).value();
    CHECK(y(0, 0, 0, 0) == 2.0f - 4.0f + 0.5f);
    CHECK(y(0, 0, 0, 1) == 6.0f - 1.0f + 0.5f);
    CHECK_THROWS_WITH_AS(conv(Tensor(xt::zeros<float>({2, 2}))),
                         doctest::Contains("conv2d: x must be 4-D"), std::invalid_argument);
}

TEST_CASE("MaxPool2D takes the maximum of each window") {
    Array x = Array::from_shape({1, 1, 4, 4});
    for (std::size_t i = 0; i < 16; ++i) x.data()[i] = static_cast<float>((i * 7) % 16);
    // rows: [0 7 14 5] [12 3 10 1] [8 15 6 13] [4 11 2 9]
    const Array y = nn::MaxPool2D(2)(Tensor(x)).value();
    CHECK(y.shape()[2] == 2);
    CHECK(y(0, 0, 0, 0) == 12.0f);
    CHECK(y(0, 0, 0, 1) == 14.0f);
    CHECK(y(0, 0, 1, 0) == 15.0f);
    CHECK(y(0, 0, 1, 1) == 13.0f);
    CHECK(nn::MaxPool2D(nn::MaxPool2dOptions(3).stride(1))(Tensor(x)).shape() == Shape{1, 1, 2, 2});
}

TEST_CASE("summary of a small convolutional net shows each shape") {
    nn::Sequential net{std::make_shared<nn::Conv2D>(nn::Conv2dOptions(1, 4, 3).padding(1)), std::make_shared<nn::ReLU>(),
                       std::make_shared<nn::MaxPool2D>(2), std::make_shared<nn::Flatten>(),
                       std::make_shared<nn::Linear>(64, 10)};
    const std::string s = net.summary({2, 1, 8, 8});
    INFO(s);
    CHECK(s.find("0 (Conv2D)") != std::string::npos);
    CHECK(s.find("[2, 4, 8, 8]") != std::string::npos);
    CHECK(s.find("2 (MaxPool2D)") != std::string::npos);
    CHECK(s.find("[2, 4, 4, 4]") != std::string::npos);
    CHECK(s.find("[2, 64]") != std::string::npos);
    CHECK(s.find("[2, 10]") != std::string::npos);
    CHECK(s.find("Total params: " + std::to_string(4 * 9 + 4 + 64 * 10 + 10) + "\n") !=
          std::string::npos);
}

TEST_CASE("Dropout drops in training and is the identity after eval(), and train() turns it back on") {
    nn::Sequential net{std::make_shared<nn::Dropout>(0.5f)};
    const Tensor x(xt::ones<float>({1000}));
    manual_seed(4);
    const Array trained = net(x).value();
    std::size_t zeros = 0;
    for (float v : trained) {
        CHECK((v == 0.0f || v == 2.0f));
        zeros += v == 0.0f;
    }
    CHECK(zeros > 400);
    CHECK(zeros < 600);
    net.eval();
    CHECK(net(x).value() == x.value());
    net.train();
    CHECK(net(x).value() != x.value());
    CHECK_THROWS_WITH_AS(nn::Dropout(1.5f), doctest::Contains("Dropout: p must be in [0, 1], got 1.5"),
                         std::invalid_argument);
}

TEST_CASE("Conv2D takes torch's dilation and groups, with weights of torch's shape and bound") {
    manual_seed(5);
    nn::Conv2D depthwise(nn::Conv2dOptions(4, 8, 3).padding(1).groups(4));
    CHECK(depthwise.weight.shape() == Shape{8, 1, 3, 3});
    const float bound = 1.0f / std::sqrt(9.0f);  // fan_in = in / groups * k * k = 9
    CHECK(xt::amax(xt::abs(depthwise.weight.value()))() <= bound);
    CHECK(xt::amax(xt::abs(depthwise.weight.value()))() > 0.8f * bound);
    const Tensor x(test::random_array({2, 4, 6, 6}));
    CHECK(depthwise(x).shape() == Shape{2, 8, 6, 6});
    CHECK(xt::allclose(depthwise(x).value(),
                       conv2d(x, depthwise.weight, depthwise.bias, 1, 1, 1, 4).value()));
    nn::Conv2D dilated(nn::Conv2dOptions(4, 2, 3).padding(2).dilation(2));
    CHECK(dilated(x).shape() == Shape{2, 2, 6, 6});
    std::ostringstream out;
    out << dilated;
    CHECK(out.str() == "Conv2D(in=4, out=2, kernel=3, stride=1, padding=2, dilation=2, bias=true)");
    CHECK_THROWS_WITH_AS(nn::Conv2D(nn::Conv2dOptions(4, 6, 3).groups(4)),
                         doctest::Contains("Conv2D: groups = 4 must divide both in_channels (4) and out_channels (6)"),
                         std::invalid_argument);
}

TEST_CASE("pooling, activation, Identity, Embedding and LayerNorm layers call their ops") {
    const Tensor img(test::random_array({1, 2, 5, 5}));
    CHECK(nn::AvgPool2D(nn::AvgPool2dOptions(3).stride(2).padding(1))(img).value() == avg_pool2d(img, 3, 2, 1).value());
    CHECK(nn::MaxPool2D(nn::MaxPool2dOptions(3).stride(2).padding(1))(img).value() == max_pool2d(img, 3, 2, 1).value());
    const Tensor x(test::random_array({3, 4}, -2.0f, 2.0f));
    CHECK(nn::LeakyReLU(0.2f)(x).value() == leaky_relu(x, 0.2f).value());
    CHECK(nn::ELU(0.5f)(x).value() == elu(x, 0.5f).value());
    CHECK(nn::GELU()(x).value() == gelu(x).value());
    CHECK(nn::GELU(true)(x).value() == gelu(x, GeluApproximation::tanh).value());
    CHECK(nn::SiLU()(x).value() == silu(x).value());
    CHECK(nn::Softplus(nn::SoftplusOptions().beta(2.0).threshold(5.0))(x).value() == softplus(x, 2.0f, 5.0f).value());
    CHECK(nn::GELU(nn::GELUOptions().approximate("tanh"))(x).value() ==
          gelu(x, GeluApproximation::tanh).value());
    CHECK_THROWS_WITH_AS(nn::GELU(nn::GELUOptions().approximate("fast")),
                         doctest::Contains("GELU: approximate must be \"none\" or \"tanh\", got \"fast\""),
                         std::invalid_argument);
    CHECK(nn::Identity()(x).node() == x.node());

    manual_seed(6);
    nn::Embedding table(1000, 16);
    CHECK(table.weight.shape() == Shape{1000, 16});
    CHECK(std::abs(xt::mean(table.weight.value())()) < 0.05);  // N(0, 1), as torch
    CHECK(xt::variance(table.weight.value())() == doctest::Approx(1.0).epsilon(0.05));
    CHECK(table(Tensor(Array{{3.0f, 999.0f}})).shape() == Shape{1, 2, 16});
    CHECK_THROWS_WITH_AS(table(Tensor(Array{1000.0f})), doctest::Contains("embedding: index 1000"),
                         std::invalid_argument);

    nn::LayerNorm norm({4});
    CHECK(norm.named_parameters().size() == 2);
    CHECK(norm.named_parameters()[0].first == "weight");
    CHECK(norm.weight.value() == Array{1.0f, 1.0f, 1.0f, 1.0f});
    CHECK(norm.bias.value() == Array{0.0f, 0.0f, 0.0f, 0.0f});
    CHECK(xt::allclose(norm(x).value(), layer_norm(x, {4}).value()));
    CHECK(nn::LayerNorm(nn::LayerNormOptions({4}).elementwise_affine(false)).parameter_count() == 0);
    CHECK_THROWS_WITH_AS(norm(Tensor(test::random_array({3, 5}))),
                         doctest::Contains("layer_norm: normalized_shape [4] must be the last axes of x"),
                         std::invalid_argument);
}

TEST_CASE("BatchNorm2D keeps torch's parameters and buffers, and train() and eval() change what it computes") {
    nn::BatchNorm2D bn(3);
    std::vector<std::string> names, buffers;
    for (const auto& [name, p] : bn.named_parameters()) names.push_back(name);
    for (const auto& [name, b] : bn.named_buffers()) buffers.push_back(name);
    CHECK(names == std::vector<std::string>{"weight", "bias"});
    CHECK(buffers == std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"});
    CHECK(bn.running_var.value() == Array{1.0f, 1.0f, 1.0f});
    CHECK_FALSE(bn.running_mean.requires_grad());

    const Tensor x(test::random_array({4, 3, 2, 2}, 1.0f, 3.0f, 8));
    const Array trained = bn(x).value();  // batch statistics: each channel now has mean 0
    {
        // 0 up to rounding: the batch mean's own, gamma(n + 1) of the mean |x|, shows in every y
        // divided by sigma; each y's and this mean's, gamma(n + 2) of the mean |y|; twice that for
        // the rounding of sigma.
        const xt::xarray<double> x0 = xt::cast<double>(xt::view(x.value(), xt::all(), 0));
        const xt::xarray<double> y0 = xt::cast<double>(xt::view(trained, xt::all(), 0));
        const std::size_t n = x0.size();
        const double sigma = std::sqrt(xt::variance(x0)());
        const double bound = 2.0 * (test::gamma_f32(n + 1) * xt::mean(xt::abs(x0))() / sigma +
                                    test::gamma_f32(n + 2) * xt::mean(xt::abs(y0))());
        CHECK(std::abs(xt::mean(xt::view(trained, xt::all(), 0))()) <= bound);
    }
    CHECK(bn.num_batches_tracked.value()() == 1.0f);
    CHECK(xt::all(bn.running_mean.value() > 0.09f));  // 0.1 of a batch mean between 1 and 3
    bn.eval();
    const Array evaluated = bn(x).value();  // running statistics: not centred
    CHECK(xt::mean(xt::view(evaluated, xt::all(), 0))() > 0.5);
    CHECK(bn.num_batches_tracked.value()() == 1.0f);  // evaluation changes no buffer

    CHECK_THROWS_WITH_AS(bn(Tensor(test::random_array({4, 3}))),
                         doctest::Contains("BatchNorm2D: x must be [N, 3, H, W], but its shape is [4, 3]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(nn::BatchNorm1D(2)(Tensor(test::random_array({4, 3}))),
                         doctest::Contains("BatchNorm1D: x must be [N, 2], but its shape is [4, 3]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(bn.register_buffer("weight", Array{1.0f}),
                         doctest::Contains("already has a parameter, buffer or module named 'weight'"),
                         std::invalid_argument);
}

TEST_CASE("buffers are saved and loaded with the parameters, and summary() counts them") {
    const test::TempDir dir;
    auto model = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 3),
                                                  std::make_shared<nn::BatchNorm1D>(3));
    (*model)(Tensor(test::random_array({5, 4})));  // one training step of the running statistics
    nn::save(*model, dir.file("m.npz"));
    const NamedArrays saved = load_arrays(dir.file("m.npz"));
    std::vector<std::string> names;
    for (const auto& [name, a] : saved) names.push_back(name);
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                            "1.running_var", "1.num_batches_tracked"});
    auto other = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 3),
                                                  std::make_shared<nn::BatchNorm1D>(3));
    nn::load(*other, dir.file("m.npz"));
    CHECK(other->at<nn::BatchNorm1D>(1)->running_mean.value() ==
          model->at<nn::BatchNorm1D>(1)->running_mean.value());
    CHECK(other->at<nn::BatchNorm1D>(1)->num_batches_tracked.value()() == 1.0f);
    CHECK(model->summary({2, 4}).find("Buffers: 7 values") != std::string::npos);
}

TEST_CASE("nn::init has torch's initialisers, gains and fan modes") {
    using namespace nn::init;
    CHECK(calculate_gain("tanh") == doctest::Approx(5.0 / 3.0));
    CHECK(calculate_gain("relu") == doctest::Approx(std::sqrt(2.0)));
    CHECK(calculate_gain("leaky_relu", 0.2) == doctest::Approx(std::sqrt(2.0 / 1.04)));
    CHECK(calculate_gain("conv2d") == 1.0);
    CHECK_THROWS_WITH_AS(calculate_gain("swish"), doctest::Contains("calculate_gain: unknown nonlinearity 'swish'"),
                         std::invalid_argument);
    CHECK(fan_out(Shape{8, 3, 5, 5}) == 200);
    manual_seed(12);
    const Tensor w(Array::from_shape({200, 300}), true);
    xavier_uniform_(w, 2.0);
    const double a = 2.0 * std::sqrt(6.0 / 500.0);
    CHECK(xt::amax(xt::abs(w.value()))() <= a);
    CHECK(xt::amax(xt::abs(w.value()))() > 0.99 * a);
    xavier_normal_(w);
    CHECK(std::sqrt(xt::variance(w.value())()) == doctest::Approx(std::sqrt(2.0 / 500.0)).epsilon(0.02));
    kaiming_normal_(w, 0.0, FanMode::fan_out, "relu");
    CHECK(std::sqrt(xt::variance(w.value())()) == doctest::Approx(std::sqrt(2.0 / 200.0)).epsilon(0.02));
    kaiming_uniform_(w, 0.0, FanMode::fan_in, "relu");
    CHECK(xt::amax(xt::abs(w.value()))() <= std::sqrt(3.0) * std::sqrt(2.0 / 300.0));
    normal_(w, 3.0f, 0.5f);
    CHECK(xt::mean(w.value())() == doctest::Approx(3.0).epsilon(0.01));
    ones_(w);
    CHECK(xt::all(xt::equal(w.value(), 1.0f)));
    // orthogonal_: orthonormal rows when there are fewer rows, orthonormal columns otherwise
    for (const Shape& s : {Shape{3, 5}, Shape{5, 3}, Shape{4, 2, 2}}) {
        const Tensor q(Array::from_shape(s), true);
        orthogonal_(q, 1.5);
        const std::size_t rows = s[0], cols = q.size() / rows;
        Array m = q.value();
        m.reshape({rows, cols});
        const Tensor mt(m);
        const Array gram = rows <= cols ? matmul(mt, transpose(mt)).value() : matmul(transpose(mt), mt).value();
        const std::size_t k = std::min(rows, cols);
        // Exactly 2.25 I but for rounding: the float product's, and each entry's to float (2u per
        // product), within matmul_bounds' two gammas of the inner dimension (4 or 5).
        test::check_within("gram", gram, 2.25f * xt::eye<float>(k),
                           rows <= cols ? test::matmul_bounds(m, m, false, true) : test::matmul_bounds(m, m, true, false));
    }
}

TEST_CASE("torch's spellings name the same layers: Conv2d, MaxPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d") {
    static_assert(std::is_same_v<nn::Conv2d, nn::Conv2D> && std::is_same_v<nn::MaxPool2d, nn::MaxPool2D> &&
                  std::is_same_v<nn::AvgPool2d, nn::AvgPool2D> &&
                  std::is_same_v<nn::BatchNorm1d, nn::BatchNorm1D> &&
                  std::is_same_v<nn::BatchNorm2d, nn::BatchNorm2D>);
    nn::Sequential model{nn::Conv2d(1, 2, 3), nn::BatchNorm2d(2), nn::MaxPool2d(2), nn::AvgPool2d(1)};
    CHECK(model(Tensor(xt::ones<float>({2, 1, 6, 6}))).shape() == Shape{2, 2, 2, 2});
    CHECK(model.named_parameters().size() + model.named_buffers().size() == 7);  // 4 + 3 buffers
}
