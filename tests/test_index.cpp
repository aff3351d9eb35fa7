// slice, select, index_select, gather, scatter_add, concat, stack, split, chunk, embedding:
// values by hand (as torch gives them), gradients by hand and against finite differences,
// second derivatives with gradgradcheck, and the errors for bad indices and shapes.
#include "helpers.hpp"

using namespace tapegrad;
using test::random_array;

namespace {

const Array m34 = Array{{0.0f, 1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f, 7.0f}, {8.0f, 9.0f, 10.0f, 11.0f}};

// A column [n, 1] (a nested list of one-element rows is ambiguous to xtensor).
Array column(std::vector<float> v) { return Tensor::from(v, {v.size(), 1}).value(); }

}  // namespace

TEST_CASE("slice follows Python's rules for negative and out-of-range bounds") {
    const Tensor x(m34);
    CHECK(slice(x, 1, 1, 3).value() == Array{{1.0f, 2.0f}, {5.0f, 6.0f}, {9.0f, 10.0f}});
    CHECK(slice(x, 0, -2, 100).value() == Array{{4.0f, 5.0f, 6.0f, 7.0f}, {8.0f, 9.0f, 10.0f, 11.0f}});
    CHECK(slice(x, -1, 0, 4, 2).value() == Array{{0.0f, 2.0f}, {4.0f, 6.0f}, {8.0f, 10.0f}});
    CHECK(slice(x, 1, -100, -3).value() == column({0.0f, 4.0f, 8.0f}));
    CHECK(slice(x, 1, 3, 1).shape() == Shape{3, 0});  // empty, as x[:, 3:1]
    CHECK_THROWS_WITH_AS(slice(x, 1, 0, 2, 0), doctest::Contains("slice: step must be at least 1, got 0"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(slice(x, 2, 0, 1), doctest::Contains("slice: axis 2 is out of range"),
                         std::invalid_argument);
    Tensor w(m34, true);
    sum(slice(w, 1, 1, 4, 2) * 3.0f).backward();
    CHECK(w.grad() == Array{{0.0f, 3.0f, 0.0f, 3.0f}, {0.0f, 3.0f, 0.0f, 3.0f}, {0.0f, 3.0f, 0.0f, 3.0f}});
}

TEST_CASE("select drops the axis and counts negative indices from the end") {
    const Tensor x(m34);
    CHECK(select(x, 0, 1).value() == Array{4.0f, 5.0f, 6.0f, 7.0f});
    CHECK(select(x, 1, -1).value() == Array{3.0f, 7.0f, 11.0f});
    CHECK_THROWS_WITH_AS(select(x, 0, 3), doctest::Contains("select: index 3 is out of range for axis 0 of size 3"),
                         std::invalid_argument);
}

TEST_CASE("index_select picks rows with repeats, and their gradients add up") {
    Tensor x(m34, true);
    Tensor y = index_select(x, 0, Tensor(Array{2.0f, 0.0f, 2.0f}));
    CHECK(y.value() == Array{{8.0f, 9.0f, 10.0f, 11.0f}, {0.0f, 1.0f, 2.0f, 3.0f}, {8.0f, 9.0f, 10.0f, 11.0f}});
    sum(y).backward();
    CHECK(x.grad() == Array{{1.0f, 1.0f, 1.0f, 1.0f}, {0.0f, 0.0f, 0.0f, 0.0f}, {2.0f, 2.0f, 2.0f, 2.0f}});
    CHECK(index_select(Tensor(m34), 1, Tensor(Array{3.0f})).value() == column({3.0f, 7.0f, 11.0f}));
    CHECK_THROWS_WITH_AS(index_select(x, 0, Tensor(Array{0.0f, 3.0f})),
                         doctest::Contains("index_select: index 3 at position 1 of the indices is out of range"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(index_select(x, 0, Tensor(Array{0.5f})),
                         doctest::Contains("index 0.5 at position 0"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(index_select(x, 0, Tensor(Array{-1.0f})),
                         doctest::Contains("index -1 at position 0"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(index_select(x, 0, Tensor(column({0.0f}))),
                         doctest::Contains("index_select: indices must be 1-D"), std::invalid_argument);
}

TEST_CASE("gather and scatter_add are each other's gradient, as torch.gather") {
    Tensor x(m34, true);
    const Tensor idx(Array{{3.0f, 0.0f}, {1.0f, 1.0f}});  // [2, 2]: rows 0 and 1, smaller than x
    Tensor g = gather(x, 1, idx);
    CHECK(g.value() == Array{{3.0f, 0.0f}, {5.0f, 5.0f}});
    sum(g * Tensor(Array{{1.0f, 2.0f}, {3.0f, 4.0f}})).backward();
    CHECK(x.grad() == Array{{2.0f, 0.0f, 0.0f, 1.0f}, {0.0f, 7.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f}});
    CHECK(gather(Tensor(m34), 0, Tensor(Array{{2.0f, 0.0f, 1.0f, 2.0f}})).value() == Array{{8.0f, 1.0f, 6.0f, 11.0f}});

    Tensor base(xt::zeros<float>({2, 3}), true);
    Tensor src(Array{{1.0f, 2.0f}, {3.0f, 4.0f}}, true);
    Tensor s = scatter_add(base, 1, Tensor(Array{{2.0f, 2.0f}, {0.0f, 1.0f}}), src);
    CHECK(s.value() == Array{{0.0f, 0.0f, 3.0f}, {3.0f, 4.0f, 0.0f}});
    sum(s * Tensor(Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}})).backward();
    CHECK(base.grad() == Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
    CHECK(src.grad() == Array{{3.0f, 3.0f}, {4.0f, 5.0f}});

    CHECK_THROWS_WITH_AS(gather(x, 1, Tensor(Array{1.0f})), doctest::Contains("gather: indices must have the rank of x"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(gather(x, 1, Tensor(xt::zeros<float>({4, 1}))),
                         doctest::Contains("are larger than x [3, 4] along axis 0"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(gather(x, 0, Tensor(Array{{0.0f, 7.0f}})),
                         doctest::Contains("gather: index 7 at position 1"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(scatter_add(base, 1, Tensor(column({0.0f})), src),
                         doctest::Contains("scatter_add: source must have the shape of indices [1, 1]"),
                         std::invalid_argument);

    const Array a = random_array({3, 4}, -1.0f, 1.0f, 71), b = random_array({2, 2}, -1.0f, 1.0f, 72);
    CHECK_GRAD(gradcheck([&](const auto& t) { return gather(t[0], 1, idx) * gather(t[0], 1, idx); }, {a}));
    CHECK_GRADGRAD(gradgradcheck([&](const auto& t) { return square(gather(t[0], 1, idx)); }, {a}));
    CHECK_GRADGRAD(gradgradcheck(
        [&](const auto& t) { return square(scatter_add(t[0], 1, idx, t[1] * t[1])); }, {a, b}));
}

TEST_CASE("concat, stack, split and chunk join and part tensors along any axis") {
    Tensor a(Array{{1.0f, 2.0f}}, true);                 // [1, 2]
    Tensor b(Array{{3.0f, 4.0f}, {5.0f, 6.0f}}, true);   // [2, 2]
    Tensor c = concat({a, b}, 0);
    CHECK(c.value() == Array{{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}});
    CHECK(concat({b, b}, -1).value() == Array{{3.0f, 4.0f, 3.0f, 4.0f}, {5.0f, 6.0f, 5.0f, 6.0f}});
    sum(c * Tensor(Array{{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}})).backward();
    CHECK(a.grad() == Array{{1.0f, 2.0f}});
    CHECK(b.grad() == Array{{3.0f, 4.0f}, {5.0f, 6.0f}});
    CHECK_THROWS_WITH_AS(concat({a, b}, 1),
                         doctest::Contains("concat: tensor 1 has shape [2, 2] but tensor 0 has [1, 2]; they may differ only along axis 1"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(concat({}, 0), doctest::Contains("concat: the list of tensors is empty"),
                         std::invalid_argument);

    Tensor s = stack({Tensor(Array{1.0f, 2.0f}), Tensor(Array{3.0f, 4.0f})}, 1);
    CHECK(s.value() == Array{{1.0f, 3.0f}, {2.0f, 4.0f}});
    CHECK(stack({Tensor(Array{1.0f}), Tensor(Array{2.0f})}, 0).shape() == Shape{2, 1});
    CHECK_THROWS_WITH_AS(stack({a, b}, 0), doctest::Contains("stack: tensor 1 has shape [2, 2] but tensor 0 has [1, 2]"),
                         std::invalid_argument);

    const Tensor x(m34);
    std::vector<Tensor> parts = split(x, {1, 3}, 1);
    REQUIRE(parts.size() == 2);
    CHECK(parts[0].value() == column({0.0f, 4.0f, 8.0f}));
    CHECK(parts[1].shape() == Shape{3, 3});
    CHECK_THROWS_WITH_AS(split(x, {1, 2}, 1),
                         doctest::Contains("split: sizes [1, 2] add up to 3, but axis 1 of shape [3, 4] has 4"),
                         std::invalid_argument);
    std::vector<Tensor> chunks = chunk(Tensor(xt::arange<float>(5.0f)), 3, 0);  // torch: 2, 2, 1
    REQUIRE(chunks.size() == 3);
    CHECK(chunks[2].value() == Array{4.0f});
    CHECK(chunk(Tensor(xt::arange<float>(4.0f)), 3, 0).size() == 2);  // torch: [0, 1], [2, 3]

    const Array p = random_array({2, 3}, -1.0f, 1.0f, 73), q = random_array({2, 1}, -1.0f, 1.0f, 74);
    CHECK_GRAD(gradcheck([](const auto& t) { return concat({t[0], t[1] * t[1]}, 1); }, {p, q}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return square(concat({t[0], t[1]}, -1)); }, {p, q}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return square(stack({t[0], t[0] * 2.0f}, 1)); }, {p}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return square(chunk(t[0], 2, 1)[1]); }, {p}));
}

TEST_CASE("embedding looks rows up for indices of any shape, and repeated indices add gradients") {
    Tensor w(Array{{0.0f, 1.0f}, {2.0f, 3.0f}, {4.0f, 5.0f}}, true);
    Tensor e = embedding(Tensor(Array{{2.0f, 0.0f, 2.0f}}), w);  // [1, 3] -> [1, 3, 2]
    CHECK(e.shape() == Shape{1, 3, 2});
    CHECK(e.value() == Array{{{4.0f, 5.0f}, {0.0f, 1.0f}, {4.0f, 5.0f}}});
    sum(e).backward();
    CHECK(w.grad() == Array{{1.0f, 1.0f}, {0.0f, 0.0f}, {2.0f, 2.0f}});
    CHECK_THROWS_WITH_AS(embedding(Tensor(Array{3.0f}), w),
                         doctest::Contains("embedding: index 3 at position 0 of the indices is out of range"),
                         std::invalid_argument);
    const Array p = random_array({3, 2}, -1.0f, 1.0f, 75);
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return square(embedding(Tensor(Array{1.0f, 1.0f, 2.0f}), t[0])); }, {p}));
}
