// sin, cos, log1p, expm1, reciprocal, square, sign, floor, round, leaky_relu, elu, silu: values
// worked by hand, gradients against finite differences, second derivatives with gradgradcheck.
#include <cmath>

#include "helpers.hpp"

using namespace tapegrad;
using test::away_from_zero;
using test::random_array;

TEST_CASE("the new elementwise ops compute what their names say") {
    const Tensor x(Array{0.0f, 0.5f, -1.5f, 2.5f});
    CHECK(xt::allclose(sin(x).value(), Array{0.0f, std::sin(0.5f), std::sin(-1.5f), std::sin(2.5f)}));
    CHECK(xt::allclose(cos(x).value(), Array{1.0f, std::cos(0.5f), std::cos(-1.5f), std::cos(2.5f)}));
    CHECK(xt::allclose(log1p(Tensor(Array{0.0f, 1e-7f, 1.0f})).value(),
                       Array{0.0f, 1e-7f, std::log(2.0f)}, 1e-6, 1e-12));
    CHECK(xt::allclose(expm1(Tensor(Array{0.0f, 1e-7f})).value(), Array{0.0f, 1e-7f}, 1e-6, 1e-12));
    CHECK(reciprocal(Tensor(Array{2.0f, -0.5f})).value() == Array{0.5f, -2.0f});
    CHECK(square(Tensor(Array{3.0f, -2.0f})).value() == Array{9.0f, 4.0f});
    CHECK(sign(x).value() == Array{0.0f, 1.0f, -1.0f, 1.0f});
    CHECK(floor(x).value() == Array{0.0f, 0.0f, -2.0f, 2.0f});
    CHECK(round(x).value() == Array{0.0f, 0.0f, -2.0f, 2.0f});  // halves to even
    CHECK(leaky_relu(x, 0.1f).value() == Array{0.0f, 0.5f, -0.15f, 2.5f});
    CHECK(xt::allclose(elu(x).value(), Array{0.0f, 0.5f, std::expm1(-1.5f), 2.5f}));
    CHECK(xt::allclose(silu(x).value(),
                       Array{0.0f, 0.5f / (1 + std::exp(-0.5f)), -1.5f / (1 + std::exp(1.5f)),
                             2.5f / (1 + std::exp(-2.5f))}));
}

TEST_CASE("sign, floor and round have zero gradient") {
    Tensor x(Array{0.3f, -1.7f}, true);
    sum(sign(x) + floor(x) + round(x)).backward();
    CHECK(x.grad() == Array{0.0f, 0.0f});
}

TEST_CASE("gradcheck and gradgradcheck of the new smooth ops") {
    const Array any = away_from_zero({2, 3}, 0.2f, 1.5f, 31);
    const Array pos = random_array({2, 3}, 0.3f, 2.0f, 32);
    using F = Tensor (*)(const Tensor&);
    for (F f : {static_cast<F>(sin), static_cast<F>(cos), static_cast<F>(expm1),
                static_cast<F>(square), static_cast<F>(silu)}) {
        CHECK_GRAD(gradcheck([f](const auto& t) { return f(t[0]); }, {any}));
        CHECK_GRADGRAD(gradgradcheck([f](const auto& t) { return f(t[0]); }, {any}));
    }
    for (F f : {static_cast<F>(log1p), static_cast<F>(reciprocal)}) {
        CHECK_GRAD(gradcheck([f](const auto& t) { return f(t[0]); }, {pos}));
        CHECK_GRADGRAD(gradgradcheck([f](const auto& t) { return f(t[0]); }, {pos}));
    }
    CHECK_GRAD(gradcheck([](const auto& t) { return leaky_relu(t[0], 0.2f) * t[0]; }, {any}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return leaky_relu(t[0], 0.2f) * t[0]; }, {any}));
    CHECK_GRAD(gradcheck([](const auto& t) { return elu(t[0], 0.7f); }, {any}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return elu(t[0], 0.7f); }, {any}));
}
