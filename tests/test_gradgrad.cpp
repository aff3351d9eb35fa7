// Gradients of gradients: create_graph records the backward, gradgradcheck compares second
// derivatives with central differences of the gradient, and ops that cannot be differentiated
// twice yet refuse by name.
#include "helpers.hpp"

using namespace tapegrad;
using test::away_from_zero;
using test::random_array;

namespace {

GradOptions create_graph() {
    GradOptions options;
    options.create_graph = true;
    return options;
}

}  // namespace

TEST_CASE("the derivatives of x^4 are 4x^3, 12x^2 and 24x, each by grad of the last") {
    Tensor x(Array{1.5f, -2.0f}, true);
    Tensor y = sum(x * x * x * x);
    const Tensor d1 = grad(y, {x}, create_graph())[0];
    CHECK(xt::allclose(d1.value(), Array{13.5f, -32.0f}));
    const Tensor d2 = grad(sum(d1), {x}, create_graph())[0];
    CHECK(xt::allclose(d2.value(), Array{27.0f, 48.0f}));
    const Tensor d3 = grad(sum(d2), {x}, create_graph())[0];
    CHECK(xt::allclose(d3.value(), Array{36.0f, -48.0f}));
    const Tensor d4 = grad(sum(d3), {x})[0];
    CHECK(xt::allclose(d4.value(), Array{24.0f, 24.0f}));
}

TEST_CASE("a Hessian-vector product of a tanh layer equals the finite-difference Hessian times v") {
    const Array w0 = random_array({3}, -1.0f, 1.0f, 3), v = random_array({3}, -1.0f, 1.0f, 4);
    auto f = [](const Tensor& w) { return sum(tanh(w * w * 0.5f + w)); };
    Tensor w(w0, true);
    const Tensor g = grad(f(w), {w}, create_graph())[0];
    const Array hv = grad(sum(g * Tensor(v)), {w})[0].value();
    // Central differences of the gradient along v: (g(w + e v) - g(w - e v)) / 2e.
    const float e = 1e-2f;
    auto gradient_at = [&](const Array& at) {
        Tensor p(at, true);
        return grad(f(p), {p})[0].value();
    };
    const Array numeric = (gradient_at(w0 + e * v) - gradient_at(w0 - e * v)) / (2 * e);
    CHECK(xt::allclose(hv, numeric, 1e-2, 1e-3));
}

TEST_CASE("backward with create_graph adds gradient values and keeps the graph") {
    Tensor x(Array{2.0f}, true);
    Tensor y = x * x * x;
    y.backward(create_graph());
    CHECK(x.grad()(0) == doctest::Approx(12.0));
    y.backward();  // create_graph kept the graph
    CHECK(x.grad()(0) == doctest::Approx(24.0));
}

TEST_CASE("gradgradcheck: elementwise ops with broadcasting") {
    const Array a = away_from_zero({2, 3}, 0.5f, 1.5f, 1), b = away_from_zero({3}, 0.5f, 1.5f, 2);
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return t[0] * t[1]; }, {a, b}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return t[0] / t[1]; }, {a, b}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return (t[0] + t[1]) * (t[0] - t[1]); },
                                 {a, b}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return 2.0f / t[0] + (3.0f - t[0]) * t[0]; },
                                 {a}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return -t[0] * t[0] * 0.5f + 1.0f; }, {a}));
}

TEST_CASE("gradgradcheck: exp, log, abs, pow, sqrt, clamp") {
    const Array pos = random_array({2, 3}, 0.5f, 2.0f, 3), any = away_from_zero({2, 3}, 0.3f, 1.0f, 4);
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return exp(t[0]); }, {any}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return log(t[0]); }, {pos}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return abs(t[0]) * t[0]; }, {any}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return pow(t[0], 3.0f); }, {pos}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return sqrt(t[0]); }, {pos}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return clamp(t[0], -0.5f, 0.5f) * t[0]; },
                                 {any}));
}

TEST_CASE("gradgradcheck: activations, including softmax and log_softmax along each axis") {
    const Array x = away_from_zero({3, 4}, 0.2f, 1.5f, 5);
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return relu(t[0]) * t[0]; }, {x}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return sigmoid(t[0]); }, {x}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return tanh(t[0]); }, {x}));
    for (int axis : {0, 1, -1}) {
        CAPTURE(axis);
        CHECK_GRADGRAD(gradgradcheck([axis](const auto& t) { return softmax(t[0], axis); }, {x}));
        CHECK_GRADGRAD(
            gradgradcheck([axis](const auto& t) { return log_softmax(t[0], axis); }, {x}));
    }
}

TEST_CASE("gradgradcheck: reductions over every axis, with and without keepdims") {
    const Array x = random_array({2, 3, 2}, -1.0f, 1.0f, 6);
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return sum(t[0] * t[0]); }, {x}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return mean(t[0] * t[0] * t[0]); }, {x}));
    for (int axis : {0, 1, 2, -1})
        for (bool keep : {false, true}) {
            CAPTURE(axis);
            CAPTURE(keep);
            CHECK_GRADGRAD(gradgradcheck(
                [axis, keep](const auto& t) { return sum(t[0] * t[0], axis, keep); }, {x}));
            CHECK_GRADGRAD(gradgradcheck(
                [axis, keep](const auto& t) { return exp(mean(t[0], axis, keep)); }, {x}));
        }
}

