#include "helpers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>

using namespace tapegrad;

namespace {

Array reshaped(Array a, const Shape& shape) {
    a.reshape(shape);
    return a;
}

// Distinct values 0.1 apart in a random order, centred on 0: no window has a tie, and a
// gradcheck step of 1e-3 cannot change which element is the maximum.
Array distinct_values(const Shape& shape, std::uint32_t seed) {
    Array a = Array::from_shape(shape);
    std::vector<float> v(a.size());
    std::iota(v.begin(), v.end(), 0.0f);
    std::shuffle(v.begin(), v.end(), std::mt19937(seed));
    const float centre = 0.5f * static_cast<float>(a.size());
    for (std::size_t k = 0; k < a.size(); ++k) a.data()[k] = 0.1f * (v[k] - centre);
    return a;
}

// y[n,c,i,j] = max over the window, straight from the definition.
Array naive_max_pool(const Array& x, std::size_t k, std::size_t s) {
    const std::size_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
    const std::size_t ho = (H - k) / s + 1, wo = (W - k) / s + 1;
    Array y = Array::from_shape({N, C, ho, wo});
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t i = 0; i < ho; ++i)
                for (std::size_t j = 0; j < wo; ++j) {
                    float best = x(n, c, i * s, j * s);
                    for (std::size_t u = 0; u < k; ++u)
                        for (std::size_t v = 0; v < k; ++v)
                            best = std::max(best, x(n, c, i * s + u, j * s + v));
                    y(n, c, i, j) = best;
                }
    return y;
}

GradcheckResult gradcheck_pool(const Shape& sx, std::size_t k, std::size_t s) {
    return gradcheck([=](const std::vector<Tensor>& t) { return max_pool2d(t[0], k, s); },
                     {distinct_values(sx, 5)});
}

}  // namespace

TEST_CASE("max_pool2d of a 4x4 input with kernel 2 and stride 2 gives values worked by hand") {
    // x =  1  5 |  2  0     y = 5 7     dx for dy = 1 2:   0 1 | 0 0
    //      3 -1 |  7  6         9 8               3 4      0 0 | 2 0
    //     ------+------                                    ----+----
    //      9  4 |  8  8                                    3 0 | 4 0
    //      2  0 |  1  8                                    0 0 | 0 0
    // The last window ties at 8 three times: the first one (row by row) takes the gradient.
    const Array xv = reshaped(Array{1, 5, 2, 0, 3, -1, 7, 6, 9, 4, 8, 8, 2, 0, 1, 8}, {1, 1, 4, 4});
    Tensor x(xv, true);
    Tensor y = max_pool2d(x, 2, 2);
    CHECK(y.value() == reshaped(Array{5, 7, 9, 8}, {1, 1, 2, 2}));
    y.backward(reshaped(Array{1, 2, 3, 4}, {1, 1, 2, 2}));
    CHECK(x.grad() ==
          reshaped(Array{0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 4, 0, 0, 0, 0, 0}, {1, 1, 4, 4}));
}

TEST_CASE("max_pool2d sends the gradient of a constant window to its first element") {
    Tensor x(xt::ones<float>({1, 1, 2, 2}), true);
    max_pool2d(x, 2, 2).backward(Array(xt::ones<float>({1, 1, 1, 1})));
    CHECK(x.grad() == reshaped(Array{1, 0, 0, 0}, {1, 1, 2, 2}));
}

TEST_CASE("max_pool2d with overlapping windows adds the gradients of every window") {
    // Kernel 3 stride 2 on 3x5: windows cover columns 0-2 and 2-4, sharing column 2.
    // x = 0 1 9 1 0     y = 9 9     dx for dy = 1 2: the shared 9 collects 1 + 2 = 3.
    //     0 2 0 2 0
    //     3 0 0 0 4
    Tensor x(reshaped(Array{0, 1, 9, 1, 0, 0, 2, 0, 2, 0, 3, 0, 0, 0, 4}, {1, 1, 3, 5}), true);
    Tensor y = max_pool2d(x, 3, 2);
    CHECK(y.value() == reshaped(Array{9, 9}, {1, 1, 1, 2}));
    y.backward(reshaped(Array{1, 2}, {1, 1, 1, 2}));
    CHECK(x.grad() == reshaped(Array{0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 3, 5}));
}

