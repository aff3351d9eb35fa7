// The code of the guides docs/add_an_op.md and docs/add_a_loss.md, compiled and checked.
// (Each guide shows its file in full; a test in examples/CMakeLists.txt keeps the two identical.)
#include "helpers.hpp"

#include "../docs/examples/my_loss.cpp"
#include "../docs/examples/my_op.cpp"

using namespace tapegrad;

TEST_CASE("the guide's softplus computes ln(1 + e^x) without overflow") {
    const Array y = my::softplus(Tensor(Array{0.0f, 1.0f, -1.0f, 100.0f, -100.0f})).value();
    CHECK(y(0) == doctest::Approx(std::log(2.0)));
    CHECK(y(1) == doctest::Approx(std::log1p(std::exp(1.0))));
    CHECK(y(2) == doctest::Approx(std::log1p(std::exp(-1.0))));
    CHECK(y(3) == doctest::Approx(100.0));  // ln(1 + e^100) overflows in float; this does not
    CHECK(y(4) == doctest::Approx(0.0));
}

TEST_CASE("the guide's softplus passes gradcheck") { CHECK_GRAD(my::check_softplus()); }

TEST_CASE("the guide's softplus has the gradient sigmoid(x) and is one record") {
    Tensor x(Array{0.0f, 2.0f}, true);
    Tensor y = my::softplus(x);
    REQUIRE(Tape::current().size() == 1);
    CHECK(std::string(Tape::current()[0].op) == "softplus");
    y.backward(Array{1.0f, 1.0f});
    CHECK(x.grad()(0) == doctest::Approx(0.5));
    CHECK(x.grad()(1) == doctest::Approx(1.0 / (1.0 + std::exp(-2.0))));
}

TEST_CASE("the guide's log_cosh is in the registry once registered") {
    my::register_log_cosh();
    my::register_log_cosh();  // a second call does nothing
    const nn::LossRegistry& registry = nn::LossRegistry::instance();
    CHECK(registry.contains("log_cosh"));
    CHECK(registry.names().back() == "log_cosh");
    CHECK(registry.info("log_cosh").differentiable);
}

TEST_CASE("the guide's log_cosh computes ln cosh(a - y) without overflow") {
    my::register_log_cosh();
    auto loss = nn::LossRegistry::instance().get("log_cosh", Reduction::none);
    const Tensor prediction(Array{1.0f, 0.0f, 100.0f}), target(Array{1.0f, 1.0f, 0.0f});
    const Array l = loss(prediction, target).value();
    CHECK(l(0) == doctest::Approx(0.0));
    CHECK(l(1) == doctest::Approx(std::log(std::cosh(1.0))));
    CHECK(l(2) == doctest::Approx(100.0 - std::log(2.0)));  // cosh(100) is inf in float
}

TEST_CASE("the guide's log_cosh passes gradcheck through the registry") {
    CHECK_GRAD(my::check_log_cosh());
}

TEST_CASE("the guide's log_cosh names both shapes when they differ") {
    CHECK_THROWS_WITH_AS(my::log_cosh(Tensor(Array{1.0f, 2.0f}), Tensor(Array{1.0f})),
                         "log_cosh: the prediction is [2] but the target is [1]; they must have "
                         "one shape",
                         std::invalid_argument);
}
