#include <cmath>
#include <random>

#include <xtensor/xview.hpp>

#include "helpers.hpp"

using namespace tapegrad;
using optim::Adam;
using optim::AdamOptions;
using optim::State;
using optim::SGD;
using optim::SGDOptions;

namespace {

// The fixed problem of the hand calculations: p = [1, -2], loss = sum(p^2), so grad = 2p.
Tensor start_point() { return Tensor(Array{1.0f, -2.0f}, true); }

void take_step(optim::Optimizer& opt, const Tensor& p) {
    opt.zero_grad();
    sum(p * p).backward();
    opt.step();
}

void check_values(const Tensor& p, std::vector<double> expected) {
    REQUIRE(p.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO("element " << i << ": " << p.value().data()[i] << " vs " << expected[i]);
        CHECK(std::abs(p.value().data()[i] - expected[i]) < 1e-6);
    }
}

// Adam's update rule in double, as documented in optim/adam.hpp: the reference for the tests.
struct AdamReference {
    double lr, beta1, beta2, eps, weight_decay;
    std::vector<double> p, m, v;
    int t = 0;
    void step(const std::vector<double>& grad) {
        ++t;
        for (std::size_t i = 0; i < p.size(); ++i) {
            const double g = grad[i] + weight_decay * p[i];
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            const double m_hat = m[i] / (1 - std::pow(beta1, t));
            const double v_hat = v[i] / (1 - std::pow(beta2, t));
            p[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
        }
    }
};

}  // namespace

// ---- SGD: three steps on sum(p^2) from p = [1, -2], lr = 0.1 ----

TEST_CASE("plain SGD scales p by 1 - 2 lr = 0.8 per step") {
    Tensor p = start_point();
    SGD opt({p}, 0.1f);
    for (int i = 0; i < 3; ++i) take_step(opt, p);
    check_values(p, {0.512, -1.024});  // 0.8^3 p
}

TEST_CASE("SGD with momentum 0.9 matches the hand calculation") {
    // g1 = 2, buf = 2, p = 0.8; g2 = 1.6, buf = 0.9*2 + 1.6 = 3.4, p = 0.46;
    // g3 = 0.92, buf = 0.9*3.4 + 0.92 = 3.98, p = 0.46 - 0.398 = 0.062 (the second element is -2x).
    Tensor p = start_point();
    SGD opt({p}, SGDOptions(0.1).momentum(0.9));
    take_step(opt, p);
    check_values(p, {0.8, -1.6});
    take_step(opt, p);
    check_values(p, {0.46, -0.92});
    take_step(opt, p);
    check_values(p, {0.062, -0.124});
}

TEST_CASE("SGD with Nesterov momentum 0.9 matches the hand calculation") {
    // g1 = 2, buf = 2, g = 2 + 0.9*2 = 3.8, p = 0.62;
    // g2 = 1.24, buf = 3.04, g = 1.24 + 2.736 = 3.976, p = 0.2224;
    // g3 = 0.4448, buf = 3.1808, g = 3.30752, p = -0.108352.
    Tensor p = start_point();
    SGD opt({p}, SGDOptions(0.1).momentum(0.9).nesterov(true));
    for (int i = 0; i < 3; ++i) take_step(opt, p);
    check_values(p, {-0.108352, 0.216704});
}

TEST_CASE("SGD with weight decay adds weight_decay times p to the gradient") {
    // g = 2p + 0.1p = 2.1p: plain SGD multiplies p by 0.79 per step.
    Tensor p = start_point();
    SGD plain({p}, SGDOptions(0.1).weight_decay(0.1));
    for (int i = 0; i < 3; ++i) take_step(plain, p);
    check_values(p, {0.493039, -0.986078});
    // With momentum 0.9: g1 = 2.1, buf = 2.1, p = 0.79; g2 = 1.659, buf = 3.549, p = 0.4351;
    // g3 = 0.91371, buf = 4.10781, p = 0.024319.
    Tensor q = start_point();
    SGD with_momentum({q}, SGDOptions(0.1).momentum(0.9).weight_decay(0.1));
    for (int i = 0; i < 3; ++i) take_step(with_momentum, q);
    check_values(q, {0.024319, -0.048638});
}

// ---- Adam ----

TEST_CASE("Adam matches its update rule on sum of p squared") {
    // The first step of Adam moves every element by lr (m_hat / sqrt(v_hat) = sign(g)).
    Tensor p = start_point();
    Adam opt({p}, 0.1f);
    AdamReference ref{0.1, 0.9, 0.999, 1e-8, 0.0, {1.0, -2.0}, {0, 0}, {0, 0}};
    take_step(opt, p);
    check_values(p, {0.9, -1.9});
    ref.step({2.0, -4.0});
    for (int i = 0; i < 2; ++i) {
        ref.step({2 * ref.p[0], 2 * ref.p[1]});
        take_step(opt, p);
    }
    check_values(p, ref.p);
    check_values(p, {0.7015862729, -1.7006233920});
}

TEST_CASE("Adam with weight decay matches its update rule") {
    // On sum(p^2) the decay only rescales g (Adam would hardly notice), so fixed gradients.
    const std::vector<std::vector<double>> grads{{0.5, -1.0}, {0.2, 0.3}, {-0.4, 0.1}};
    Tensor p = start_point();
    Adam opt({p}, AdamOptions(0.1).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.5));
    AdamReference ref{0.1, 0.9f, 0.999f, 1e-8, 0.5, {1.0, -2.0}, {0, 0}, {0, 0}};
    for (const auto& g : grads) {
        p.mutable_grad() = Array{static_cast<float>(g[0]), static_cast<float>(g[1])};
        opt.step();
        ref.step(g);
        check_values(p, ref.p);
    }
    // Step 1 by hand: g = [0.5 + 0.5, -1 - 1] = [1, -2]; the first step moves by lr * sign(g).
    Tensor q = start_point();
    Adam first({q}, AdamOptions(0.1).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.5));
    q.mutable_grad() = Array{0.5f, -1.0f};
    first.step();
    check_values(q, {0.9, -1.9});
}

