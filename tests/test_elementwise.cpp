#include "helpers.hpp"

using namespace tapegrad;
using test::away_from_zero;
using test::random_array;

namespace {

Tensor add_fn(const std::vector<Tensor>& t) { return t[0] + t[1]; }
Tensor sub_fn(const std::vector<Tensor>& t) { return t[0] - t[1]; }
Tensor mul_fn(const std::vector<Tensor>& t) { return t[0] * t[1]; }
Tensor div_fn(const std::vector<Tensor>& t) { return t[0] / t[1]; }

}  // namespace

TEST_CASE("binary ops compute values by hand") {
    Tensor a(Array{1.0f, 2.0f, 3.0f}), b(Array{4.0f, 5.0f, 8.0f});
    CHECK((a + b).value() == Array{5.0f, 7.0f, 11.0f});
    CHECK((a - b).value() == Array{-3.0f, -3.0f, -5.0f});
    CHECK((a * b).value() == Array{4.0f, 10.0f, 24.0f});
    CHECK((b / a).value()(2) == doctest::Approx(8.0f / 3.0f));
    CHECK((-a).value() == Array{-1.0f, -2.0f, -3.0f});
}

TEST_CASE("binary ops broadcast as numpy does") {
    Array column{1.0f, 2.0f};
    column.reshape({2, 1});
    Tensor a(column);
    Tensor b(Array{10.0f, 20.0f, 30.0f});      // [3]
    Tensor c = a + b;                          // [2, 3]
    REQUIRE(c.shape() == Shape{2, 3});
    CHECK(c.value()(1, 2) == 32.0f);
}

TEST_CASE("binary ops with a float on either side") {
    Tensor a(Array{2.0f, 4.0f});
    CHECK((a + 1.0f).value() == Array{3.0f, 5.0f});
    CHECK((1.0f + a).value() == Array{3.0f, 5.0f});
    CHECK((a - 1.0f).value() == Array{1.0f, 3.0f});
    CHECK((1.0f - a).value() == Array{-1.0f, -3.0f});
    CHECK((a * 3.0f).value() == Array{6.0f, 12.0f});
    CHECK((3.0f * a).value() == Array{6.0f, 12.0f});
    CHECK((a / 2.0f).value() == Array{1.0f, 2.0f});
    CHECK((8.0f / a).value() == Array{4.0f, 2.0f});
}

TEST_CASE("gradcheck of add sub mul div on equal shapes") {
    const std::vector<Array> in{random_array({3, 4}, -1, 1, 1), random_array({3, 4}, 0.5f, 2, 2)};
    CHECK_GRAD(gradcheck(add_fn, in));
    CHECK_GRAD(gradcheck(sub_fn, in));
    CHECK_GRAD(gradcheck(mul_fn, in));
    CHECK_GRAD(gradcheck(div_fn, in));
}

TEST_CASE("gradcheck of binary ops under broadcasting") {
    const std::vector<std::pair<Shape, Shape>> cases{
        {{2, 3}, {3}}, {{2, 3}, {2, 1}}, {{4, 1, 3}, {2, 1}}, {{3}, {2, 4, 3}}, {{2, 3}, {}}};
    for (const auto& [sa, sb] : cases) {
        CAPTURE(shape_str(sa));
        CAPTURE(shape_str(sb));
        const std::vector<Array> in{random_array(sa, -1, 1, 3), random_array(sb, 0.5f, 2, 4)};
        CHECK_GRAD(gradcheck(add_fn, in));
        CHECK_GRAD(gradcheck(sub_fn, in));
        CHECK_GRAD(gradcheck(mul_fn, in));
        CHECK_GRAD(gradcheck(div_fn, in));
    }
}

TEST_CASE("gradcheck of ops with a float") {
    const std::vector<Array> in{random_array({2, 3}, 0.5f, 2, 5)};
    CHECK_GRAD(gradcheck([](const auto& t) { return t[0] + 2.0f; }, in));
    CHECK_GRAD(gradcheck([](const auto& t) { return 2.0f - t[0]; }, in));
    CHECK_GRAD(gradcheck([](const auto& t) { return t[0] * -3.0f; }, in));
    CHECK_GRAD(gradcheck([](const auto& t) { return 3.0f / t[0]; }, in));
    CHECK_GRAD(gradcheck([](const auto& t) { return t[0] / 4.0f; }, in));
    CHECK_GRAD(gradcheck([](const auto& t) { return -t[0]; }, in));
}

TEST_CASE("the same tensor on both sides gets both gradients") {
    Tensor x(Array{3.0f}, true);
    Tensor y = x * x;  // dy/dx = 2x
    y.backward();
    CHECK(x.grad()(0) == doctest::Approx(6.0));
}

TEST_CASE("unary math computes values by hand") {
    Tensor x(Array{1.0f, 4.0f});
    CHECK(exp(x).value()(0) == doctest::Approx(2.718282));
    CHECK(log(x).value()(1) == doctest::Approx(1.386294));
    CHECK(sqrt(x).value()(1) == doctest::Approx(2.0));
    CHECK(pow(x, 3.0f).value()(1) == doctest::Approx(64.0));
    CHECK(abs(Tensor(Array{-2.5f})).value()(0) == 2.5f);
    CHECK(clamp(Tensor(Array{-2.0f, 0.5f, 3.0f}), 0.0f, 1.0f).value() == Array{0.0f, 0.5f, 1.0f});
}

