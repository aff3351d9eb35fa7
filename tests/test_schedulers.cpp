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
    check_rates("step", rates(plain<StepLR>(StepLROptions(7).gamma(0.5))), refs.at("step.lr"));
    check_rates("multistep",
                rates(plain<MultiStepLR>(MultiStepLROptions({10, 25, 60}).gamma(0.3))),
                refs.at("multistep.lr"));
    check_rates("exponential", rates(plain<ExponentialLR>(0.97)), refs.at("exponential.lr"));
    check_rates("cosine", rates(plain<CosineAnnealingLR>(CosineAnnealingLROptions(30).eta_min(0.001))), refs.at("cosine.lr"));
    check_rates("linear", rates(plain<LinearLR>(LinearLROptions().start_factor(0.25).end_factor(1.0).total_iters(8))), refs.at("linear.lr"));
    check_rates("onecycle", rates(plain<OneCycleLR>(OneCycleLROptions(0.5, 101))), refs.at("onecycle.lr"));
    check_rates("sequential", rates([](SGD& sgd) {
                    auto warm = std::make_shared<LinearLR>(sgd, LinearLROptions().start_factor(0.1).total_iters(5));
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
                        sgd, ReduceLROnPlateauOptions().factor(0.5).patience(3).cooldown(2).min_lr(0.004));
                    auto t = std::make_shared<std::size_t>(0);
                    return std::function<void()>([s, t, &metrics] { s->step(metrics((*t)++)); });
                }),
                refs.at("plateau.lr"));
    // threshold_mode abs with mode max, and eps skipping a change too small.
    const Array accuracy = refs.at("plateau_abs_max.metrics");
    check_rates("plateau_abs_max", rates([&accuracy](SGD& sgd) {
                    auto s = std::make_shared<ReduceLROnPlateau>(
                        sgd, ReduceLROnPlateauOptions()
                                 .mode(ReduceLROnPlateau::Mode::max)
                                 .factor(0.3)
                                 .patience(2)
                                 .threshold(0.01)
                                 .threshold_mode(ReduceLROnPlateau::ThresholdMode::abs));
                    auto t = std::make_shared<std::size_t>(0);
                    return std::function<void()>([s, t, &accuracy] { s->step(accuracy((*t)++)); });
                }),
                refs.at("plateau_abs_max.lr"));
    check_rates("plateau_eps", rates([&metrics](SGD& sgd) {
                    auto s = std::make_shared<ReduceLROnPlateau>(
                        sgd, ReduceLROnPlateauOptions().factor(0.5).patience(1).min_lr(0.03).eps(0.025));
                    auto t = std::make_shared<std::size_t>(0);
                    return std::function<void()>([s, t, &metrics] { s->step(metrics((*t)++)); });
                }),
                refs.at("plateau_eps.lr"));
}