TEST_CASE("gradgradcheck: matmul and linear, with and without bias") {
    const Array a = random_array({2, 3}, -1.0f, 1.0f, 7), b = random_array({3, 4}, -1.0f, 1.0f, 8);
    const Array w = random_array({4, 3}, -1.0f, 1.0f, 9), bias = random_array({4}, -1.0f, 1.0f, 10);
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return tanh(matmul(t[0], t[1])); }, {a, b}));
    CHECK_GRADGRAD(
        gradgradcheck([](const auto& t) { return tanh(linear(t[0], t[1], t[2])); }, {a, w, bias}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return sigmoid(linear(t[0], t[1])); }, {a, w}));
}

TEST_CASE("gradgradcheck: shape ops, expand and sum_to") {
    const Array x = random_array({2, 3}, -1.0f, 1.0f, 11), r = random_array({3}, -1.0f, 1.0f, 12);
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return reshape(t[0] * t[0], {3, 2}); }, {x}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return transpose(t[0]) * transpose(t[0]); },
                                 {x}));
    CHECK_GRADGRAD(gradgradcheck(
        [](const auto& t) { return flatten(reshape(t[0], {2, 3, 1})) * t[0]; }, {x}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return expand(t[0], {2, 3}) * t[0]; }, {r}));
    CHECK_GRADGRAD(gradgradcheck(
        [](const auto& t) { return sum_to(t[0] * t[0], {3}); }, {x}));
}

TEST_CASE("a user's op, its derivative written with tensor ops, differentiates twice") {
    // y = x^3, dy/dx = 3 x^2, d2y/dx2 = 6 x: an op written as in docs/add_an_op.md.
    auto cube = [](const Tensor& x) {
        return record("my_cube", {x}, x.value() * x.value() * x.value(),
                      [](const Inputs& in, const Tensor&, const Tensor& dy) {
                          return Grads{dy * square(in[0]) * 3.0f};
                      });
    };
    Tensor x(Array{1.0f, 2.0f}, true);
    const Tensor d1 = grad(sum(cube(x)), {x}, create_graph())[0];
    CHECK(d1.value() == Array{3.0f, 12.0f});
    CHECK(grad(sum(d1), {x})[0].value() == Array{6.0f, 12.0f});
    CHECK_GRADGRAD(gradgradcheck([&cube](const auto& t) { return cube(t[0]); }, {Array{0.5f, -1.5f}}));
}

TEST_CASE("gradgradcheck: conv2d with any stride and padding, with and without bias") {
    // S sums many products here: a larger step keeps float rounding out of the differences.
    GradcheckOptions options;
    options.eps = 1e-2;
    const Array w = random_array({3, 2, 3, 3}, -0.5f, 0.5f, 18), b = random_array({3}, -0.5f, 0.5f, 19);
    for (std::size_t stride : {1, 2})
        for (std::size_t padding : {0, 1}) {
            CAPTURE(stride);
            CAPTURE(padding);
            const Array x = random_array({2, 2, 5, 6}, -1.0f, 1.0f, 20);
            CHECK_GRADGRAD(gradgradcheck(
                [stride, padding](const auto& t) {
                    return tanh(conv2d(t[0], t[1], t[2], stride, padding));
                },
                {x, w, b}, options));
            CHECK_GRADGRAD(gradgradcheck(
                [stride, padding](const auto& t) {
                    return conv2d(t[0], t[1], Tensor(), stride, padding) *
                           conv2d(t[0], t[1], Tensor(), stride, padding);
                },
                {x, w}, options));
        }
}

TEST_CASE("gradgradcheck: every differentiable loss in every reduction") {
    const Array scores = away_from_zero({4, 3}, 0.2f, 1.5f, 13);
    const Array probabilities = random_array({4, 3}, 0.1f, 0.9f, 14);
    const Array binary{{1.0f, 0.0f, 1.0f}, {0.0f, 0.0f, 1.0f}, {1.0f, 1.0f, 0.0f}, {0.0f, 1.0f, 0.0f}};
    const Array signs = 2.0f * binary - 1.0f;
    const Array values = random_array({4, 3}, -1.0f, 1.0f, 15);
    const Array classes{0.0f, 2.0f, 1.0f, 2.0f};
    Array soft = random_array({4, 3}, 0.1f, 1.0f, 16);
    soft /= xt::eval(xt::sum(soft, {1}, xt::keep_dims | xt::evaluation_strategy::immediate));
    for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none}) {
        CAPTURE(static_cast<int>(r));
        auto check = [r](auto loss, const Array& prediction, const Array& target) {
            return gradgradcheck(
                [loss, target, r](const auto& t) { return loss(t[0], Tensor(target), r); },
                {prediction});
        };
        // Piecewise-linear losses have second derivative 0: checked all the same.
        CHECK_GRADGRAD(check(absolute_loss, values, binary));
        CHECK_GRADGRAD(check(hinge_loss, scores, signs));
        CHECK_GRADGRAD(check(log_loss, probabilities, binary));
        CHECK_GRADGRAD(check(log_loss_with_logits, scores, binary));
        CHECK_GRADGRAD(check(squared_loss, values, binary));
        CHECK_GRADGRAD(check(exponential_loss, scores * 0.5f, signs));
        CHECK_GRADGRAD(check(cross_entropy, scores, classes));
        CHECK_GRADGRAD(check(cross_entropy, scores, soft));
        CHECK_GRADGRAD(check(cross_entropy_from_probabilities, probabilities, classes));
    }
}

TEST_CASE("gradgradcheck: max_pool2d, 2x2 stride 2 and 3x3 stride 2") {
    // Distinct values, so that no window has a tie.
    Array x = random_array({2, 2, 5, 6}, -1.0f, 1.0f, 17);
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] += 0.01f * static_cast<float>(i % 7);
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return max_pool2d(t[0] * t[0], 2, 2); }, {x}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return tanh(max_pool2d(t[0], 3, 2)); }, {x}));
}
