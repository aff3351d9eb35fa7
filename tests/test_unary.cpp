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

TEST_CASE("gelu, its tanh form and softplus compute what torch does") {
    const Tensor x(Array{0.0f, 1.0f, -1.0f, 3.0f});
    // torch.nn.functional.gelu([0, 1, -1, 3]) and gelu(..., approximate='tanh')
    CHECK(xt::allclose(gelu(x).value(), Array{0.0f, 0.8413447f, -0.1586553f, 2.9959502f}));
    CHECK(xt::allclose(gelu(x, GeluApproximation::tanh).value(),
                       Array{0.0f, 0.8411920f, -0.1588080f, 2.9963627f}));
    // softplus(x) = ln(1 + e^x); with beta 2: ln(1 + e^(2x)) / 2; above the threshold, x
    CHECK(xt::allclose(softplus(x).value(),
                       Array{std::log(2.0f), std::log1p(std::exp(1.0f)), std::log1p(std::exp(-1.0f)),
                             std::log1p(std::exp(3.0f))}));
    CHECK(xt::allclose(softplus(x, 2.0f).value(),
                       Array{std::log(2.0f) / 2, std::log1p(std::exp(2.0f)) / 2,
                             std::log1p(std::exp(-2.0f)) / 2, std::log1p(std::exp(6.0f)) / 2}));
    CHECK(softplus(Tensor(Array{100.0f, -100.0f})).value()(0) == 100.0f);
    CHECK(softplus(Tensor(Array{100.0f, -100.0f})).value()(1) >= 0.0f);
    CHECK(softplus(x, 1.0f, 2.0f).value()(3) == 3.0f);  // 3 > threshold 2: x itself
    CHECK_THROWS_WITH_AS(softplus(x, 0.0f), doctest::Contains("softplus: beta"), std::invalid_argument);
}

TEST_CASE("gelu and softplus pass gradcheck and gradgradcheck, and third order through gelu") {
    const Array any = away_from_zero({2, 3}, 0.2f, 2.0f, 33);
    CHECK_GRAD(gradcheck([](const auto& t) { return gelu(t[0]); }, {any}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return gelu(t[0]); }, {any}));
    CHECK_GRAD(gradcheck([](const auto& t) { return gelu(t[0], GeluApproximation::tanh); }, {any}));
    CHECK_GRADGRAD(
        gradgradcheck([](const auto& t) { return gelu(t[0], GeluApproximation::tanh); }, {any}));
    CHECK_GRAD(gradcheck([](const auto& t) { return softplus(t[0], 1.5f, 2.0f); }, {any}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return softplus(t[0], 1.5f, 2.0f); }, {any}));
    // d3/dx3 gelu(x) = phi(x) (x^3 - 4x) (phi the normal density): -0.6601 at x = 0.5
    Tensor x(Array{0.5f}, true);
    Tensor g1 = grad(sum(gelu(x)), {x}, GradOptions{false, true})[0];
    Tensor g2 = grad(sum(g1), {x}, GradOptions{false, true})[0];
    Tensor g3 = grad(sum(g2), {x})[0];
    const double phi = std::exp(-0.125) / std::sqrt(2 * M_PI);
    CHECK(g3.value()(0) == doctest::Approx(phi * (0.125 - 2.0)).epsilon(1e-4));
}