TEST_CASE("max_pool2d output shapes follow the PyTorch formula") {
    struct Case {
        Shape x;
        std::size_t k, s;
        Shape y;
    };
    const Case cases[] = {
        {{100, 20, 28, 28}, 2, 2, {100, 20, 14, 14}},  // tutorial pool 1
        {{100, 20, 14, 14}, 2, 2, {100, 20, 7, 7}},    // tutorial pool 2
        {{1, 1, 5, 7}, 2, 2, {1, 1, 2, 3}},            // floor: the last row and column are dropped
        {{1, 1, 7, 7}, 3, 2, {1, 1, 3, 3}},
        {{2, 3, 5, 8}, 3, 1, {2, 3, 3, 6}},
        {{1, 1, 4, 6}, 4, 4, {1, 1, 1, 1}},            // kernel = input height
    };
    for (const Case& c : cases) {
        INFO("x " << shape_str(c.x) << " kernel " << c.k << " stride " << c.s);
        CHECK(max_pool2d(Tensor(xt::zeros<float>(c.x)), c.k, c.s).shape() == c.y);
    }
}

TEST_CASE("max_pool2d matches a naive max over each window on random data") {
    for (const auto& [shape, k, s] : {std::tuple<Shape, std::size_t, std::size_t>{{3, 4, 28, 28}, 2, 2},
                                      {{2, 3, 9, 11}, 3, 2},
                                      {{2, 3, 9, 11}, 2, 3}}) {
        INFO("x " << shape_str(shape) << " kernel " << k << " stride " << s);
        const Array x = test::random_array(shape, -1.0f, 1.0f, 9);
        CHECK(max_pool2d(Tensor(x), k, s).value() == naive_max_pool(x, k, s));
    }
}

TEST_CASE("max_pool2d 2x2 sends each gradient to the first maximum of its window, rows longer than a chunk") {
    // Values of 0 and 1 only: most windows tie. 70 columns: 35 windows a row, in chunks of 16.
    const Array r = test::random_array({2, 3, 6, 70}, 0.0f, 2.0f, 21);
    const Array x = xt::floor(r);
    Tensor t(x, true);
    Tensor y = max_pool2d(t, 2, 2);
    y.backward(Array(xt::ones<float>(y.shape())));
    Array expected = xt::zeros<float>(x.shape());
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t i = 0; i < 3; ++i)
                for (std::size_t j = 0; j < 35; ++j) {
                    std::size_t bu = 0, bv = 0;  // row-major order, strictly greater wins
                    for (std::size_t u = 0; u < 2; ++u)
                        for (std::size_t v = 0; v < 2; ++v)
                            if (x(n, c, 2 * i + u, 2 * j + v) > x(n, c, 2 * i + bu, 2 * j + bv)) {
                                bu = u;
                                bv = v;
                            }
                    CHECK(y.value()(n, c, i, j) == x(n, c, 2 * i + bu, 2 * j + bv));
                    expected(n, c, 2 * i + bu, 2 * j + bv) = 1.0f;
                }
    CHECK(t.grad() == expected);
}

TEST_CASE("max_pool2d gradcheck with kernel 2 and stride 2") {
    CHECK_GRAD(gradcheck_pool({2, 3, 6, 6}, 2, 2));
}

TEST_CASE("max_pool2d gradcheck with kernel 3 and stride 2 where windows overlap") {
    CHECK_GRAD(gradcheck_pool({2, 2, 7, 7}, 3, 2));
}

TEST_CASE("max_pool2d gradcheck on a non-square input with leftover rows and columns") {
    CHECK_GRAD(gradcheck_pool({2, 3, 5, 7}, 2, 2));
    CHECK_GRAD(gradcheck_pool({1, 2, 6, 9}, 3, 2));
}

TEST_CASE("max_pool2d records nothing when x requires no gradient") {
    Tensor y = max_pool2d(Tensor(xt::ones<float>({1, 1, 4, 4})), 2, 2);
    CHECK_FALSE(y.requires_grad());
    CHECK(Tape::current().size() == 0);
}

TEST_CASE("max_pool2d rejects an x that is not 4-D") {
    CHECK_THROWS_WITH_AS(max_pool2d(Tensor(xt::zeros<float>({20, 28, 28})), 2, 2),
                         doctest::Contains("max_pool2d: x must be 4-D [N, C, H, W], but its shape "
                                           "is [20, 28, 28]"),
                         std::invalid_argument);
}

TEST_CASE("max_pool2d rejects a kernel of 0") {
    CHECK_THROWS_WITH_AS(max_pool2d(Tensor(xt::zeros<float>({1, 1, 4, 4})), 0, 2),
                         doctest::Contains("max_pool2d: kernel must be at least 1"),
                         std::invalid_argument);
}

TEST_CASE("max_pool2d rejects a stride of 0") {
    CHECK_THROWS_WITH_AS(max_pool2d(Tensor(xt::zeros<float>({1, 1, 4, 4})), 2, 0),
                         doctest::Contains("max_pool2d: stride must be at least 1"),
                         std::invalid_argument);
}

TEST_CASE("max_pool2d rejects a kernel larger than the input") {
    CHECK_THROWS_WITH_AS(max_pool2d(Tensor(xt::zeros<float>({1, 1, 2, 5})), 3, 1),
                         doctest::Contains("max_pool2d: the 3x3 kernel is larger than the input: "
                                           "x is [1, 1, 2, 5], so 2x5"),
                         std::invalid_argument);
}

