#include <cmath>

#include <cblas.h>
#include <tapegrad/backend/narrow_gemm.hpp>
#include <xtensor/xview.hpp>

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

TEST_CASE("linear of an input with leading axes is linear of its rows, in one op: values, gradients, second order") {
    const Array x3 = random_array({2, 3, 4}, -1, 1, 11), w = random_array({5, 4}, -1, 1, 12);
    const Array b = random_array({5}, -1, 1, 13);
    // Row by row against the 2-D op.
    const Array y = linear(Tensor(x3), Tensor(w), Tensor(b)).value();
    REQUIRE(y.shape() == Shape{2, 3, 5});
    const Array rows = linear(Tensor(Array(xt::reshape_view(x3, {6, 4}))), Tensor(w), Tensor(b)).value();
    CHECK(Array(xt::reshape_view(y, {6, 5})) == rows);
    const Array y1 = linear(Tensor(Array{1.0f, 2.0f, 3.0f, 4.0f}), Tensor(w)).value();  // [in]
    REQUIRE(y1.shape() == Shape{5});
    for (std::size_t o = 0; o < 5; ++o) {  // 4 products, in double here, in some order there
        const double want = w(o, 0) + 2.0 * w(o, 1) + 3.0 * w(o, 2) + 4.0 * w(o, 3);
        const double magnitude = std::abs(w(o, 0)) + 2.0 * std::abs(w(o, 1)) +
                                 3.0 * std::abs(w(o, 2)) + 4.0 * std::abs(w(o, 3));
        CHECK(std::abs(y1(o) - want) <= test::exact_sum_bound(4, magnitude));
    }
    Tape::current().clear();
    CHECK(Tape::current().size() == 0);
    (void)linear(Tensor(x3, true), Tensor(w, true), Tensor(b, true));
    CHECK(Tape::current().size() == 1);  // no reshape records around it
    CHECK_GRAD(gradcheck([](const auto& t) { return linear(t[0], t[1], t[2]); }, {x3, w, b}));
    CHECK_GRAD(gradcheck([](const auto& t) { return linear(t[0], t[1]); },
                         {random_array({4}, -1, 1, 14), w}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return tanh(linear(t[0], t[1], t[2])); },
                                 {x3, w, b}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return tanh(linear(t[0], t[1])); },
                                 {random_array({4}, -1, 1, 15), w}));
}

