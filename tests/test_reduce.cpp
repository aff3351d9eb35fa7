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