TEST_CASE("max_pool2d propagates a NaN as PyTorch does") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    Tensor x(reshaped(Array{1, nan, 3, 2}, {1, 1, 2, 2}), true);
    Tensor y = max_pool2d(x, 2, 2);
    CHECK(std::isnan(y.value()(0, 0, 0, 0)));
    y.backward(Array(xt::ones<float>({1, 1, 1, 1})));
    CHECK(x.grad() == reshaped(Array{0, 1, 0, 0}, {1, 1, 2, 2}));
}

TEST_CASE("max_pool2d split over two threads gives the values and gradient of one thread") {
    // 8 x 20 planes of 28x28: large enough that each thread takes a share (backend/parallel.hpp).
    const Array xv = distinct_values({8, 20, 28, 28}, 11);
    const Array dy = test::random_array({8, 20, 14, 14}, -1.0f, 1.0f, 12);
    auto run = [&](int threads) {
        test::ScopedThreads scoped(threads);
        Tensor x(xv, true);
        Tensor y = max_pool2d(x, 2, 2);
        y.backward(dy);
        return std::make_pair(y.value(), x.grad());
    };
    const auto one = run(1), two = run(2);
    CHECK(one.first == naive_max_pool(xv, 2, 2));
    CHECK(two.first == one.first);
    CHECK(two.second == one.second);
    // Each dy lands on one x: the gradient holds the 31,360 values of dy and zeros. Summed in
    // double, the two totals differ only by double rounding, 2 gamma(n) of the sum of |dy| with
    // double's gamma, far below any one dy that went missing or twice.
    double grad_total = 0.0, dy_total = 0.0, magnitude = 0.0;
    for (const float g : one.second) grad_total += g;
    for (const float d : dy) {
        dy_total += d;
        magnitude += std::abs(d);
    }
    const double nu = double(dy.size()) * std::numeric_limits<double>::epsilon() / 2.0;
    CHECK(std::abs(grad_total - dy_total) <= 2.0 * nu / (1.0 - nu) * magnitude);
}

TEST_CASE("max_pool2d with padding frames the input with -inf, as torch") {
    Tensor x(reshaped(Array{1.0f, -2.0f, 3.0f, -4.0f, 5.0f, -6.0f, 7.0f, -8.0f, 9.0f}, {1, 1, 3, 3}), true);
    Tensor y = max_pool2d(x, 2, 2, 1);  // windows [-1, 1) x [-1, 1), ... over a 4x4 framed plane
    CHECK(y.shape() == Shape{1, 1, 2, 2});
    CHECK(y.value() == reshaped(Array{1.0f, 3.0f, 7.0f, 9.0f}, {1, 1, 2, 2}));
    sum(y).backward();
    CHECK(x.grad() == reshaped(Array{1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 1.0f}, {1, 1, 3, 3}));
    CHECK_THROWS_WITH_AS(max_pool2d(x, 2, 2, 2), doctest::Contains("max_pool2d: padding 2 is more than half the kernel 2"),
                         std::invalid_argument);
    const Array a = test::random_array({2, 2, 5, 4}, -1.0f, 1.0f, 101);
    CHECK_GRAD(gradcheck([](const auto& t) { return max_pool2d(t[0], 3, 2, 1); }, {a}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return square(max_pool2d(t[0], 3, 2, 1)); }, {a}));
}

TEST_CASE("avg_pool2d averages each window, counting the padding as zeros, as torch") {
    Tensor x(reshaped(Array{1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f}, {1, 1, 3, 3}), true);
    CHECK(avg_pool2d(x, 2, 1).value() == reshaped(Array{3.0f, 4.0f, 6.0f, 7.0f}, {1, 1, 2, 2}));
    Tensor y = avg_pool2d(x, 2, 2, 1);  // corners: one real cell of four
    CHECK(y.value() == reshaped(Array{0.25f, 1.25f, 2.75f, 7.0f}, {1, 1, 2, 2}));
    sum(y).backward();
    CHECK(x.grad() == reshaped(Array{0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f}, {1, 1, 3, 3}));
    CHECK_THROWS_WITH_AS(avg_pool2d(x, 0, 1), doctest::Contains("avg_pool2d: kernel must be at least 1"),
                         std::invalid_argument);
    const Array a = test::random_array({2, 2, 5, 4}, -1.0f, 1.0f, 102);
    CHECK_GRAD(gradcheck([](const auto& t) { return avg_pool2d(t[0], 3, 2, 1); }, {a}));
    CHECK_GRADGRAD(gradgradcheck([](const auto& t) { return square(avg_pool2d(t[0], 2, 1)); }, {a}));
}