TEST_CASE("matmul with mismatched inner dimensions names both shapes") {
    Tensor a(xt::zeros<float>({64, 784})), b(xt::zeros<float>({100, 10}));
    CHECK_THROWS_WITH_AS(matmul(a, b), "matmul: inner dimensions differ: a is [64, 784], b is [100, 10]",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(matmul(Tensor(xt::zeros<float>({3})), b),
                         "matmul: inner dimensions differ: a is [3], b is [100, 10]", std::invalid_argument);
    CHECK_THROWS_WITH_AS(matmul(Tensor(Array(3.0f)), b), doctest::Contains("matmul: both arguments need at least one dimension"),
                         std::invalid_argument);
}

TEST_CASE("linear with the wrong input width or bias says what it expected") {
    Tensor x(xt::zeros<float>({2, 5})), w(xt::zeros<float>({3, 4}));
    CHECK_THROWS_WITH_AS(linear(x, w), doctest::Contains("x has 5 features"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(linear(Tensor(xt::zeros<float>({2, 4})), w, Tensor(xt::zeros<float>({4}))),
                         doctest::Contains("bias must have shape [3]"), std::invalid_argument);
}

TEST_CASE("matmul follows torch.matmul for vectors and batches with broadcast batch axes") {
    const Tensor v(Array{1.0f, 2.0f, 3.0f});
    const Tensor m(Array{{1.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 1.0f}});  // [3, 2]
    CHECK(matmul(v, v).shape() == Shape{});
    CHECK(matmul(v, v).value()() == 14.0f);
    CHECK(matmul(v, m).value() == Array{4.0f, 5.0f});
    CHECK(matmul(transpose(m), v).value() == Array{4.0f, 5.0f});
    // [2, 1, 2, 3] · [3, 3, 2] -> [2, 3, 2, 2]: every matrix of a against every one of b
    const Array a4 = random_array({2, 1, 2, 3}, -1.0f, 1.0f, 81), b3 = random_array({3, 3, 2}, -1.0f, 1.0f, 82);
    const Tensor y = matmul(Tensor(a4), Tensor(b3));
    REQUIRE(y.shape() == Shape{2, 3, 2, 2});
    // Each matrix against its 2-D product: two float sums of 3 products, maybe in other orders.
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 3; ++j) {
            const Array ai = xt::view(a4, i, 0), bj = xt::view(b3, j);
            const Array expect = matmul(Tensor(ai), Tensor(bj)).value();
            test::check_within("batch matrix", Array(xt::view(y.value(), i, j)), expect,
                               test::matmul_bounds(ai, bj));
        }
    // [2, 2, 3] · [3, 2]: the 2-D b applies to every matrix
    const Array a3 = random_array({2, 2, 3}, -1.0f, 1.0f, 83);
    const Tensor z = matmul(Tensor(a3), m);
    const Array a31 = xt::view(a3, 1);
    test::check_within("matrix 1", Array(xt::view(z.value(), 1)), matmul(Tensor(a31), m).value(),
                       test::matmul_bounds(a31, m.value()));
    CHECK_THROWS_WITH_AS(matmul(Tensor(a3), Tensor(random_array({3, 4, 2}))),
                         doctest::Contains("matmul: inner dimensions differ: a is [2, 2, 3], b is [3, 4, 2]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(matmul(Tensor(random_array({2, 2, 3})), Tensor(random_array({3, 3, 4}))),
                         doctest::Contains("matmul: shapes [2] and [3] cannot be broadcast"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(matmul(v, Tensor(Array{1.0f, 2.0f})), doctest::Contains("inner dimensions differ: a is [3], b is [2]"),
                         std::invalid_argument);
}

TEST_CASE("gradcheck and gradgradcheck of matmul in every torch.matmul form") {
    const Array v = random_array({3}, -1.0f, 1.0f, 84), m = random_array({3, 2}, -1.0f, 1.0f, 85);
    const Array a4 = random_array({2, 1, 2, 3}, -1.0f, 1.0f, 86), b3 = random_array({3, 3, 2}, -1.0f, 1.0f, 87);
    const Array a3 = random_array({2, 2, 3}, -1.0f, 1.0f, 88);
    auto mm = [](const auto& t) { return matmul(t[0], t[1]); };
    auto mm_sq = [](const auto& t) { return square(matmul(t[0], t[1])); };
    for (const auto& [x, y] : std::vector<std::pair<Array, Array>>{{v, v}, {v, m}, {a4, b3}, {a3, m}, {a3, v}}) {
        CHECK_GRAD(gradcheck(mm, {x, y}));
        CHECK_GRADGRAD(gradgradcheck(mm_sq, {x, y}));
    }
}

// backend/narrow_gemm: y = x w^T with few output columns, against OpenBLAS on the same
// operands, within float rounding of the sums (test::sum_bound of the products' magnitudes).
TEST_CASE("the narrow-product kernel agrees with OpenBLAS on every shape it takes, on 1 and 2 threads") {
    const int threads_before = num_threads();
    for (int threads : {1, 2}) {
        set_num_threads(threads);
        for (std::size_t m : {1, 2, 3, 7, 100})
            for (std::size_t n : {1, 2, 5, 10, 12, 13, 16, 24})
                for (std::size_t k : {64, 100, 784, 980}) {
                    CAPTURE(threads);
                    CAPTURE(m);
                    CAPTURE(n);
                    CAPTURE(k);
                    const std::size_t ldx = k + 3;  // strided rows, as a view's would be
                    const Array x = test::random_array({m, ldx}, -1, 1, 1);
                    const Array w = test::random_array({n, k}, -1, 1, 2);
                    const Array start = test::random_array({m, n}, -1, 1, 3);
                    for (bool accumulate : {false, true}) {
                        Array fast = start, reference = start;
                        narrow_gemm_nt(m, n, k, x.data(), ldx, w.data(), k, fast.data(), n,
                                       accumulate);
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(n),
                                    int(k), 1.0f, x.data(), int(ldx), w.data(), int(k),
                                    accumulate ? 1.0f : 0.0f, reference.data(), int(n));
                        for (std::size_t i = 0; i < m; ++i)
                            for (std::size_t j = 0; j < n; ++j) {
                                double magnitude = accumulate ? std::abs(start(i, j)) : 0.0;
                                for (std::size_t p = 0; p < k; ++p)
                                    magnitude += std::abs(double(x(i, p)) * w(j, p));
                                REQUIRE(std::abs(fast(i, j) - reference(i, j)) <=
                                        test::sum_bound(k + accumulate, magnitude));
                            }
                    }
                }
    }
    set_num_threads(threads_before);
}

TEST_CASE("linear sends a product with few outputs to the narrow kernel, with OpenBLAS's values") {
    const Array x = test::random_array({50, 300}, -1, 1, 4);
    const Array w = test::random_array({10, 300}, -1, 1, 5);
    const Array b = test::random_array({10}, -1, 1, 6);
    // Restores the switch however the test ends (TAPEGRAD_FAST_PATHS may have started it off).
    struct Restore {
        bool before = narrow_gemm_applies(50, 10, 300);
        ~Restore() { use_narrow_gemm(before); }
    } restore;
    use_narrow_gemm(true);
    if (!narrow_gemm_applies(50, 10, 300))
        test::skip_test("the narrow kernel needs a build for AVX-512");
    const Array fast = linear(Tensor(x), Tensor(w), Tensor(b)).value();
    use_narrow_gemm(false);
    const Array reference = linear(Tensor(x), Tensor(w), Tensor(b)).value();
    // Each output sums 300 products and the bias in some order on each path.
    Array bias_row = xt::broadcast(b, {50, 10});
    test::check_within("narrow kernel against OpenBLAS", fast, reference,
                       test::matmul_bounds(x, w, false, true, &bias_row));
}
