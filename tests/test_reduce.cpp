#include "helpers.hpp"

using namespace tapegrad;
using test::random_array;

TEST_CASE("sum and mean compute values by hand") {
    Tensor x(Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
    CHECK(sum(x).item() == 21.0f);
    CHECK(mean(x).item() == doctest::Approx(3.5));
    CHECK(sum(x).dim() == 0);
    CHECK(sum(x, 0).value() == Array{5.0f, 7.0f, 9.0f});
    CHECK(sum(x, -1).value() == Array{6.0f, 15.0f});
    CHECK(mean(x, 1).value() == Array{2.0f, 5.0f});
    CHECK(sum(x, 1, true).shape() == Shape{2, 1});
    CHECK(mean(x, {0, 1}).item() == doctest::Approx(3.5));
}

TEST_CASE("gradcheck of sum and mean over every axis choice") {
    const std::vector<Array> in{random_array({2, 3, 4}, -1, 1, 11)};
    CHECK_GRAD(gradcheck([](const auto& t) { return sum(t[0]); }, in));
    CHECK_GRAD(gradcheck([](const auto& t) { return mean(t[0]); }, in));
    for (int axis : {0, 1, 2, -1}) {
        CAPTURE(axis);
        for (bool keep : {false, true}) {
            CHECK_GRAD(gradcheck([=](const auto& t) { return sum(t[0], axis, keep); }, in));
            CHECK_GRAD(gradcheck([=](const auto& t) { return mean(t[0], axis, keep); }, in));
        }
    }
    CHECK_GRAD(gradcheck([](const auto& t) { return mean(t[0], {0, 2}, true); }, in));
}

TEST_CASE("a bad axis is an error naming the axis and the rank") {
    Tensor x(xt::zeros<float>({2, 3}));
    CHECK_THROWS_WITH_AS(sum(x, 2), "sum: axis 2 is out of range for a tensor of rank 2",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(mean(x, -3), doctest::Contains("axis -3"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(sum(x, {1, -1}), doctest::Contains("twice"), std::invalid_argument);
}

TEST_CASE("max and min over all or one axis share a tie's gradient, as torch.amax") {
    Tensor x(Array{{1.0f, 7.0f, 7.0f}, {4.0f, -2.0f, 0.0f}}, true);
    CHECK(max(x).value()() == 7.0f);
    CHECK(min(x).value()() == -2.0f);
    CHECK(max(x, 1).value() == Array{7.0f, 4.0f});
    CHECK(max(x, -2, true).value() == Array{{4.0f, 7.0f, 7.0f}});
    CHECK(min(x, 0).value() == Array{1.0f, -2.0f, 0.0f});
    sum(max(x, 1)).backward();
    CHECK(x.grad() == Array{{0.0f, 0.5f, 0.5f}, {1.0f, 0.0f, 0.0f}});
    x.zero_grad();
    max(x).backward();
    CHECK(x.grad() == Array{{0.0f, 0.5f, 0.5f}, {0.0f, 0.0f, 0.0f}});
    CHECK_THROWS_WITH_AS(max(x, 2), doctest::Contains("max: axis 2 is out of range"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(max(Tensor(Array::from_shape({0}))), doctest::Contains("max: the tensor is empty"),
                         std::invalid_argument);
    const Array a = random_array({3, 4}, -1.0f, 1.0f, 51);
    CHECK_GRAD(gradcheck([](const auto& t) { return max(t[0], 0) * min(t[0], 1, true); }, {a}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return square(max(t[0], -1)); }, {a}));
}

TEST_CASE("argmax and argmin give the first extreme index as a float, without a gradient") {
    Tensor x(Array{{1.0f, 7.0f, 7.0f}, {4.0f, -2.0f, 4.0f}}, true);
    CHECK(argmax(x, 1).value() == Array{1.0f, 0.0f});
    CHECK(argmin(x, 1).value() == Array{0.0f, 1.0f});
    CHECK(argmax(x, 0, true).value() == Array{{1.0f, 0.0f, 0.0f}});
    CHECK_FALSE(argmax(x, 0).requires_grad());
}

TEST_CASE("logsumexp is ln sum e^x, stable at +-1000, with the softmax as gradient") {
    Tensor x(Array{{0.0f, std::log(3.0f)}, {1000.0f, 1000.0f}}, true);
    Tensor y = logsumexp(x, 1);
    CHECK(y.value()(0) == doctest::Approx(std::log(4.0f)));
    CHECK(y.value()(1) == doctest::Approx(1000.0f + std::log(2.0f)));
    CHECK(logsumexp(Tensor(Array{-1000.0f, -1000.0f}), 0).value()() ==
          doctest::Approx(-1000.0f + std::log(2.0f)));
    sum(y).backward();
    CHECK(xt::allclose(x.grad(), Array{{0.25f, 0.75f}, {0.5f, 0.5f}}));
    const Array a = random_array({3, 4}, -2.0f, 2.0f, 52);
    CHECK_GRAD(gradcheck([](const auto& t) { return logsumexp(t[0], 0, true) * t[0]; }, {a}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return logsumexp(t[0], -1); }, {a}));
}

TEST_CASE("var and stddev follow torch's correction, and refuse one without degrees of freedom") {
    Tensor x(Array{{1.0f, 2.0f, 3.0f, 4.0f}, {2.0f, 2.0f, 2.0f, 2.0f}}, true);
    CHECK(xt::allclose(var(x, 1).value(), Array{5.0f / 3.0f, 0.0f}));
    CHECK(xt::allclose(var(x, 1, true, 0).value(), Tensor::from({1.25f, 0.0f}, {2, 1}).value()));
    // mean 2.25; squared deviations 1.5625 + 0.0625 + 0.5625 + 3.0625 + 4 * 0.0625 = 5.5
    CHECK(var(x).value()() == doctest::Approx(5.5 / 7));
    CHECK(xt::allclose(stddev(x, 1).value(), Array{std::sqrt(5.0f / 3.0f), 0.0f}));
    sum(var(x, 1)).backward();  // dx = 2 (x - mean) / (n - 1)
    CHECK(xt::allclose(x.grad(), Array{{-1.0f, -1.0f / 3, 1.0f / 3, 1.0f}, {0.0f, 0.0f, 0.0f, 0.0f}}));
    CHECK_THROWS_WITH_AS(var(Tensor::from({1.0f, 2.0f}, {2, 1}), 1),
                         doctest::Contains("var: correction 1 leaves no degrees of freedom for 1 element"),
                         std::invalid_argument);
    const Array a = random_array({3, 4}, -2.0f, 2.0f, 53);
    CHECK_GRAD(gradcheck([](const auto& t) { return var(t[0], 1) * stddev(t[0], 1, false, 0); }, {a}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return var(t[0], {0, 1}, true, 0); }, {a}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return stddev(t[0], 0); }, {a}));
}
