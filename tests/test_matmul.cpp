#include "helpers.hpp"

using namespace tapegrad;
using test::random_array;

TEST_CASE("matmul computes a product by hand") {
    Tensor a(Array{{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}});  // [3, 2]
    Tensor b(Array{{1.0f, 0.0f, 2.0f}, {-1.0f, 1.0f, 0.5f}});     // [2, 3]
    Array expected{{-1.0f, 2.0f, 3.0f}, {-1.0f, 4.0f, 8.0f}, {-1.0f, 6.0f, 13.0f}};
    CHECK(matmul(a, b).value() == expected);
}

TEST_CASE("gradcheck of matmul on several shapes") {
    for (const auto& [m, k, n] : std::vector<std::array<std::size_t, 3>>{{1, 1, 1}, {3, 4, 5}, {7, 2, 3}}) {
        CAPTURE(m);
        CAPTURE(k);
        CAPTURE(n);
        CHECK_GRAD(gradcheck([](const auto& t) { return matmul(t[0], t[1]); },
                             {random_array({m, k}, -1, 1, 1), random_array({k, n}, -1, 1, 2)}));
    }
}

TEST_CASE("linear equals x times w transposed plus b") {
    Tensor x(Array{{1.0f, 2.0f}});                        // [1, 2]
    Tensor w(Array{{1.0f, 1.0f}, {2.0f, -1.0f}, {0.0f, 3.0f}});  // [3, 2]
    Tensor b(Array{0.5f, 0.0f, -1.0f});
    CHECK(linear(x, w, b).value() == Array{{3.5f, 0.0f, 5.0f}});
    CHECK(linear(x, w).value() == Array{{3.0f, 0.0f, 6.0f}});
}

TEST_CASE("gradcheck of linear with and without bias") {
    const std::vector<Array> in{random_array({4, 3}, -1, 1, 3), random_array({5, 3}, -1, 1, 4),
                                random_array({5}, -1, 1, 5)};
    CHECK_GRAD(gradcheck([](const auto& t) { return linear(t[0], t[1], t[2]); }, in));
    CHECK_GRAD(gradcheck([](const auto& t) { return linear(t[0], t[1]); }, {in[0], in[1]}));
}

TEST_CASE("matmul with mismatched inner dimensions names both shapes") {
    Tensor a(xt::zeros<float>({64, 784})), b(xt::zeros<float>({100, 10}));
    CHECK_THROWS_WITH_AS(matmul(a, b), "matmul: inner dimensions differ: a is [64, 784], b is [100, 10]",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(matmul(Tensor(xt::zeros<float>({3})), b), doctest::Contains("must be 2-D"),
                         std::invalid_argument);
}

TEST_CASE("linear with the wrong input width or bias says what it expected") {
    Tensor x(xt::zeros<float>({2, 5})), w(xt::zeros<float>({3, 4}));
    CHECK_THROWS_WITH_AS(linear(x, w), doctest::Contains("x has 5 features"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(linear(Tensor(xt::zeros<float>({2, 4})), w, Tensor(xt::zeros<float>({4}))),
                         doctest::Contains("bias must have shape [3]"), std::invalid_argument);
}
