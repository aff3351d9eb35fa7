// Learning-rate schedulers, AdamW and gradient clipping against PyTorch 1.13: the rates of 100
// epochs, three AdamW steps and clipped gradients, from tests/data/torch_optim.npz (made by
// tests/data/make_optim_references.py); and the errors for bad settings.
#include <cmath>
#include <functional>
#include <map>
#include <memory>

#include <xtensor/xview.hpp>

#include "helpers.hpp"

using namespace tapegrad;
using namespace tapegrad::optim;

namespace {

std::map<std::string, Array> references() {
    std::map<std::string, Array> arrays;
    for (auto& [name, typed] : load_npz(std::string(TAPEGRAD_TEST_DATA) + "/torch_optim.npz"))
        arrays[name] = xt::cast<float>(std::get<xt::xarray<double>>(typed));
    return arrays;
}

// The optimizer's rate after the scheduler is made and after each of 100 steps.
std::vector<double> rates(const std::function<std::function<void()>(SGD&)>& make) {
    const Tensor p(Array{0.0f}, true);
    SGD sgd({p}, 0.1f);
    const std::function<void()> step = make(sgd);
    std::vector<double> lrs{sgd.lr()};
    for (int t = 0; t < 100; ++t) {
        step();
        lrs.push_back(sgd.lr());
    }
    return lrs;
}

void check_rates(const std::string& name, const std::vector<double>& got, const Array& want) {
    INFO("schedule " << name);
    REQUIRE(got.size() == want.size());
    for (std::size_t t = 0; t < got.size(); ++t) {
        INFO("epoch " << t);
        CHECK(got[t] == doctest::Approx(want(t)).epsilon(1e-6));
    }
}

template <class S, class... Args>
std::function<std::function<void()>(SGD&)> plain(Args... args) {
    return [=](SGD& sgd) {
        auto s = std::make_shared<S>(sgd, args...);
        return std::function<void()>([s] { s->step(); });
    };
}

}  // namespace

TEST_CASE("the schedulers give PyTorch's learning rates for 100 epochs") {
    const auto refs = references();
    check_rates("step", rates(plain<StepLR>(std::size_t{7}, 0.5)), refs.at("step.lr"));
    check_rates("multistep",
                rates(plain<MultiStepLR>(std::vector<std::size_t>{10, 25, 60}, 0.3)),
                refs.at("multistep.lr"));
    check_rates("exponential", rates(plain<ExponentialLR>(0.97)), refs.at("exponential.lr"));
    check_rates("cosine", rates(plain<CosineAnnealingLR>(std::size_t{30}, 0.001)), refs.at("cosine.lr"));
    check_rates("linear", rates(plain<LinearLR>(0.25, 1.0, std::size_t{8})), refs.at("linear.lr"));
    check_rates("onecycle", rates(plain<OneCycleLR>(0.5, std::size_t{101})), refs.at("onecycle.lr"));
    check_rates("sequential", rates([](SGD& sgd) {
                    auto warm = std::make_shared<LinearLR>(sgd, 0.1, 1.0, 5);
                    auto cosine = std::make_shared<CosineAnnealingLR>(sgd, 50);
                    auto s = std::make_shared<SequentialLR>(
                        sgd, std::vector<std::shared_ptr<Scheduler>>{warm, cosine},
                        std::vector<std::size_t>{5});
                    return std::function<void()>([s] { s->step(); });
                }),
                refs.at("sequential.lr"));
    const Array metrics = refs.at("plateau.metrics");
    check_rates("plateau", rates([&metrics](SGD& sgd) {
                    auto s = std::make_shared<ReduceLROnPlateau>(
                        sgd, ReduceLROnPlateau::Mode::min, 0.5, 3, 1e-4, 2, 0.004);
                    auto t = std::make_shared<std::size_t>(0);
                    return std::function<void()>([s, t, &metrics] { s->step(metrics((*t)++)); });
                }),
                refs.at("plateau.lr"));
}

