// Tensors with an axis of length 0 (a slice past the end, a split with an empty part): shapes
// broadcast as NumPy's and PyTorch's do (1 against 0 gives 0), and gradients of the right, empty
// shape flow through them, also when recorded (create_graph). Found by fuzz/fuzz_engine.cpp.
#include "helpers.hpp"

using namespace tapegrad;

TEST_CASE("an axis of length 1 broadcasts against length 0, giving 0") {
    const Tensor a(Array(xt::ones<float>({2, 1})), true);
    const Tensor b(Array::from_shape({2, 0}), true);
    CHECK((a + b).shape() == Shape{2, 0});
    CHECK((b * a).shape() == Shape{2, 0});
    CHECK(expand(a, {2, 0}).shape() == Shape{2, 0});
    // An empty operand repeating along an empty one's rows (it divided by its size of 0).
    const Tensor row(Array::from_shape({0}), true);
    CHECK((b * row).shape() == Shape{2, 0});
    CHECK((row - b).shape() == Shape{2, 0});
    // Nothing reaches a through an empty result: its gradient is zeros of its shape.
    sum(a * b).backward();
    CHECK(a.grad().shape() == a.value().shape());
    CHECK(xt::all(xt::equal(a.grad(), 0.0f)));
    CHECK(b.grad().shape() == b.value().shape());
}

TEST_CASE("logsumexp over an empty axis is -inf and differentiates twice to empty gradients") {
    const Tensor x(Array::from_shape({2, 0}), true);
    const Tensor y = logsumexp(x, 1, true);
    REQUIRE(y.shape() == Shape{2, 1});
    CHECK(std::isinf(y.value()(0, 0)));
    CHECK(y.value()(0, 0) < 0.0f);
    GradOptions o;
    o.create_graph = true;
    o.grad_output = Tensor(Array(xt::ones<float>({2, 1})));
    const std::vector<Tensor> g = grad(y, {x}, o);
    CHECK(g[0].shape() == Shape{2, 0});
}

TEST_CASE("cross-entropy of probabilities over no classes is 0 for each sample") {
    const Tensor p(Array::from_shape({2, 0}), true);
    const Tensor y(Array::from_shape({2, 0}));
    const Tensor l = cross_entropy_from_probabilities(p, y, Reduction::none);
    REQUIRE(l.shape() == Shape{2});
    CHECK(xt::all(xt::equal(l.value(), 0.0f)));
}

TEST_CASE("a sum over an axis of an empty tensor is zeros, and so is its mean's and var's gradient") {
    const Tensor x(Array::from_shape({0, 3}), true);
    const Tensor s = sum(x, 0);
    REQUIRE(s.shape() == Shape{3});
    CHECK(xt::all(xt::equal(s.value(), 0.0f)));
    s.backward(Array(xt::ones<float>({3})));
    CHECK(x.grad().shape() == Shape{0, 3});
    GradOptions o;
    o.create_graph = true;
    o.grad_output = Tensor(Array(xt::ones<float>({3})));
    CHECK(grad(mean(x, 0), {x}, o)[0].shape() == Shape{0, 3});
    o.grad_output = Tensor(Array::from_shape({0}));
    CHECK(grad(var(x, 1, false, 0), {x}, o)[0].shape() == Shape{0, 3});  // no results at all
    // And over no elements at all there is no variance: an error that says why.
    CHECK_THROWS_WITH(var(x, 0, false, 0), doctest::Contains("no degrees of freedom"));
}

TEST_CASE("a batched product over an inner size of 0 is zeros, and so are its gradients") {
    // [2, 3, 0] . [0, 4]: each of the 2 x 3 rows sums no terms (it divided by K = 0).
    const Tensor a(Array::from_shape({2, 3, 0}), true);
    const Tensor b(Array::from_shape({0, 4}), true);
    const Tensor y = matmul(a, b);
    CHECK(y.shape() == Shape{2, 3, 4});
    CHECK(y.value() == Array(xt::zeros<float>({2, 3, 4})));
    sum(y).backward();
    CHECK(a.grad().shape() == a.value().shape());
    CHECK(b.grad().shape() == b.value().shape());
}