TEST_CASE("gradcheck of unary math") {
    const std::vector<Array> positive{random_array({2, 5}, 0.5f, 2.0f, 6)};
    const std::vector<Array> signed_in{away_from_zero({2, 5}, 0.2f, 1.5f, 7)};
    CHECK_GRAD(gradcheck([](const auto& t) { return exp(t[0]); }, signed_in));
    CHECK_GRAD(gradcheck([](const auto& t) { return log(t[0]); }, positive));
    CHECK_GRAD(gradcheck([](const auto& t) { return abs(t[0]); }, signed_in));
    CHECK_GRAD(gradcheck([](const auto& t) { return pow(t[0], 3.0f); }, signed_in));
    CHECK_GRAD(gradcheck([](const auto& t) { return pow(t[0], -1.5f); }, positive));
    CHECK_GRAD(gradcheck([](const auto& t) { return sqrt(t[0]); }, positive));
    CHECK_GRAD(gradcheck([](const auto& t) { return clamp(t[0], -0.9f, 0.9f); },
                         {away_from_zero({3, 3}, 0.1f, 1.6f, 8)}));
}

TEST_CASE("shapes that cannot broadcast are an error naming both") {
    Tensor a(xt::zeros<float>({2, 3})), b(xt::zeros<float>({4}));
    CHECK_THROWS_WITH_AS(a + b, "add: shapes [2, 3] and [4] cannot be broadcast together",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(a * b, doctest::Contains("mul: shapes [2, 3] and [4]"),
                         std::invalid_argument);
}

TEST_CASE("clamp with lo above hi is an error") {
    CHECK_THROWS_AS(clamp(Tensor(Array{1.0f}), 1.0f, 0.0f), std::invalid_argument);
}

TEST_CASE("maximum and minimum broadcast, split a tie's gradient and propagate NaN") {
    Tensor a(Array{1.0f, 5.0f, 3.0f}, true);
    Tensor b(Array{2.0f, 4.0f, 3.0f}, true);
    CHECK(maximum(a, b).value() == Array{2.0f, 5.0f, 3.0f});
    CHECK(minimum(a, b).value() == Array{1.0f, 4.0f, 3.0f});
    sum(maximum(a, b)).backward();
    CHECK(a.grad() == Array{0.0f, 1.0f, 0.5f});  // the tie: half each, as torch
    CHECK(b.grad() == Array{1.0f, 0.0f, 0.5f});
    Tensor row(Array{{0.0f, 10.0f}}, true);  // [1, 2] against [2, 2]
    Tensor m(Array{{1.0f, 1.0f}, {-1.0f, 20.0f}}, true);
    sum(minimum(row, m)).backward();
    CHECK(row.grad() == Array{{1.0f, 1.0f}});  // taken at (0, 0) and (1, 1), summed over rows
    CHECK(m.grad() == Array{{0.0f, 1.0f}, {1.0f, 0.0f}});
    CHECK(std::isnan(maximum(Tensor(Array{NAN}), Tensor(Array{1.0f})).value()(0)));
    CHECK_THROWS_WITH_AS(maximum(Tensor(Array{1.0f, 2.0f}), Tensor(Array{1.0f, 2.0f, 3.0f})),
                         doctest::Contains("maximum: shapes [2] and [3]"), std::invalid_argument);
    const Array x = random_array({2, 3}, -1.0f, 1.0f, 41), y = random_array({3}, -1.0f, 1.0f, 42);
    CHECK_GRAD(gradcheck([](const auto& t) { return maximum(t[0], t[1]) * t[0]; }, {x, y}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return minimum(t[0], t[1]) * t[1]; }, {x, y}));
}

TEST_CASE("where takes a or b by a broadcast condition, and masked_fill puts a value under a mask") {
    const Tensor c = Tensor::from({1.0f, 0.0f}, {2, 1});
    Tensor a(Array{1.0f, 2.0f, 3.0f}, true);
    Tensor b(Array{{-1.0f, -2.0f, -3.0f}, {-4.0f, -5.0f, -6.0f}}, true);
    Tensor y = where(c, a, b);
    CHECK(y.value() == Array{{1.0f, 2.0f, 3.0f}, {-4.0f, -5.0f, -6.0f}});
    sum(y * 2.0f).backward();
    CHECK(a.grad() == Array{2.0f, 2.0f, 2.0f});
    CHECK(b.grad() == Array{{0.0f, 0.0f, 0.0f}, {2.0f, 2.0f, 2.0f}});
    Tensor x(Array{{1.0f, 2.0f}, {3.0f, 4.0f}}, true);
    Tensor z = masked_fill(x, Tensor(Array{1.0f, 0.0f}), -9.0f);
    CHECK(z.value() == Array{{-9.0f, 2.0f}, {-9.0f, 4.0f}});
    sum(z).backward();
    CHECK(x.grad() == Array{{0.0f, 1.0f}, {0.0f, 1.0f}});
    CHECK_THROWS_WITH_AS(masked_fill(x, Tensor(Array{1.0f, 0.0f, 1.0f}), 0.0f),
                         doctest::Contains("masked_fill"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(masked_fill(Tensor(Array{1.0f}), Tensor(Array{1.0f, 0.0f}), 0.0f),
                         doctest::Contains("must broadcast to x's shape [1]"), std::invalid_argument);
    const Array cond = Array{{1.0f, 0.0f, 1.0f}, {0.0f, 0.0f, 1.0f}};
    const Array p = random_array({2, 3}, -1.0f, 1.0f, 43), q = random_array({3}, -1.0f, 1.0f, 44);
    CHECK_GRAD(gradcheck([&](const auto& t) { return where(Tensor(cond), t[0], t[1]) * t[0]; }, {p, q}));
    CHECK_GRADGRAD(gradgradcheck([&](const auto& t) { return where(Tensor(cond), t[0] * t[1], t[1]); }, {p, q}));
    CHECK_GRADGRAD(gradgradcheck([&](const auto& t) { return masked_fill(t[0] * t[0], Tensor(cond), 2.0f); }, {p}));
}