TEST_CASE("Adam follows a fixed gradient sequence") {
    const std::vector<std::vector<double>> grads{{0.5, -1.0}, {0.2, 0.3}, {-0.4, 0.1}};
    Tensor p = start_point();
    Adam opt({p}, AdamOptions(0.01).betas({0.8, 0.99}));
    AdamReference ref{0.01, 0.8f, 0.99f, 1e-8, 0.0, {1.0, -2.0}, {0, 0}, {0, 0}};
    for (const auto& g : grads) {
        p.mutable_grad() = Array{static_cast<float>(g[0]), static_cast<float>(g[1])};
        opt.step();
        ref.step(g);
        check_values(p, ref.p);
    }
}

// ---- what every optimizer does ----

TEST_CASE("a step records nothing on the tape") {
    Tensor p = start_point();
    p.mutable_grad() = Array{1.0f, 1.0f};
    SGD sgd({p}, SGDOptions(0.1).momentum(0.9));
    Adam adam({p});
    sgd.step();
    adam.step();
    CHECK(Tape::current().size() == 0);
    CHECK(p.is_leaf());
}

TEST_CASE("parameters without a gradient are skipped") {
    Tensor p = start_point(), q(Array{5.0f}, true);
    SGD sgd({p, q}, SGDOptions(0.1).momentum(0.9));
    Adam adam({p, q});
    sum(p * p).backward();
    sgd.step();
    adam.step();
    CHECK(q.value()(0) == 5.0f);
    CHECK_FALSE(q.has_grad());
    // Adam keeps no state for q: it has taken no step.
    for (const auto& [name, value] : adam.state()) CHECK(name.find(".1") == std::string::npos);
}

TEST_CASE("zero_grad sets every gradient to zero") {
    Tensor p = start_point();
    SGD opt({p}, 0.1f);
    sum(p * p).backward();
    REQUIRE(p.grad()(1) == doctest::Approx(-4.0));
    opt.zero_grad();
    CHECK(p.grad() == Array{0.0f, 0.0f});
}

