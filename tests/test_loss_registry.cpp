#include <algorithm>
#include <cmath>

#include "helpers.hpp"

using namespace tapegrad;
using nn::LossOptions;
using nn::LossRegistry;

TEST_CASE("names lists the seven losses and log_with_logits") {
    const std::vector<std::string> names = LossRegistry::instance().names();
    for (const char* name : {"zero_one", "absolute", "hinge", "log", "squared", "exponential",
                             "cross_entropy", "log_with_logits"})
        CHECK_MESSAGE(std::find(names.begin(), names.end(), name) != names.end(), name);
    CHECK(names.size() >= 8);
    CHECK(std::vector<std::string>(names.begin(), names.begin() + 8) ==
          std::vector<std::string>{"zero_one", "absolute", "hinge", "log", "squared",
                                   "exponential", "cross_entropy", "log_with_logits"});
}

TEST_CASE("every entry has a description and only zero_one is not differentiable") {
    for (const std::string& name : LossRegistry::instance().names()) {
        const nn::LossInfo info = LossRegistry::instance().info(name);
        CHECK(info.name == name);
        CHECK_FALSE(info.description.empty());
        if (name == "zero_one") CHECK_FALSE(info.differentiable);
    }
    CHECK(LossRegistry::instance().info("cross_entropy").differentiable);
    CHECK(LossRegistry::instance().info("log_with_logits").differentiable);
}

TEST_CASE("get returns the loss with the mean by default") {
    auto squared = LossRegistry::instance().get("squared");
    Tensor a(Array{1.0f, 3.0f, 3.0f}), y(Array{1.0f, 1.0f, 1.0f});
    CHECK(squared(a, y).item() == doctest::Approx(8.0 / 3));
    auto absolute = LossRegistry::instance().get("absolute");
    CHECK(absolute(a, y).item() == doctest::Approx(4.0 / 3));
}

TEST_CASE("get with a reduction or options gives sum and none") {
    Tensor a(Array{1.0f, 3.0f, 3.0f}), y(Array{1.0f, 1.0f, 1.0f});
    CHECK(LossRegistry::instance().get("squared", Reduction::sum)(a, y).item() ==
          doctest::Approx(8.0));
    LossOptions options;
    options.reduction = Reduction::none;
    CHECK(LossRegistry::instance().get("squared", options)(a, y).value() ==
          Array{0.0f, 4.0f, 4.0f});
}

TEST_CASE("every registered built-in computes the loss of its ops function") {
    auto& registry = LossRegistry::instance();
    Tensor scores(Array{{1.0f, 5.0f, 3.0f}, {2.0f, 0.0f, -1.0f}});
    Tensor labels(Array{1.0f, 1.0f});
    CHECK(registry.get("cross_entropy")(scores, labels).item() ==
          doctest::Approx(cross_entropy(scores, labels).item()));
    CHECK(registry.get("zero_one")(scores, labels).item() == doctest::Approx(0.5));
    Tensor z(Array{0.5f, -1.0f}), pm(Array{1.0f, 0.0f});
    CHECK(registry.get("hinge")(z, pm).item() == doctest::Approx((0.5 + 0.0) / 2));
    CHECK(registry.get("exponential")(z, pm).item() ==
          doctest::Approx((std::exp(-0.5) + std::exp(-1.0)) / 2));
    Tensor p(Array{0.6f, 0.7f}), ones(Array{1.0f, 1.0f});
    CHECK(registry.get("log")(p, ones).item() ==
          doctest::Approx((-std::log(0.6) - std::log(0.7)) / 2));
    CHECK(registry.get("log_with_logits")(z, ones).item() ==
          doctest::Approx((std::log1p(std::exp(-0.5)) + std::log1p(std::exp(1.0))) / 2));
}

TEST_CASE("cross_entropy with use_softmax off takes probabilities") {
    LossOptions options;
    options.use_softmax = false;
    auto ce = LossRegistry::instance().get("cross_entropy", options);
    Tensor a(Array{{0.6f, 0.3f, 0.1f}});
    CHECK(ce(a, Tensor(Array{0.0f})).item() == doctest::Approx(0.5108).epsilon(1e-3));
    CHECK(ce(a, Tensor(Array{2.0f})).item() == doctest::Approx(2.3026).epsilon(1e-3));
}

TEST_CASE("use_softmax off for a loss other than cross_entropy is an error") {
    LossOptions options;
    options.use_softmax = false;
    CHECK_THROWS_WITH_AS(LossRegistry::instance().get("squared", options),
                         doctest::Contains("cross_entropy only"), std::invalid_argument);
}