TEST_CASE("schedulers refuse settings that make no schedule") {
    const Tensor p(Array{0.0f}, true);
    SGD sgd({p}, 0.1f);
    CHECK_THROWS_WITH_AS(MultiStepLR(sgd, {10, 5}), doctest::Contains("MultiStepLR: milestones must increase, but 5 follows 10"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(StepLR(sgd, 0), doctest::Contains("StepLR: step_size must be at least 1"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(CosineAnnealingLR(sgd, 0), doctest::Contains("t_max must be at least 1"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(ExponentialLR(sgd, 0.0), doctest::Contains("gamma must be positive"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(OneCycleLR(sgd, 0.5, 10, 1.5), doctest::Contains("pct_start must be in (0, 1)"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(SequentialLR(sgd, {std::make_shared<StepLR>(sgd, 2)}, {3}),
                         doctest::Contains("needs one milestone fewer than schedulers"), std::invalid_argument);
    OneCycleLR cycle(sgd, 0.5, 3);
    cycle.step();
    cycle.step();
    CHECK_THROWS_WITH_AS(cycle.step(), doctest::Contains("OneCycleLR: step 3 is past total_steps = 3"),
                         std::invalid_argument);
    ReduceLROnPlateau plateau(sgd);
    CHECK_THROWS_WITH_AS(plateau.step(NAN), doctest::Contains("ReduceLROnPlateau: the metric is nan"),
                         std::invalid_argument);
}

TEST_CASE("AdamW decays the weights apart from the gradient, as PyTorch") {
    const auto refs = references();
    const Tensor p(refs.at("adamw.p0"), true);
    AdamW adamw({p}, 0.01f, {0.8f, 0.99f}, 1e-6f, 0.1f);
    const Array grads = refs.at("adamw.grads"), after = refs.at("adamw.after");
    for (std::size_t s = 0; s < 3; ++s) {
        p.mutable_grad() = Array(xt::view(grads, s));
        adamw.step();
        INFO("step " << s + 1);
        CHECK(xt::allclose(p.value(), Array(xt::view(after, s)), 1e-5, 1e-7));
    }
    CHECK(adamw.state().size() == 8);  // Adam's entries: 5 settings, step, exp_avg, exp_avg_sq
    CHECK_THROWS_WITH_AS(AdamW({p}, 0.01f, {1.0f, 0.9f}), doctest::Contains("AdamW: betas.first must be in [0, 1)"),
                         std::invalid_argument);
}

TEST_CASE("clip_grad_norm and clip_grad_value clip as PyTorch, and refuse a non-finite norm") {
    const auto refs = references();
    for (const char* name : {"clip2", "clipinf"}) {
        INFO(name);
        const std::string n = name;
        const Tensor a(xt::zeros<float>({4}), true), b(xt::zeros<float>({2, 3}), true);
        a.mutable_grad() = refs.at(n + ".a");
        b.mutable_grad() = refs.at(n + ".b");
        const double total = clip_grad_norm({a, b}, 1.0, n == "clip2" ? 2.0 : INFINITY);
        CHECK(total == doctest::Approx(refs.at(n + ".total")(0)).epsilon(1e-6));
        CHECK(xt::allclose(a.grad(), refs.at(n + ".a_clipped"), 1e-5, 1e-7));
        CHECK(xt::allclose(b.grad(), refs.at(n + ".b_clipped"), 1e-5, 1e-7));
    }
    const Tensor c(Array{0.0f, 0.0f}, true);
    c.mutable_grad() = Array{3.0f, -0.5f};
    clip_grad_value({c}, 1.0);
    CHECK(c.grad() == Array{1.0f, -0.5f});
    c.mutable_grad() = Array{NAN, 1.0f};
    CHECK_THROWS_WITH_AS(clip_grad_norm({c}, 1.0), doctest::Contains("clip_grad_norm: the total norm of order 2.000000 of the gradients is nan"),
                         std::invalid_argument);
    CHECK(c.grad()(1) == 1.0f);  // nothing changed
    CHECK(std::isnan(clip_grad_norm({c}, 1.0, 2.0, false)));
}

TEST_CASE("RMSprop (plain, and centered with momentum) and Adagrad take PyTorch's steps") {
    const auto refs = references();
    const Array grads = refs.at("adamw.grads");
    auto run = [&](const std::string& name, auto make) {
        INFO(name);
        const Tensor p(refs.at("adamw.p0"), true);
        auto optimizer = make(p);
        const Array after = refs.at(name + ".after");
        for (std::size_t s = 0; s < 3; ++s) {
            p.mutable_grad() = Array(xt::view(grads, s));
            optimizer.step();
            INFO("step " << s + 1);
            CHECK(xt::allclose(p.value(), Array(xt::view(after, s)), 1e-5, 1e-7));
        }
        return optimizer.state();
    };
    run("rmsprop", [](const Tensor& p) { return RMSprop({p}, 0.01f, 0.9f); });
    const NamedArrays saved = run("rmsprop_centered_momentum", [](const Tensor& p) {
        return RMSprop({p}, 0.01f, 0.9f, 1e-6f, 0.1f, 0.5f, true);
    });
    run("adagrad", [](const Tensor& p) { return Adagrad({p}, 0.1f, 0.1f, 0.05f, 0.1f); });

    // The state goes back in; a missing piece is an error naming it, and changes nothing.
    const Tensor q(refs.at("adamw.p0"), true);
    RMSprop again({q}, 0.01f, 0.9f, 1e-6f, 0.1f, 0.5f, true);
    again.load_state(saved);
    CHECK(again.state().size() == saved.size());
    NamedArrays partial;
    for (const auto& entry : saved)
        if (entry.first != "grad_avg.0") partial.push_back(entry);
    RMSprop other({q}, 0.01f, 0.9f, 1e-6f, 0.1f, 0.5f, true);
    CHECK_THROWS_WITH_AS(other.load_state(partial), doctest::Contains("RMSprop.load_state: parameter 0 needs square_avg.0, grad_avg.0"),
                         std::invalid_argument);
    CHECK(other.state().size() == 7);  // its settings only: nothing changed
    CHECK_THROWS_WITH_AS(Adagrad({q}, 0.1f, -1.0f), doctest::Contains("Adagrad: lr_decay must be >= 0"),
                         std::invalid_argument);
}