TEST_CASE("zero_grad with set_to_none drops the gradients, and the steps match zeroed ones") {
    Tensor p = start_point(), q = start_point();
    SGD dropped({p}, SGDOptions(0.1).momentum(0.9)), zeroed({q}, SGDOptions(0.1).momentum(0.9));
    for (int step = 0; step < 3; ++step) {
        dropped.zero_grad(true);
        CHECK_FALSE(p.has_grad());
        sum(p * p).backward();
        dropped.step();
        take_step(zeroed, q);
        CHECK(p.value() == q.value());  // bit for bit: grad = 0 + g is g
    }
    // Momentum moves a parameter with a zero gradient; one without a gradient stays put.
    zeroed.zero_grad();
    zeroed.step();
    CHECK(q.value() != p.value());
    const Array before = p.value();
    dropped.zero_grad(true);
    dropped.step();
    CHECK(p.value() == before);
}

TEST_CASE("set_lr changes the step size and lr reads it") {
    Tensor p = start_point();
    SGD opt({p}, 0.1f);
    CHECK(opt.lr() == doctest::Approx(0.1));
    opt.set_lr(0.25f);
    CHECK(opt.lr() == doctest::Approx(0.25));
    take_step(opt, p);
    check_values(p, {0.5, -1.0});
    CHECK_THROWS_WITH_AS(opt.set_lr(-1.0f), doctest::Contains("learning rate must be >= 0"),
                         std::invalid_argument);
}