TEST_CASE("an unknown name is an error that lists the known names") {
    CHECK_THROWS_WITH_AS(
        LossRegistry::instance().get("mean_squared"),
        doctest::Contains("there is no loss named 'mean_squared'; the known losses are: zero_one, "
                          "absolute, hinge, log, squared, exponential, cross_entropy, "
                          "log_with_logits, mse, l1, bce, bce_with_logits, nll, smooth_l1, huber, "
                          "kl_div"),
        std::invalid_argument);
    CHECK_FALSE(LossRegistry::instance().contains("mean_squared"));
}

TEST_CASE("add registers a user loss that get returns with every reduction") {
    auto& registry = LossRegistry::instance();
    // The quartic loss (a - y)^4, written from ops; the registry applies the reduction.
    if (!registry.contains("quartic"))
        registry.add("quartic",
                     [](const Tensor& a, const Tensor& y) { return pow(a - y, 4.0f); },
                     "(a - y)^4 elementwise");
    CHECK(registry.contains("quartic"));
    CHECK(registry.info("quartic").description == "(a - y)^4 elementwise");
    CHECK(registry.info("quartic").differentiable);
    const auto names = registry.names();
    CHECK(std::find(names.begin(), names.end(), "quartic") != names.end());

    Tensor a(Array{1.0f, 3.0f}, true), y(Array{0.0f, 1.0f});
    CHECK(registry.get("quartic", Reduction::sum)(a, y).item() == doctest::Approx(17.0));
    CHECK(registry.get("quartic", Reduction::none)(a, y).value() == Array{1.0f, 16.0f});
    Tensor loss = registry.get("quartic")(a, y);
    CHECK(loss.item() == doctest::Approx(8.5));
    loss.backward();
    CHECK(a.grad()(1) == doctest::Approx(4.0 * 8.0 / 2));  // 4 (a - y)^3 / n
}

TEST_CASE("add refuses a name that is taken or empty") {
    auto fn = [](const Tensor& a, const Tensor&) { return a; };
    CHECK_THROWS_WITH_AS(LossRegistry::instance().add("squared", fn, "again"),
                         doctest::Contains("'squared' is already registered"),
                         std::invalid_argument);
    CHECK_THROWS_AS(LossRegistry::instance().add("", fn, "no name"), std::invalid_argument);
    CHECK_THROWS_AS(LossRegistry::instance().add("empty_fn", nn::LossFn(), "no function"),
                    std::invalid_argument);
}

TEST_CASE("zero_one from the registry throws on backward") {
    Tensor scores(Array{{0.1f, 0.7f}}, true);
    Tensor loss = LossRegistry::instance().get("zero_one")(scores, Tensor(Array{0.0f}));
    CHECK(loss.item() == doctest::Approx(1.0));
    CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("train with cross_entropy or hinge"),
                         std::logic_error);
}

TEST_CASE("gradcheck through the registry for every differentiable loss") {
    auto& registry = LossRegistry::instance();
    struct Case {
        const char* name;
        Array prediction, target;
    };
    const Case cases[] = {
        {"absolute", Array{0.5f, -1.0f, 2.0f}, Array{0.0f, 0.0f, 1.0f}},
        {"hinge", Array{0.5f, -2.0f, 0.2f}, Array{1.0f, 1.0f, 0.0f}},
        {"log", Array{0.3f, 0.6f, 0.8f}, Array{1.0f, 0.0f, 1.0f}},
        {"squared", Array{0.5f, -1.0f, 2.0f}, Array{0.0f, 0.0f, 1.0f}},
        {"exponential", Array{0.5f, -1.0f, 0.2f}, Array{1.0f, -1.0f, 0.0f}},
        {"cross_entropy", Array{{1.0f, 5.0f, 3.0f}, {0.0f, -1.0f, 1.0f}}, Array{1.0f, 2.0f}},
        {"log_with_logits", Array{0.5f, -1.0f, 2.0f}, Array{1.0f, 0.0f, 1.0f}},
    };
    GradcheckOptions o;
    o.eps = 1e-4;
    for (const Case& c : cases)
        for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none}) {
            INFO(c.name);
            auto fn = registry.get(c.name, r);
            CHECK_GRAD(gradcheck([&](const std::vector<Tensor>& x) {
                return fn(x[0], Tensor(c.target));
            }, {c.prediction}, o));
        }
}
