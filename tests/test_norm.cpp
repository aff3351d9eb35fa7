// dropout, layer_norm and batch_norm: values by hand, torch's running-statistics rule, gradients
// against finite differences and second derivatives with gradgradcheck.
#include <xtensor/xview.hpp>

#include "helpers.hpp"

using namespace tapegrad;
using test::random_array;

TEST_CASE("dropout zeroes a p share, scales the rest by 1 / (1 - p), and repeats under a seed") {
    const Tensor x(xt::ones<float>({4000}), true);
    manual_seed(21);
    Tensor y = dropout(x, 0.25f, true);
    std::size_t kept = 0;
    for (float v : y.value()) {
        CHECK((v == 0.0f || v == doctest::Approx(1.0f / 0.75f)));
        kept += v != 0.0f;
    }
    CHECK(static_cast<double>(kept) / 4000 == doctest::Approx(0.75).epsilon(0.05));
    sum(y).backward();
    CHECK(x.grad() == y.value());  // dx = the mask, scaled
    manual_seed(21);
    CHECK(dropout(x, 0.25f, true).value() == y.value());
    CHECK(dropout(x, 0.25f, false).value() == x.value());  // evaluation: the identity
    const Tensor zeros = dropout(x, 1.0f, true);
    CHECK(xt::all(xt::equal(zeros.value(), 0.0f)));  // p = 1: zeros, not NaN
    CHECK_THROWS_WITH_AS(dropout(x, 1.5f, true), doctest::Contains("dropout: p must be in [0, 1], got 1.5"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(dropout(x, -0.1f, true), doctest::Contains("dropout: p must be in [0, 1]"),
                         std::invalid_argument);
}

TEST_CASE("layer_norm normalizes the last axes and applies weight and bias") {
    Tensor x(Array{{1.0f, 2.0f, 3.0f, 4.0f}, {-1.0f, -1.0f, 1.0f, 1.0f}});
    const Array y = layer_norm(x, {4}, Tensor(Array{1.0f, 1.0f, 2.0f, 2.0f}), Tensor(Array{0.0f, 1.0f, 0.0f, 1.0f}), 0.0001f).value();
    const float r0 = 1.0f / std::sqrt(1.25f + 0.0001f), r1 = 1.0f / std::sqrt(1.0f + 0.0001f);
    CHECK(xt::allclose(y, Array{{-1.5f * r0, -0.5f * r0 + 1, 2 * 0.5f * r0, 2 * 1.5f * r0 + 1},
                                {-r1, -r1 + 1, 2 * r1, 2 * r1 + 1}}, 1e-5, 1e-6));
    CHECK(layer_norm(Tensor(random_array({2, 3, 4})), {3, 4}).shape() == Shape{2, 3, 4});
    CHECK_THROWS_WITH_AS(layer_norm(x, {3}), doctest::Contains("layer_norm: normalized_shape [3] must be the last axes of x, but x is [2, 4]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(layer_norm(x, {4}, Tensor(Array{1.0f})), doctest::Contains("layer_norm: weight must have shape [4]"),
                         std::invalid_argument);
    const Array a = random_array({3, 2, 4}, -2.0f, 2.0f, 111), w = random_array({2, 4}, 0.5f, 1.5f, 112),
                b = random_array({2, 4}, -1.0f, 1.0f, 113);
    CHECK_GRAD(gradcheck([](const auto& t) { return layer_norm(t[0], {2, 4}, t[1], t[2]); }, {a, w, b}));
    CHECK_GRAD(gradcheck([](const auto& t) { return layer_norm(t[0], {4}, Tensor(), t[1]); }, {a, random_array({4}, -1.0f, 1.0f, 114)}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return layer_norm(t[0], {2, 4}, t[1], t[2]); }, {a, w, b}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return layer_norm(t[0], {4}); }, {a}));
}

TEST_CASE("batch_norm in training uses the batch statistics and updates the running ones as torch") {
    Tensor x(Array{{1.0f, 10.0f}, {3.0f, 20.0f}, {5.0f, 60.0f}});  // [N = 3, C = 2]
    Tensor rm(Array{0.0f, 1.0f}), rv(Array{1.0f, 2.0f});
    const Array y = batch_norm(x, rm, rv, Tensor(), Tensor(), true, 0.1f, 0.0f + 1e-5f).value();
    // channel 0: mean 3, biased var 8/3; channel 1: mean 30, biased var 1400/3
    CHECK(xt::allclose(Array(xt::view(y, xt::all(), 0)), Array{-2.0f, 0.0f, 2.0f} / std::sqrt(8.0f / 3 + 1e-5f)));
    CHECK(xt::allclose(Array(xt::view(y, xt::all(), 1)), Array{-20.0f, -10.0f, 30.0f} / std::sqrt(1400.0f / 3 + 1e-5f)));
    // running = 0.9 running + 0.1 batch, the variance unbiased (n / (n - 1) = 1.5)
    CHECK(xt::allclose(rm.value(), Array{0.3f, 0.9f + 3.0f}));
    CHECK(xt::allclose(rv.value(), Array{0.9f + 0.1f * 4.0f, 1.8f + 0.1f * 700.0f}));
    // evaluation: the running statistics, nothing updated
    const Array before = rm.value();
    const Array e = batch_norm(x, rm, rv, Tensor(Array{2.0f, 1.0f}), Tensor(Array{0.5f, 0.0f}), false).value();
    CHECK(rm.value() == before);
    CHECK(e(0, 0) == doctest::Approx((1.0f - 0.3f) / std::sqrt(1.3f + 1e-5f) * 2.0f + 0.5f));
    CHECK_THROWS_WITH_AS(batch_norm(Tensor(Array{{1.0f, 2.0f}}), rm, rv, Tensor(), Tensor(), true),
                         doctest::Contains("batch_norm: training needs more than one value per channel"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(batch_norm(x, Tensor(Array{0.0f}), rv, Tensor(), Tensor(), true),
                         doctest::Contains("batch_norm: running_mean must have shape [2]"), std::invalid_argument);
}

TEST_CASE("batch_norm over [N, C, H, W] passes gradcheck and gradgradcheck in both modes") {
    const Array a = random_array({3, 2, 2, 3}, -2.0f, 2.0f, 115), w = random_array({2}, 0.5f, 1.5f, 116),
                b = random_array({2}, -1.0f, 1.0f, 117);
    auto train = [](const std::vector<Tensor>& t) { return batch_norm(t[0], Tensor(), Tensor(), t[1], t[2], true); };
    CHECK_GRAD(gradcheck(train, {a, w, b}));
    CHECK_GRADGRAD(gradgradcheck(train, {a, w, b}));
    const Tensor rm(Array{0.5f, -0.5f}), rv(Array{2.0f, 0.5f});
    auto eval = [&](const std::vector<Tensor>& t) { return square(batch_norm(t[0], rm, rv, t[1], t[2], false)); };
    CHECK_GRAD(gradcheck(eval, {a, w, b}));
    CHECK_GRADGRAD(gradgradcheck(eval, {a, w, b}));
}