TEST_CASE("schedulers refuse settings that make no schedule") {
    const Tensor p(Array{0.0f}, true);
    SGD sgd({p}, 0.1f);
    CHECK_THROWS_WITH_AS(MultiStepLR(sgd, MultiStepLROptions({10, 5})), doctest::Contains("MultiStepLR: milestones must increase, but 5 follows 10"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(StepLR(sgd, 0), doctest::Contains("StepLR: step_size must be at least 1"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(CosineAnnealingLR(sgd, 0), doctest::Contains("T_max must be at least 1"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(ExponentialLR(sgd, 0.0), doctest::Contains("gamma must be positive"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(OneCycleLR(sgd, OneCycleLROptions(0.5, 10).pct_start(1.5)), doctest::Contains("pct_start must be in (0, 1)"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(SequentialLR(sgd, {std::make_shared<StepLR>(sgd, 2)}, {3}),
                         doctest::Contains("needs one milestone fewer than schedulers"), std::invalid_argument);
    OneCycleLR cycle(sgd, OneCycleLROptions(0.5, 3));
    for (int t = 0; t < 3; ++t) cycle.step();  // as torch: step total_steps is the last one
    // Its rate by torch's formula: the second phase's cosine from max_lr to max_lr / 25 / 1e4
    // over steps 0.3 * 3 - 1 to 2, at step 3 (a fraction past 1).
    const double end = 0.5 / 25 / 1e4, pct = (3 - (0.3 * 3 - 1)) / (2 - (0.3 * 3 - 1));
    CHECK(sgd.lr() == static_cast<float>(end + (0.5 - end) / 2 * (std::cos(M_PI * pct) + 1)));
    CHECK_THROWS_WITH_AS(cycle.step(), doctest::Contains("OneCycleLR: step 4 is past total_steps = 3"),
                         std::invalid_argument);
    ReduceLROnPlateau plateau(sgd);
    CHECK_THROWS_WITH_AS(plateau.step(NAN), doctest::Contains("ReduceLROnPlateau: the metric is nan"),
                         std::invalid_argument);
}

TEST_CASE("AdamW decays the weights apart from the gradient, as PyTorch") {
    const auto refs = references();
    const Tensor p(refs.at("adamw.p0"), true);
    AdamW adamw({p}, AdamWOptions(0.01).betas({0.8, 0.99}).eps(1e-6).weight_decay(0.1));
    const Array grads = refs.at("adamw.grads"), after = refs.at("adamw.after");
    for (std::size_t s = 0; s < 3; ++s) {
        p.mutable_grad() = Array(xt::view(grads, s));
        adamw.step();
        INFO("step " << s + 1);
        CHECK(xt::allclose(p.value(), Array(xt::view(after, s)), 1e-5, 1e-7));
    }
    CHECK(adamw.state().size() == 9);  // Adam's entries: 6 settings, step, exp_avg, exp_avg_sq
    CHECK_THROWS_WITH_AS(AdamW({p}, AdamWOptions(0.01).betas({1.0, 0.9})), doctest::Contains("AdamW: betas.first must be in [0, 1)"),
                         std::invalid_argument);
}

TEST_CASE("SGD's dampening and Adam's and AdamW's amsgrad take PyTorch's steps, and their states resume them") {
    const auto refs = references();
    auto run = [&](const std::string& name, Optimizer& optimizer, const Tensor& p, const Array& grads) {
        INFO(name);
        const Array after = refs.at(name + ".after");
        for (std::size_t s = 0; s < grads.shape()[0]; ++s) {
            p.mutable_grad() = Array(xt::view(grads, s));
            optimizer.step();
            INFO("step " << s + 1);
            CHECK(xt::allclose(p.value(), Array(xt::view(after, s)), 1e-5, 1e-7));
        }
    };
    const Array p0 = refs.at("adamw.p0"), grads = refs.at("adamw.grads"),
                shrinking = refs.at("amsgrad.grads");
    const Tensor a(p0, true), b(p0, true), c(p0, true);
    SGD sgd({a}, SGDOptions(0.1).momentum(0.9).dampening(0.3).weight_decay(0.05));
    run("sgd_dampening", sgd, a, grads);
    Adam adam({b}, AdamOptions(0.01).betas({0.8, 0.99}).eps(1e-6).weight_decay(0.1).amsgrad(true));
    run("adam_amsgrad", adam, b, shrinking);
    AdamW adamw({c}, AdamWOptions(0.01).betas({0.8, 0.99}).eps(1e-6).weight_decay(0.1).amsgrad(true));
    run("adamw_amsgrad", adamw, c, shrinking);
    // The state carries dampening, amsgrad and v_max: a fresh AdamW continues bit for bit.
    const Tensor d(Array(c.value()), true);
    AdamW resumed({d});
    resumed.load_state(adamw.state());
    CHECK(resumed.amsgrad());
    for (const Tensor& t : {c, d}) t.mutable_grad() = Array(xt::view(shrinking, 5)) * 0.1f;
    adamw.step();
    resumed.step();
    CHECK(d.value() == c.value());
    SGD sgd2({Tensor(p0, true)}, 0.5);
    sgd2.load_state(sgd.state());
    CHECK(sgd2.dampening() == 0.3f);
    CHECK_THROWS_WITH_AS(SGD({a}, SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)),
                         doctest::Contains("Nesterov momentum requires a momentum > 0 and dampening 0"),
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
    run("rmsprop", [](const Tensor& p) { return RMSprop({p}, RMSpropOptions(0.01).alpha(0.9)); });
    const State saved = run("rmsprop_centered_momentum", [](const Tensor& p) {
        return RMSprop({p}, RMSpropOptions(0.01).alpha(0.9).eps(1e-6).weight_decay(0.1).momentum(0.5).centered(true));
    });
    run("adagrad", [](const Tensor& p) { return Adagrad({p}, AdagradOptions(0.1).lr_decay(0.1).weight_decay(0.05).initial_accumulator_value(0.1)); });

    // The state goes back in; a missing piece is an error naming it, and changes nothing.
    const Tensor q(refs.at("adamw.p0"), true);
    RMSprop again({q}, RMSpropOptions(0.01).alpha(0.9).eps(1e-6).weight_decay(0.1).momentum(0.5).centered(true));
    again.load_state(saved);
    CHECK(again.state().size() == saved.size());
    State partial;
    for (const auto& [name, value] : saved)
        if (name != "grad_avg.0") partial.put(name, value);
    RMSprop other({q}, RMSpropOptions(0.01).alpha(0.9).eps(1e-6).weight_decay(0.1).momentum(0.5).centered(true));
    CHECK_THROWS_WITH_AS(other.load_state(partial), doctest::Contains("RMSprop.load_state: parameter 0 needs square_avg.0, grad_avg.0"),
                         std::invalid_argument);
    CHECK(other.state().size() == 7);  // its settings only: nothing changed
    CHECK_THROWS_WITH_AS(Adagrad({q}, AdagradOptions(0.1).lr_decay(-1.0)), doctest::Contains("Adagrad: lr_decay must be >= 0"),
                         std::invalid_argument);
}

// ---- parameter groups ---------------------------------------------------------------------------

TEST_CASE("parameter groups: AdamW and a cosine schedule per group take PyTorch's steps") {
    const std::map<std::string, Array> ref = references();
    const Array p0 = ref.at("adamw.p0"), grads = ref.at("adamw.grads");
    const Tensor a(p0, true), b(xt::eval(xt::flip(p0, 0)), true);
    AdamW adamw({ParamGroup({a}), ParamGroup({b}, /*lr=*/0.05f, /*weight_decay=*/0.0f)}, AdamWOptions(0.01).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.1));
    REQUIRE(adamw.group_count() == 2);
    CHECK(adamw.group_of(1) == 1);
    CosineAnnealingLR schedule(adamw, 4);
    for (std::size_t t = 0; t < 3; ++t) {
        const Array g = xt::view(grads, t);
        a.mutable_grad() = g;
        b.mutable_grad() = xt::eval(xt::flip(g, 0));
        adamw.step();
        schedule.step();
        test::check_close("a after step " + std::to_string(t), a.value(), xt::view(ref.at("groups.after_a"), t));
        test::check_close("b after step " + std::to_string(t), b.value(), xt::view(ref.at("groups.after_b"), t));
        CHECK(adamw.lr(0) == doctest::Approx(ref.at("groups.lrs")(t, 0)).epsilon(1e-6));
        CHECK(adamw.lr(1) == doctest::Approx(ref.at("groups.lrs")(t, 1)).epsilon(1e-6));
        CHECK(schedule.last_lrs()[1] == doctest::Approx(ref.at("groups.lrs")(t, 1)).epsilon(1e-6));
    }
}

TEST_CASE("parameter groups: SGD steps each group with its own rate and weight decay") {
    const Tensor w(Array{1.0f, 2.0f}, true), b(Array{3.0f}, true);
    SGD sgd({ParamGroup({w}, {}, 0.5f), ParamGroup({b}, 0.01f)}, 0.1f);
    sum(w * w + 0.0f).backward();  // dw = 2w
    sum(b).backward();             // db = 1
    sgd.step();
    // w - 0.1 (2w + 0.5w) = 0.75 w;  b - 0.01 * 1
    CHECK(w.value() == Array{0.75f, 1.5f});
    CHECK(b.value()(0) == doctest::Approx(2.99f));
    sgd.set_lr(0.2f);  // every group
    CHECK(sgd.lr(1) == 0.2f);
    CHECK_THROWS_WITH_AS(sgd.lr(2), "SGD: there is no parameter group 2; there are 2", std::out_of_range);
    CHECK_THROWS_WITH_AS(SGD({ParamGroup({w}), ParamGroup({})}, 0.1f), "SGD: parameter group 1 is empty", std::invalid_argument);
    CHECK_THROWS_WITH_AS(SGD({ParamGroup({w}), ParamGroup({b}, -1.0f)}, 0.1f),
                         "SGD: group 1's learning rate must be >= 0, but it is -1", std::invalid_argument);
    CHECK_THROWS_WITH_AS(SGD({ParamGroup({w}), ParamGroup({w})}, 0.1f), doctest::Contains("is the same tensor as parameter 0"),
                         std::invalid_argument);
}

TEST_CASE("decay_groups leaves vectors (biases, norm weights) out of weight decay") {
    nn::Sequential model{nn::Linear(3, 4), nn::LayerNorm({4}), nn::Linear(nn::LinearOptions(4, 2).bias(false))};
    const std::vector<ParamGroup> groups = decay_groups(model.parameters());
    REQUIRE(groups.size() == 2);
    CHECK(groups[0].params.size() == 2);  // the two weight matrices
    CHECK_FALSE(groups[0].weight_decay.has_value());
    CHECK(groups[1].params.size() == 3);  // a bias, the norm's weight and bias
    CHECK(groups[1].weight_decay == 0.0f);
    AdamW adamw(decay_groups(model.parameters()), 1e-3f);
    CHECK(adamw.params().size() == 5);
}

TEST_CASE("a state saved with groups loads only into the same groups, rates included") {
    const Tensor w(Array{1.0f}, true), b(Array{2.0f}, true);
    SGD grouped({ParamGroup({w}), ParamGroup({b}, 0.5f)}, SGDOptions(0.1).momentum(0.9));
    const State state = grouped.state();
    SGD again({ParamGroup({w}), ParamGroup({b}, 0.7f)}, SGDOptions(0.1).momentum(0.9));
    again.load_state(state);
    CHECK(again.lr(1) == 0.5f);
    SGD flat({w, b}, SGDOptions(0.1).momentum(0.9));
    CHECK_THROWS_WITH_AS(flat.load_state(state), doctest::Contains("the state is for 2 parameter groups, but this optimizer has 1"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(grouped.load_state(flat.state()),
                         doctest::Contains("the state is for 1 parameter group, but this optimizer has 2"),
                         std::invalid_argument);
}

// ---- scheduler state ----------------------------------------------------------------------------

TEST_CASE("a scheduler's state resumes its rates exactly") {
    const Tensor p(Array{0.0f}, true);
    SGD sgd({p}, 0.1f);
    auto warm = std::make_shared<LinearLR>(sgd, LinearLROptions().start_factor(0.1).total_iters(3));
    auto cosine = std::make_shared<CosineAnnealingLR>(sgd, 10);
    SequentialLR schedule(sgd, {warm, cosine}, {3});
    for (int t = 0; t < 5; ++t) schedule.step();
    const State state = schedule.state();

    SGD sgd2({p}, 0.1f);
    auto warm2 = std::make_shared<LinearLR>(sgd2, LinearLROptions().start_factor(0.1).total_iters(3));
    auto cosine2 = std::make_shared<CosineAnnealingLR>(sgd2, 10);
    SequentialLR resumed(sgd2, {warm2, cosine2}, {3});
    resumed.load_state(state);
    CHECK(resumed.epoch() == 5);
    CHECK(sgd2.lr() == sgd.lr());
    for (int t = 0; t < 4; ++t) {
        schedule.step();
        resumed.step();
        CHECK(sgd2.lr() == sgd.lr());
    }
    CHECK_THROWS_WITH_AS(resumed.load_state({{"epoch", Array{3.0f}}}),
                         "SequentialLR.load_state: 'epoch' must be one int64 number, but it is float32 [1]",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(resumed.load_state({{"epochs", xt::xarray<std::int64_t>(3)}}),
                         "SequentialLR.load_state: the state has no 'epoch'", std::invalid_argument);
    CHECK_THROWS_WITH_AS(resumed.load_state({{"epoch", xt::xarray<std::int64_t>(3)},
                                             {"epochs", xt::xarray<std::int64_t>(3)}}),
                         "SequentialLR.load_state: 'epochs' is not a known entry; the known ones are epoch",
                         std::invalid_argument);
    CHECK(resumed.epoch() == 9);  // unchanged by the failed loads
    CHECK_THROWS_WITH_AS(SequentialLR(sgd2, {warm, cosine2}, {3}),
                         "SequentialLR: scheduler 0 (LinearLR) was made for another optimizer",
                         std::invalid_argument);
}

TEST_CASE("ReduceLROnPlateau's state resumes its counters and rates") {
    const Tensor p(Array{0.0f}, true);
    SGD sgd({p}, 0.1f);
    ReduceLROnPlateau plateau(sgd, ReduceLROnPlateauOptions().factor(0.5).patience(1));
    for (double metric : {1.0, 0.9, 0.95, 0.95}) plateau.step(metric);  // lowered once
    CHECK(sgd.lr() == doctest::Approx(0.05f));
    SGD sgd2({p}, 0.1f);
    ReduceLROnPlateau resumed(sgd2, ReduceLROnPlateauOptions().factor(0.5).patience(1));
    resumed.load_state(plateau.state());
    CHECK(sgd2.lr() == sgd.lr());
    for (double metric : {0.95, 0.95, 0.95, 0.5, 0.6}) {
        plateau.step(metric);
        resumed.step(metric);
        CHECK(sgd2.lr() == sgd.lr());
        CHECK(resumed.last_lr() == plateau.last_lr());
    }
}