TEST_CASE("negative hyper-parameters are errors naming the value") {
    Tensor p = start_point();
    CHECK_THROWS_WITH_AS(SGD({p}, -0.1f), "SGD: the learning rate must be >= 0, but it is -0.1",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(SGD({p}, SGDOptions(0.1).momentum(-0.5)), "SGD: momentum must be >= 0, but it is -0.5",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(SGD({p}, SGDOptions(0.1).weight_decay(-0.01)),
                         "SGD: weight_decay must be >= 0, but it is -0.01",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(Adam({p}, -0.001f), doctest::Contains("-0.001"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(Adam({p}, AdamOptions(0.001).betas({0.9, 0.999}).eps(-1e-8)),
                         doctest::Contains("eps must be >= 0"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(Adam({p}, AdamOptions(0.001).betas({0.9, 0.999}).eps(1e-8).weight_decay(-0.1)),
                         doctest::Contains("weight_decay must be >= 0"), std::invalid_argument);
}

TEST_CASE("Nesterov without momentum is an error") {
    Tensor p = start_point();
    CHECK_THROWS_WITH_AS(SGD({p}, SGDOptions(0.1).nesterov(true)),
                         doctest::Contains("Nesterov momentum requires a momentum > 0"),
                         std::invalid_argument);
}

TEST_CASE("Adam betas outside 0 to 1 are errors") {
    Tensor p = start_point();
    CHECK_THROWS_WITH_AS(Adam({p}, AdamOptions(0.001).betas({1.0, 0.999})),
                         "Adam: betas.first must be in [0, 1), but it is 1", std::invalid_argument);
    CHECK_THROWS_WITH_AS(Adam({p}, AdamOptions(0.001).betas({0.9, -0.1})),
                         doctest::Contains("betas.second must be in [0, 1)"),
                         std::invalid_argument);
}

TEST_CASE("the parameter list must be non-empty leaves without repeats") {
    Tensor p = start_point();
    CHECK_THROWS_WITH_AS(SGD({}, 0.1f), doctest::Contains("empty"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(SGD({p, p}, 0.1f), doctest::Contains("parameter 1 is the same tensor"),
                         std::invalid_argument);
    Tensor not_leaf = p * 2.0f;
    CHECK_THROWS_WITH_AS(Adam({not_leaf}), doctest::Contains("not a leaf"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(Adam({Tensor()}), doctest::Contains("parameter 0 is an empty Tensor"),
                         std::invalid_argument);
}

// ---- state ----

TEST_CASE("SGD state holds the momentum buffers and the hyper-parameters") {
    Tensor p = start_point(), q(Array{{1.0f, 2.0f}}, true);
    SGD opt({p, q}, SGDOptions(0.1).momentum(0.9));
    take_step(opt, p);  // q has no gradient: no buffer
    const State state = opt.state();
    std::vector<std::string> names;
    for (const auto& entry : state) names.push_back(entry.first);
    CHECK(names == std::vector<std::string>{"lr", "momentum", "dampening", "weight_decay",
                                            "nesterov", "param_count", "momentum_buffer.0"});
    CHECK(std::get<Array>(state.back().second) == Array{2.0f, -4.0f});
}

TEST_CASE("SGD state save and load continues identically") {
    Tensor p = start_point();
    SGD a({p}, SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(0.01));
    for (int i = 0; i < 3; ++i) take_step(a, p);

    Tensor q(Array(p.value()), true);
    SGD b({q}, 0.5f);  // different hyper-parameters: load_state restores them
    b.load_state(a.state());
    CHECK(b.lr() == doctest::Approx(0.1));
    CHECK(b.momentum() == doctest::Approx(0.9));
    CHECK(b.nesterov());
    for (int i = 0; i < 3; ++i) {
        take_step(a, p);
        take_step(b, q);
    }
    CHECK(q.value() == p.value());
}

TEST_CASE("Adam state save and load continues identically") {
    Tensor p = start_point(), w(test::random_array({3, 2}), true);
    Adam a({p, w}, AdamOptions(0.05).betas({0.8, 0.99}).eps(1e-6).weight_decay(0.01));
    auto loss = [](const Tensor& x, const Tensor& y) { return sum(x * x) + sum(y * y * y * y); };
    for (int i = 0; i < 3; ++i) {
        a.zero_grad();
        loss(p, w).backward();
        a.step();
    }
    const State state = a.state();
    std::vector<std::string> names;
    for (const auto& entry : state) names.push_back(entry.first);
    CHECK(names == std::vector<std::string>{"lr", "betas", "eps", "weight_decay", "amsgrad", "param_count",
                                            "step.0", "exp_avg.0", "exp_avg_sq.0", "step.1",
                                            "exp_avg.1", "exp_avg_sq.1"});

    Tensor p2(Array(p.value()), true), w2(Array(w.value()), true);
    Adam b({p2, w2});
    b.load_state(state);
    CHECK(b.betas().first == doctest::Approx(0.8));
    for (int i = 0; i < 3; ++i) {
        a.zero_grad();
        loss(p, w).backward();
        a.step();
        b.zero_grad();
        loss(p2, w2).backward();
        b.step();
    }
    CHECK(p2.value() == p.value());
    CHECK(w2.value() == w.value());
}

TEST_CASE("load_state rejects wrong shapes and unknown or misplaced names") {
    Tensor p = start_point();
    SGD sgd({p}, SGDOptions(0.1).momentum(0.9));
    CHECK_THROWS_WITH_AS(sgd.load_state({{"momentum_buffer.0", Array{1.0f, 2.0f, 3.0f}}}),
                         "SGD.load_state: 'momentum_buffer.0' has shape [3], but parameter 0 "
                         "has shape [2]",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(sgd.load_state({{"momentum_buffer.4", Array{1.0f, 2.0f}}}),
                         doctest::Contains("is for parameter 4, but this optimizer has 1"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(sgd.load_state({{"exp_avg.0", Array{1.0f, 2.0f}}}),
                         doctest::Contains("'exp_avg.0' is not a known entry"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(sgd.load_state({{"velocity", Array{1.0f}}}),
                         doctest::Contains("'velocity' is not a known entry"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(sgd.load_state({{"param_count", Array{3.0f}}}),
                         doctest::Contains("the state is for 3 parameters"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(sgd.load_state({{"lr", Array{0.1f, 0.2f}}}),
                         doctest::Contains("'lr' must hold one number"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(sgd.load_state({{"momentum", Array{-1.0f}}}),
                         doctest::Contains("momentum must be >= 0"), std::invalid_argument);

    Adam adam({p});
    CHECK_THROWS_WITH_AS(adam.load_state({{"step.0", Array{2.0f}}, {"exp_avg.0", Array{0.f, 0.f}}}),
                         doctest::Contains("needs all of step.0, exp_avg.0 and exp_avg_sq.0"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(adam.load_state({{"step.0", Array{0.5f}}}),
                         doctest::Contains("whole number"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(adam.load_state({{"lr", Array{0.1f}}, {"lr", Array{0.2f}}}),
                         doctest::Contains("'lr' appears twice"), std::invalid_argument);
}

TEST_CASE("a failed load_state changes nothing") {
    Tensor p = start_point();
    SGD opt({p}, SGDOptions(0.1).momentum(0.9));
    take_step(opt, p);
    const State before = opt.state();
    CHECK_THROWS(opt.load_state({{"lr", Array{0.5f}}, {"momentum_buffer.0", Array{1.0f}}}));
    CHECK(opt.lr() == doctest::Approx(0.1));
    CHECK(std::get<Array>(opt.state().back().second) == std::get<Array>(before.back().second));
}

// ---- training smoke tests ----

namespace {

// Three Gaussian blobs in the plane, 100 points each, centred at (0, 2), (-2, -1) and (2, -1).
void make_blobs(Array& x, Array& labels) {
    std::mt19937 gen(42);
    std::normal_distribution<float> noise(0.0f, 0.9f);
    const float centres[3][2] = {{0.0f, 2.0f}, {-2.0f, -1.0f}, {2.0f, -1.0f}};
    const std::size_t n = 300;
    x = Array::from_shape({n, 2});
    labels = Array::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = i % 3;
        x(i, 0) = centres[c][0] + noise(gen);
        x(i, 1) = centres[c][1] + noise(gen);
        labels(i) = static_cast<float>(c);
    }
}

struct TwoLayerNet {
    Tensor w1, b1, w2, b2;
    TwoLayerNet()
        : w1(test::random_array({16, 2}, -0.7f, 0.7f, 3), true),
          b1(xt::zeros<float>({16}), true),
          w2(test::random_array({3, 16}, -0.25f, 0.25f, 4), true),
          b2(xt::zeros<float>({3}), true) {}
    Tensor operator()(const Tensor& x) const { return linear(tanh(linear(x, w1, b1)), w2, b2); }
    std::vector<Tensor> params() const { return {w1, b1, w2, b2}; }
};

}  // namespace

TEST_CASE("a two-layer net learns three blobs with SGD and momentum") {
    Array x_values, label_values;
    make_blobs(x_values, label_values);
    const Tensor x(x_values), labels(label_values);
    TwoLayerNet net;
    SGD opt(net.params(), SGDOptions(0.05).momentum(0.9));

    float first_loss = 0.0f, first_accuracy = 0.0f, last_loss = 0.0f;
    {
        NoGrad no_grad;
        first_loss = cross_entropy(net(x), labels).item();
        first_accuracy = accuracy(net(x), labels);
    }
    for (int epoch = 0; epoch < 20; ++epoch) {
        // Mini-batches of 30 in a fixed order (the blobs are interleaved already).
        for (std::size_t start = 0; start < 300; start += 30) {
            const Tensor xb(xt::view(x_values, xt::range(start, start + 30), xt::all()));
            const Tensor yb(xt::view(label_values, xt::range(start, start + 30)));
            opt.zero_grad();
            Tensor loss = cross_entropy(net(xb), yb);
            loss.backward();
            opt.step();
        }
        NoGrad no_grad;
        last_loss = cross_entropy(net(x), labels).item();
    }
    NoGrad no_grad;
    const float final_accuracy = accuracy(net(x), labels);
    MESSAGE("loss " << first_loss << " -> " << last_loss << ", accuracy " << first_accuracy
                    << " -> " << final_accuracy);
    CHECK(last_loss < 0.3f * first_loss);
    CHECK(final_accuracy > 0.9f);
    CHECK(final_accuracy > first_accuracy);
    // The error rate is 1 - accuracy.
    CHECK(zero_one_loss(net(x), labels).item() == doctest::Approx(1.0f - final_accuracy));
}

TEST_CASE("a two-layer net learns three blobs with Adam") {
    Array x_values, label_values;
    make_blobs(x_values, label_values);
    const Tensor x(x_values), labels(label_values);
    TwoLayerNet net;
    Adam opt(net.params(), 0.01f);
    float first_loss = 0.0f;
    {
        NoGrad no_grad;
        first_loss = cross_entropy(net(x), labels).item();
    }
    for (int step = 0; step < 200; ++step) {
        opt.zero_grad();
        Tensor loss = cross_entropy(net(x), labels);
        loss.backward();
        opt.step();
    }
    NoGrad no_grad;
    CHECK(cross_entropy(net(x), labels).item() < 0.5f * first_loss);
    CHECK(accuracy(net(x), labels) > 0.9f);
}
