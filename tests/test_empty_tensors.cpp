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
