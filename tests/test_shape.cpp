#include "helpers.hpp"

using namespace tapegrad;
using test::random_array;

TEST_CASE("reshape flatten and transpose keep the numbers in row-major order") {
    Tensor x(Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
    CHECK(reshape(x, {3, 2}).value() == Array{{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}});
    CHECK(transpose(x).value() == Array{{1.0f, 4.0f}, {2.0f, 5.0f}, {3.0f, 6.0f}});
    Tensor img(random_array({2, 3, 4, 5}));
    CHECK(flatten(img).shape() == Shape{2, 60});
    CHECK(flatten(img).value()(1, 59) == img.value()(1, 2, 3, 4));
}

TEST_CASE("gradcheck of reshape flatten and transpose") {
    CHECK_GRAD(gradcheck([](const auto& t) { return reshape(t[0], {4, 3}); },
                         {random_array({2, 6}, -1, 1, 1)}));
    CHECK_GRAD(gradcheck([](const auto& t) { return flatten(t[0]); },
                         {random_array({2, 3, 2, 2}, -1, 1, 2)}));
    CHECK_GRAD(gradcheck([](const auto& t) { return transpose(t[0]); },
                         {random_array({3, 5}, -1, 1, 3)}));
}

TEST_CASE("reshape to a different element count names both shapes") {
    CHECK_THROWS_WITH_AS(reshape(Tensor(xt::zeros<float>({2, 3})), {4, 2}),
                         "reshape: cannot reshape [2, 3] (6 elements) to [4, 2] (8 elements)",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(transpose(Tensor(xt::zeros<float>({2, 3, 4}))),
                         doctest::Contains("2-D"), std::invalid_argument);
}

TEST_CASE("permute, transpose of two axes, unsqueeze and squeeze move values as torch") {
    Tensor x(Array{{{0.0f, 1.0f, 2.0f}, {3.0f, 4.0f, 5.0f}}}, true);  // [1, 2, 3]
    Tensor p = permute(x, {2, 0, 1});
    CHECK(p.shape() == Shape{3, 1, 2});
    CHECK(p.value() == Array{{{0.0f, 3.0f}}, {{1.0f, 4.0f}}, {{2.0f, 5.0f}}});
    CHECK(transpose(x, -1, 1).value() == Array{{{0.0f, 3.0f}, {1.0f, 4.0f}, {2.0f, 5.0f}}});
    CHECK(unsqueeze(x, -1).shape() == Shape{1, 2, 3, 1});
    CHECK(unsqueeze(x, 0).shape() == Shape{1, 1, 2, 3});
    CHECK(squeeze(x, 0).shape() == Shape{2, 3});
    sum(p * Tensor(Array{{{1.0f, 2.0f}}, {{3.0f, 4.0f}}, {{5.0f, 6.0f}}})).backward();
    CHECK(x.grad() == Array{{{1.0f, 3.0f, 5.0f}, {2.0f, 4.0f, 6.0f}}});
    CHECK_THROWS_WITH_AS(squeeze(x, 1), doctest::Contains("squeeze: axis 1 of shape [1, 2, 3] has size 2"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(permute(x, {0, 0, 1}), doctest::Contains("permute: axis 0 is listed twice"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(permute(x, {0, 1}), doctest::Contains("permute: 2 axes given for a tensor of rank 3"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(unsqueeze(x, 5), doctest::Contains("unsqueeze: axis 5 is out of range"),
                         std::invalid_argument);
    const Array a = random_array({2, 3, 4}, -1.0f, 1.0f, 61);
    CHECK_GRAD(gradcheck([](const auto& t) { return permute(t[0], {1, 2, 0}) * 2.0f; }, {a}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return square(transpose(t[0], 0, 2)); }, {a}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return square(squeeze(unsqueeze(t[0], 1), 1)); }, {a}));
}

// Permutes large enough to be copied tile by tile (x's innermost axis moved above y's last), with
// sides that are not multiples of the tile, against the element-by-element definition.
TEST_CASE("permutes copied by tiles put every element where the definition says") {
    const Array x = random_array({19, 5, 37, 3}, -1.0f, 1.0f, 62);
    for (const std::vector<int>& axes : std::vector<std::vector<int>>{
             {3, 1, 2, 0}, {0, 3, 1, 2}, {3, 2, 1, 0}, {2, 3, 0, 1}, {1, 3, 0, 2}}) {
        const Array y = permute(Tensor(x), axes).value();
        std::vector<std::size_t> at(4), from(4);
        bool same = true;
        for (std::size_t k = 0; k < y.size() && same; ++k) {
            std::size_t rest = k;
            for (std::size_t d = 4; d-- > 0;) at[d] = rest % y.shape()[d], rest /= y.shape()[d];
            for (std::size_t d = 0; d < 4; ++d) from[static_cast<std::size_t>(axes[d])] = at[d];
            same = y.data()[k] == x(from[0], from[1], from[2], from[3]);
        }
        CAPTURE(axes[0]);
        CAPTURE(axes[1]);
        CHECK(same);
    }
    // A 2-D transpose of 40 x 33: three tiles by three, the last ones partial.
    const Array m = random_array({40, 33}, -1.0f, 1.0f, 63);
    const Array t = transpose(Tensor(m)).value();
    bool same = true;
    for (std::size_t i = 0; i < 40; ++i)
        for (std::size_t j = 0; j < 33; ++j) same = same && t(j, i) == m(i, j);
    CHECK(same);
}
