#include "helpers.hpp"

#include <algorithm>
#include <cmath>

#include <tapegrad/backend/small_gemm.hpp>
#include <tapegrad/backend/conv_plane.hpp>
#include <xtensor/xview.hpp>

using namespace tapegrad;
using tapegrad::test::random_array;

namespace {

Array reshaped(Array a, const Shape& shape) {
    a.reshape(shape);
    return a;
}

// The definition, term by term, in double:
//   y[n,o,i,j] = b[o] + sum over c, u, v of w[o,c,u,v] * x[n, c, i*s + u - p, j*s + v - p]
// `visit` is called with (x index, w index, y index) for every product that takes part, so the
// same loops give the forward pass and the backward pass.
template <class F>
void each_product(const Shape& sx, const Shape& sw, std::size_t s, std::size_t p, F&& visit) {
    const std::size_t N = sx[0], C = sx[1], H = sx[2], W = sx[3], O = sw[0], kh = sw[2], kw = sw[3];
    const std::size_t ho = (H + 2 * p - kh) / s + 1, wo = (W + 2 * p - kw) / s + 1;
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t o = 0; o < O; ++o)
            for (std::size_t i = 0; i < ho; ++i)
                for (std::size_t j = 0; j < wo; ++j)
                    for (std::size_t c = 0; c < C; ++c)
                        for (std::size_t u = 0; u < kh; ++u)
                            for (std::size_t v = 0; v < kw; ++v) {
                                const long h = static_cast<long>(i * s + u) - static_cast<long>(p);
                                const long w = static_cast<long>(j * s + v) - static_cast<long>(p);
                                if (h < 0 || w < 0 || h >= static_cast<long>(H) ||
                                    w >= static_cast<long>(W))
                                    continue;
                                visit(((n * C + c) * H + h) * W + w, ((o * C + c) * kh + u) * kw + v,
                                      ((n * O + o) * ho + i) * wo + j);
                            }
}

Shape conv_shape(const Shape& sx, const Shape& sw, std::size_t s, std::size_t p) {
    return {sx[0], sw[0], (sx[2] + 2 * p - sw[2]) / s + 1, (sx[3] + 2 * p - sw[3]) / s + 1};
}

Array naive_conv(const Array& x, const Array& w, const Array& b, bool has_bias, std::size_t s,
                 std::size_t p) {
    const Shape sx(x.shape().begin(), x.shape().end()), sw(w.shape().begin(), w.shape().end());
    const Shape sy = conv_shape(sx, sw, s, p);
    std::vector<double> y(sy[0] * sy[1] * sy[2] * sy[3], 0.0);
    each_product(sx, sw, s, p, [&](std::size_t xi, std::size_t wi, std::size_t yi) {
        y[yi] += static_cast<double>(x.data()[xi]) * w.data()[wi];
    });
    Array out = Array::from_shape(sy);
    const std::size_t plane = sy[2] * sy[3];
    for (std::size_t k = 0; k < y.size(); ++k)
        out.data()[k] = static_cast<float>(y[k] + (has_bias ? b.data()[(k / plane) % sy[1]] : 0.0f));
    return out;
}

// The gradients of sum(dy * y) by the same loops: dx[xi] += dy[yi] w[wi], dw[wi] += dy[yi] x[xi].
void naive_conv_backward(const Array& x, const Array& w, const Array& dy, std::size_t s,
                         std::size_t p, Array& dx, Array& dw, Array& db) {
    const Shape sx(x.shape().begin(), x.shape().end()), sw(w.shape().begin(), w.shape().end());
    std::vector<double> gx(x.size(), 0.0), gw(w.size(), 0.0), gb(sw[0], 0.0);
    each_product(sx, sw, s, p, [&](std::size_t xi, std::size_t wi, std::size_t yi) {
        gx[xi] += static_cast<double>(dy.data()[yi]) * w.data()[wi];
        gw[wi] += static_cast<double>(dy.data()[yi]) * x.data()[xi];
    });
    const std::size_t plane = dy.shape()[2] * dy.shape()[3];
    for (std::size_t k = 0; k < dy.size(); ++k) gb[(k / plane) % sw[0]] += dy.data()[k];
    dx = Array::from_shape(x.shape());
    dw = Array::from_shape(w.shape());
    db = Array::from_shape({sw[0]});
    for (std::size_t k = 0; k < gx.size(); ++k) dx.data()[k] = static_cast<float>(gx[k]);
    for (std::size_t k = 0; k < gw.size(); ++k) dw.data()[k] = static_cast<float>(gw[k]);
    for (std::size_t k = 0; k < gb.size(); ++k) db.data()[k] = static_cast<float>(gb[k]);
}

// How many terms each result of a convolution sums, at most: an output y its window of
// C/groups x kh x kw products and the bias; dx the O/groups x kh x kw taps that can touch one
// input; dw and db a product for every image and output position. Bounds on the rounding of
// these sums come from these counts and the sums of |term| (test::sum_bounds).
struct Terms {
    std::size_t y, dx, dw;
};

template <class WeightShape, class OutputShape>
Terms conv_terms(const WeightShape& sw, const OutputShape& sy, std::size_t groups = 1) {
    return {sw[1] * sw[2] * sw[3] + 1, sw[0] / groups * sw[2] * sw[3], sy[0] * sy[2] * sy[3]};
}

Array abs_of(const Array& a) { return xt::abs(a); }

// conv2d is linear in each input taken alone, so central differences are exact up to float
// rounding for any step; a step larger than the default makes that rounding a smaller share.
GradcheckOptions linear_step() {
    GradcheckOptions options;
    options.eps = 1e-2;
    return options;
}

GradcheckResult gradcheck_conv(const Shape& sx, const Shape& sw, std::size_t s, std::size_t p,
                               bool with_bias) {
    std::vector<Array> inputs{random_array(sx, -1.0f, 1.0f, 11), random_array(sw, -1.0f, 1.0f, 12)};
    if (with_bias) inputs.push_back(random_array({sw[0]}, -1.0f, 1.0f, 13));
    return gradcheck(
        [=](const std::vector<Tensor>& t) {
            return conv2d(t[0], t[1], with_bias ? t[2] : Tensor(), s, p);
        },
        inputs, linear_step());
}

}  // namespace

TEST_CASE("conv2d of a 3x3 input with a 2x2 kernel gives values worked by hand") {
    // x = 1 2 3    w = 1 2    b = 0.5    y[0,0] = 1*1 + 2*2 + 4*3 + 5*4 + 0.5 = 37.5
    //     4 5 6        3 4               y[0,1] = 2*1 + 3*2 + 5*3 + 6*4 + 0.5 = 47.5
    //     7 8 9                          y[1,0] = 4*1 + 5*2 + 7*3 + 8*4 + 0.5 = 67.5
    //                                    y[1,1] = 5*1 + 6*2 + 8*3 + 9*4 + 0.5 = 77.5
    Tensor x(reshaped(xt::arange<float>(1, 10), {1, 1, 3, 3}));
    Tensor w(reshaped(xt::arange<float>(1, 5), {1, 1, 2, 2}));
    Tensor b(Array{0.5f});
    Tensor y = conv2d(x, w, b);
    REQUIRE(y.shape() == Shape{1, 1, 2, 2});
    CHECK(y.value()(0, 0, 0, 0) == doctest::Approx(37.5));
    CHECK(y.value()(0, 0, 0, 1) == doctest::Approx(47.5));
    CHECK(y.value()(0, 0, 1, 0) == doctest::Approx(67.5));
    CHECK(y.value()(0, 0, 1, 1) == doctest::Approx(77.5));
}

TEST_CASE("conv2d backward of the 3x3 example gives gradients worked by hand") {
    // With dy = 1 everywhere:
    //   dw[u,v] = sum of the x under w[u,v] in the four windows:
    //     dw = 1+2+4+5  2+3+5+6  =  12 16      db = 4 (four outputs)
    //          4+5+7+8  5+6+8+9     24 28
    //   dx[h,w] = sum of the w that touch x[h,w]:
    //     dx = 1    1+2          2       =  1  3  2
    //          1+3  1+2+3+4      2+4        4 10  6
    //          3    3+4          4          3  7  4
    Tensor x(reshaped(xt::arange<float>(1, 10), {1, 1, 3, 3}), true);
    Tensor w(reshaped(xt::arange<float>(1, 5), {1, 1, 2, 2}), true);
    Tensor b(Array{0.5f}, true);
    conv2d(x, w, b).backward(xt::ones<float>({1, 1, 2, 2}));
    const Array dw = reshaped(Array{12.0f, 16.0f, 24.0f, 28.0f}, {1, 1, 2, 2});
    const Array dx = reshaped(Array{1.0f, 3.0f, 2.0f, 4.0f, 10.0f, 6.0f, 3.0f, 7.0f, 4.0f},
                              {1, 1, 3, 3});
    CHECK(w.grad() == dw);
    CHECK(x.grad() == dx);
    CHECK(b.grad()(0) == doctest::Approx(4.0));
}

TEST_CASE("conv2d with padding 1 and stride 2 gives values worked by hand") {
    // x padded with zeros to 5x5; windows start at rows and columns -1 and 1 of x:
    //   y[0,0] = x[0,0]*4                          = 4
    //   y[0,1] = x[0,1]*3 + x[0,2]*4 = 6 + 12      = 18
    //   y[1,0] = x[1,0]*2 + x[2,0]*4 = 8 + 28      = 36
    //   y[1,1] = 5*1 + 6*2 + 8*3 + 9*4             = 77
    Tensor x(reshaped(xt::arange<float>(1, 10), {1, 1, 3, 3}));
    Tensor w(reshaped(xt::arange<float>(1, 5), {1, 1, 2, 2}));
    Tensor y = conv2d(x, w, Tensor(), 2, 1);
    const Array want = reshaped(Array{4.0f, 18.0f, 36.0f, 77.0f}, {1, 1, 2, 2});
    CHECK(y.value() == want);
}

TEST_CASE("conv2d output shapes follow the PyTorch formula") {
    struct Case {
        Shape x, w;
        std::size_t s, p;
        Shape y;
    };
    const Case cases[] = {
        {{100, 1, 28, 28}, {20, 1, 5, 5}, 1, 2, {100, 20, 28, 28}},  // tutorial conv 1
        {{100, 20, 14, 14}, {20, 20, 5, 5}, 1, 2, {100, 20, 14, 14}},  // tutorial conv 2
        {{2, 3, 5, 7}, {4, 3, 3, 3}, 1, 0, {2, 4, 3, 5}},
        {{2, 3, 5, 7}, {4, 3, 3, 3}, 2, 0, {2, 4, 2, 3}},              // (5-3)/2+1, (7-3)/2+1
        {{1, 1, 28, 28}, {1, 1, 5, 5}, 2, 2, {1, 1, 14, 14}},          // floor((28+4-5)/2)+1
        {{1, 1, 6, 6}, {1, 1, 3, 3}, 4, 1, {1, 1, 2, 2}},              // floor(5/4)+1
        {{1, 1, 2, 3}, {1, 1, 4, 5}, 1, 1, {1, 1, 1, 1}},              // kernel = padded input
    };
    for (const Case& c : cases) {
        INFO("x " << shape_str(c.x) << " w " << shape_str(c.w) << " s " << c.s << " p " << c.p);
        CHECK(conv2d(Tensor(xt::zeros<float>(c.x)), Tensor(xt::zeros<float>(c.w)), Tensor(), c.s,
                     c.p)
                  .shape() == c.y);
    }
}

TEST_CASE("conv2d matches a naive direct convolution on random data") {
    struct Case {
        Shape x, w;
        std::size_t s, p;
        bool bias;
    };
    const Case cases[] = {
        {{3, 1, 28, 28}, {20, 1, 5, 5}, 1, 2, true},   // tutorial conv 1, small batch
        {{3, 20, 14, 14}, {20, 20, 5, 5}, 1, 2, true},  // tutorial conv 2, small batch
        {{2, 3, 9, 11}, {4, 3, 3, 2}, 2, 1, true},
        {{2, 3, 9, 11}, {5, 3, 3, 3}, 3, 2, false},
        {{1, 2, 4, 4}, {3, 2, 1, 1}, 1, 0, true},      // 1x1 kernel
    };
    std::uint32_t seed = 100;
    for (const Case& c : cases) {
        INFO("x " << shape_str(c.x) << " w " << shape_str(c.w) << " s " << c.s << " p " << c.p);
        const Array x = random_array(c.x, -1.0f, 1.0f, ++seed);
        const Array w = random_array(c.w, -1.0f, 1.0f, ++seed);
        const Array b = random_array({c.w[0]}, -1.0f, 1.0f, ++seed);
        const Tensor y = conv2d(Tensor(x), Tensor(w), c.bias ? Tensor(b) : Tensor(), c.s, c.p);
        // The reference sums in double: tapegrad's float sums are within gamma(n) of the sum of
        // |term|, which is the convolution of the absolute values.
        const Array magnitude = naive_conv(abs_of(x), abs_of(w), abs_of(b), c.bias, c.s, c.p);
        test::check_within("y", y.value(), naive_conv(x, w, b, c.bias, c.s, c.p),
                           test::exact_sum_bounds(conv_terms(c.w, y.shape()).y, magnitude));
    }
}

TEST_CASE("conv2d gradients match a naive direct backward on the tutorial shapes") {
    struct Case {
        Shape x, w;
        std::size_t s, p;
    };
    const Case cases[] = {
        {{3, 1, 28, 28}, {20, 1, 5, 5}, 1, 2},
        {{3, 20, 14, 14}, {20, 20, 5, 5}, 1, 2},
        {{2, 3, 9, 11}, {4, 3, 3, 2}, 2, 1},
    };
    std::uint32_t seed = 200;
    for (const Case& c : cases) {
        INFO("x " << shape_str(c.x) << " w " << shape_str(c.w) << " s " << c.s << " p " << c.p);
        Tensor x(random_array(c.x, -1.0f, 1.0f, ++seed), true);
        Tensor w(random_array(c.w, -1.0f, 1.0f, ++seed), true);
        Tensor b(random_array({c.w[0]}, -1.0f, 1.0f, ++seed), true);
        Tensor y = conv2d(x, w, b, c.s, c.p);
        const Array dy = random_array(y.shape(), -1.0f, 1.0f, ++seed);
        y.backward(dy);
        Array dx, dw, db, mx, mw, mb;
        naive_conv_backward(x.value(), w.value(), dy, c.s, c.p, dx, dw, db);
        // The sums of |term| of each gradient: the same loops on the absolute values.
        naive_conv_backward(abs_of(x.value()), abs_of(w.value()), abs_of(dy), c.s, c.p, mx, mw, mb);
        const Terms n = conv_terms(c.w, y.shape());
        test::check_within("dx", x.grad(), dx, test::exact_sum_bounds(n.dx, mx));
        test::check_within("dw", w.grad(), dw, test::exact_sum_bounds(n.dw, mw));
        test::check_within("db", b.grad(), db, test::exact_sum_bounds(n.dw, mb));
    }
}

TEST_CASE("conv2d gradcheck with stride 1 and no padding on a batch of non-square inputs") {
    CHECK_GRAD(gradcheck_conv({2, 3, 5, 7}, {4, 3, 3, 3}, 1, 0, true));
}

TEST_CASE("conv2d gradcheck with stride 2 and no padding") {
    CHECK_GRAD(gradcheck_conv({2, 3, 6, 7}, {2, 3, 2, 3}, 2, 0, true));
}

TEST_CASE("conv2d gradcheck with stride 1 and padding 2 as in the tutorial") {
    CHECK_GRAD(gradcheck_conv({2, 2, 6, 5}, {3, 2, 5, 5}, 1, 2, true));
}

TEST_CASE("conv2d gradcheck with stride 2 and padding 2") {
    CHECK_GRAD(gradcheck_conv({2, 2, 5, 7}, {3, 2, 3, 3}, 2, 2, true));
}

TEST_CASE("conv2d gradcheck without bias") {
    CHECK_GRAD(gradcheck_conv({2, 3, 5, 7}, {4, 3, 3, 3}, 1, 0, false));
    CHECK_GRAD(gradcheck_conv({2, 2, 5, 7}, {3, 2, 3, 3}, 2, 2, false));
}

TEST_CASE("conv2d gradcheck with a stride larger than the kernel leaves skipped inputs at zero") {
    CHECK_GRAD(gradcheck_conv({2, 2, 7, 8}, {2, 2, 2, 2}, 3, 0, true));
}

TEST_CASE("conv2d gradcheck with a kernel that covers the whole padded input") {
    CHECK_GRAD(gradcheck_conv({2, 2, 3, 4}, {2, 2, 5, 6}, 1, 1, true));
}

TEST_CASE("conv2d gradients accumulate when the same tensors are used twice") {
    // y = conv(x, w, b) + conv(x, w, b) = 2 conv(x, w, b): every gradient is doubled.
    const std::vector<Array> inputs{random_array({2, 2, 5, 6}, -1.0f, 1.0f, 21),
                                    random_array({3, 2, 3, 3}, -1.0f, 1.0f, 22),
                                    random_array({3}, -1.0f, 1.0f, 23)};
    CHECK_GRAD(gradcheck(
        [](const std::vector<Tensor>& t) {
            return conv2d(t[0], t[1], t[2], 1, 1) + conv2d(t[0], t[1], t[2], 1, 1);
        },
        inputs, linear_step()));
}

TEST_CASE("conv2d computes only the gradients that are required") {
    const Array xv = random_array({2, 1, 6, 6}, -1.0f, 1.0f, 31);
    const Array wv = random_array({3, 1, 3, 3}, -1.0f, 1.0f, 32);
    const Array bv = random_array({3}, -1.0f, 1.0f, 33);
    const Array dy = random_array({2, 3, 6, 6}, -1.0f, 1.0f, 34);
    Array dx, dw, db, mx, mw, mb;
    naive_conv_backward(xv, wv, dy, 1, 1, dx, dw, db);
    naive_conv_backward(abs_of(xv), abs_of(wv), abs_of(dy), 1, 1, mx, mw, mb);  // sums of |term|
    const Terms n = conv_terms(wv.shape(), dy.shape());

    SUBCASE("an input image needs no gradient as in a first layer") {
        Tensor x(xv), w(wv, true), b(bv, true);
        conv2d(x, w, b, 1, 1).backward(dy);
        CHECK_FALSE(x.has_grad());
        test::check_within("dw", w.grad(), dw, test::exact_sum_bounds(n.dw, mw));
        test::check_within("db", b.grad(), db, test::exact_sum_bounds(n.dw, mb));
    }
    SUBCASE("frozen weight and bias") {
        Tensor x(xv, true), w(wv), b(bv);
        conv2d(x, w, b, 1, 1).backward(dy);
        CHECK_FALSE(w.has_grad());
        CHECK_FALSE(b.has_grad());
        test::check_within("dx", x.grad(), dx, test::exact_sum_bounds(n.dx, mx));
    }
}

TEST_CASE("conv2d records nothing when no input requires a gradient") {
    Tensor y = conv2d(Tensor(xt::ones<float>({1, 1, 4, 4})), Tensor(xt::ones<float>({2, 1, 3, 3})),
                      Tensor(xt::ones<float>({2})));
    CHECK_FALSE(y.requires_grad());
    CHECK(Tape::current().size() == 0);
}

TEST_CASE("conv2d rejects an x that is not 4-D") {
    CHECK_THROWS_WITH_AS(conv2d(Tensor(xt::zeros<float>({3, 28, 28})),
                                Tensor(xt::zeros<float>({20, 3, 5, 5})), Tensor()),
                         doctest::Contains("conv2d: x must be 4-D [N, C, H, W], but its shape is "
                                           "[3, 28, 28]"),
                         std::invalid_argument);
}

TEST_CASE("conv2d rejects a weight that is not 4-D") {
    CHECK_THROWS_WITH_AS(conv2d(Tensor(xt::zeros<float>({1, 1, 28, 28})),
                                Tensor(xt::zeros<float>({20, 25})), Tensor()),
                         doctest::Contains("conv2d: weight must be 4-D"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(conv2d(Tensor(xt::zeros<float>({1, 1, 28, 28})),
                                Tensor(xt::zeros<float>({20, 25})), Tensor()),
                         doctest::Contains("[20, 25]"), std::invalid_argument);
}

TEST_CASE("conv2d rejects a channel count that differs from the weight") {
    CHECK_THROWS_WITH_AS(conv2d(Tensor(xt::zeros<float>({100, 3, 28, 28})),
                                Tensor(xt::zeros<float>({20, 1, 5, 5})), Tensor()),
                         doctest::Contains("conv2d: x has 3 channels but weight [20, 1, 5, 5] "
                                           "expects 1 (x is [100, 3, 28, 28])"),
                         std::invalid_argument);
}

TEST_CASE("conv2d rejects a bias that is not one value per output channel") {
    CHECK_THROWS_WITH_AS(conv2d(Tensor(xt::zeros<float>({1, 1, 28, 28})),
                                Tensor(xt::zeros<float>({20, 1, 5, 5})),
                                Tensor(xt::zeros<float>({10}))),
                         doctest::Contains("conv2d: bias must have shape [20]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(conv2d(Tensor(xt::zeros<float>({1, 1, 28, 28})),
                                Tensor(xt::zeros<float>({20, 1, 5, 5})),
                                Tensor(xt::zeros<float>({1, 20}))),
                         doctest::Contains("but it is [1, 20]"), std::invalid_argument);
}

TEST_CASE("conv2d rejects a stride of 0") {
    CHECK_THROWS_WITH_AS(conv2d(Tensor(xt::zeros<float>({1, 1, 28, 28})),
                                Tensor(xt::zeros<float>({20, 1, 5, 5})), Tensor(), 0),
                         doctest::Contains("conv2d: stride must be at least 1"),
                         std::invalid_argument);
}

TEST_CASE("conv2d rejects a kernel larger than the padded input") {
    CHECK_THROWS_WITH_AS(conv2d(Tensor(xt::zeros<float>({1, 1, 3, 3})),
                                Tensor(xt::zeros<float>({20, 1, 5, 5})), Tensor()),
                         doctest::Contains("conv2d: the 5x5 kernel of weight [20, 1, 5, 5] is "
                                           "larger than the padded input: x is [1, 1, 3, 3] with "
                                           "padding 0, so 3x3"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(conv2d(Tensor(xt::zeros<float>({1, 1, 8, 2})),
                                Tensor(xt::zeros<float>({2, 1, 3, 5})), Tensor(), 1, 1),
                         doctest::Contains("with padding 1, so 10x4"), std::invalid_argument);
}

TEST_CASE("conv2d rejects an empty kernel") {
    CHECK_THROWS_WITH_AS(conv2d(Tensor(xt::zeros<float>({1, 1, 4, 4})),
                                Tensor(xt::zeros<float>({2, 1, 0, 3})), Tensor()),
                         doctest::Contains("conv2d: weight [2, 1, 0, 3] has an empty kernel"),
                         std::invalid_argument);
}

TEST_CASE("conv2d of an empty batch gives an empty output and zero gradients") {
    Tensor x(Array::from_shape({0, 2, 5, 5}));
    Tensor w(test::random_array({3, 2, 3, 3}), true), b(Array{0.1f, 0.2f, 0.3f}, true);
    Tensor y = conv2d(x, w, b, 1, 1);
    CHECK(y.shape() == Shape{0, 3, 5, 5});
    sum(y).backward();
    CHECK(w.grad() == xt::zeros<float>({3, 2, 3, 3}));
    CHECK(b.grad() == xt::zeros<float>({3}));
}

namespace {

// w [O, C, kh, kw] with d - 1 zeros between its taps: [O, C, d(kh-1)+1, d(kw-1)+1]. A dilated
// convolution is the plain convolution with this kernel.
Array dilated_kernel(const Array& w, std::size_t d) {
    const std::size_t O = w.shape()[0], C = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
    Array big = xt::zeros<float>({O, C, d * (kh - 1) + 1, d * (kw - 1) + 1});
    for (std::size_t o = 0; o < O; ++o)
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t u = 0; u < kh; ++u)
                for (std::size_t v = 0; v < kw; ++v) big(o, c, u * d, v * d) = w(o, c, u, v);
    return big;
}

}  // namespace

TEST_CASE("conv2d with dilation is the convolution with the kernel spread out by zeros") {
    const Array x = random_array({2, 3, 9, 8}, -1.0f, 1.0f, 91), w = random_array({4, 3, 3, 2}, -1.0f, 1.0f, 92);
    const Array b = random_array({4}, -1.0f, 1.0f, 93);
    for (std::size_t d : {2u, 3u})
        for (std::size_t s : {1u, 2u})
            for (std::size_t p : {0u, 2u}) {
                CAPTURE(d);
                CAPTURE(s);
                CAPTURE(p);
                const Array got = conv2d(Tensor(x), Tensor(w), Tensor(b), s, p, d).value();
                const Array want = naive_conv(x, dilated_kernel(w, d), b, true, s, p);
                const Array magnitude =
                    naive_conv(abs_of(x), dilated_kernel(abs_of(w), d), abs_of(b), true, s, p);
                test::check_within("y", got, want,
                                   test::exact_sum_bounds(conv_terms(w.shape(), got.shape()).y, magnitude));
            }
    CHECK(conv2d(Tensor(x), Tensor(w), Tensor(), 1, 0, 2).shape() == Shape{2, 4, 5, 6});  // 9 - 4, 8 - 2
    CHECK_THROWS_WITH_AS(conv2d(Tensor(x), Tensor(w), Tensor(), 1, 0, 0),
                         doctest::Contains("conv2d: dilation must be at least 1"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(conv2d(Tensor(x), Tensor(w), Tensor(), 1, 0, 5),
                         doctest::Contains("(spanning 11x6 with dilation 5) is larger than the padded input"),
                         std::invalid_argument);
}

TEST_CASE("conv2d with groups convolves each group of channels apart, and depthwise is groups = C") {
    const Array x = random_array({2, 4, 6, 5}, -1.0f, 1.0f, 94), w = random_array({6, 2, 3, 3}, -1.0f, 1.0f, 95);
    const Array b = random_array({6}, -1.0f, 1.0f, 96);
    const Tensor y = conv2d(Tensor(x), Tensor(w), Tensor(b), 1, 1, 1, 2);
    // group 0: channels 0-1 -> outputs 0-2, group 1: channels 2-3 -> outputs 3-5. Two float
    // computations of each output's 2 x 3 x 3 products and bias, in orders of their own.
    for (std::size_t g = 0; g < 2; ++g) {
        const Tensor xg = slice(Tensor(x), 1, 2 * g, 2 * g + 2);
        const Tensor wg = slice(Tensor(w), 0, 3 * g, 3 * g + 3);
        const Tensor bg = slice(Tensor(b), 0, 3 * g, 3 * g + 3);
        const Array magnitude = naive_conv(abs_of(xg.value()), abs_of(wg.value()), abs_of(bg.value()), true, 1, 1);
        test::check_within("group " + std::to_string(g), slice(y, 1, 3 * g, 3 * g + 3).value(),
                           conv2d(xg, wg, bg, 1, 1).value(), test::sum_bounds(2 * 3 * 3 + 1, magnitude));
    }
    const Array wd = random_array({4, 1, 3, 3}, -1.0f, 1.0f, 97);  // depthwise: one filter per channel
    const Tensor yd = conv2d(Tensor(x), Tensor(wd), Tensor(), 2, 1, 1, 4);
    for (std::size_t c = 0; c < 4; ++c) {
        const Tensor xc = slice(Tensor(x), 1, c, c + 1), wc = slice(Tensor(wd), 0, c, c + 1);
        const Array magnitude = naive_conv(abs_of(xc.value()), abs_of(wc.value()), Array(), false, 2, 1);
        test::check_within("channel " + std::to_string(c), select(yd, 1, c).value(),
                           select(conv2d(xc, wc, Tensor(), 2, 1), 1, 0).value(),
                           test::sum_bounds(3 * 3, Array(xt::view(magnitude, xt::all(), 0))));
    }
    CHECK_THROWS_WITH_AS(conv2d(Tensor(x), Tensor(w), Tensor(), 1, 0, 1, 3),
                         doctest::Contains("conv2d: groups = 3 must divide both the input channels (4) and the output channels (6)"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(conv2d(Tensor(x), Tensor(random_array({6, 4, 3, 3})), Tensor(), 1, 0, 1, 2),
                         doctest::Contains("x has 4 channels but weight [6, 4, 3, 3] expects 8 (4 per group times 2 groups)"),
                         std::invalid_argument);
}

TEST_CASE("conv2d with dilation and groups passes gradcheck and gradgradcheck") {
    const Array x = random_array({1, 4, 6, 5}, -1.0f, 1.0f, 98), w = random_array({2, 2, 2, 2}, -1.0f, 1.0f, 99);
    const Array b = random_array({2}, -1.0f, 1.0f, 100);
    auto f = [](const std::vector<Tensor>& t) { return conv2d(t[0], t[1], t[2], 2, 1, 2, 2); };
    CHECK_GRAD(gradcheck(f, {x, w, b}, linear_step()));
    CHECK_GRADGRAD(gradgradcheck([&](const std::vector<Tensor>& t) { return square(f(t)); }, {x, w, b}));
}

// The products on kernels generated for their exact shapes (backend/small_gemm.hpp) against
// the same convolution on OpenBLAS alone: values and all three gradients, on the tutorial's
// shapes and on strides, padding, dilation and groups that change the products' sizes.
TEST_CASE("conv2d on generated kernels agrees with conv2d on OpenBLAS") {
    if (!small_gemm_available())
        test::skip_test("tapegrad was built without libxsmm, or libxsmm has no kernels for this CPU");
    struct Case {
        Shape sx, sw;
        std::size_t stride, pad, dilation, groups;
    };
    const std::vector<Case> cases{{{3, 1, 28, 28}, {20, 1, 5, 5}, 1, 2, 1, 1},
                                  {{3, 20, 14, 14}, {20, 20, 5, 5}, 1, 2, 1, 1},
                                  {{2, 3, 9, 8}, {4, 3, 3, 2}, 2, 1, 1, 1},
                                  {{2, 4, 7, 6}, {6, 2, 3, 3}, 1, 1, 2, 2},
                                  {{2, 4, 6, 5}, {4, 1, 3, 3}, 2, 1, 1, 4}};
    // Restores the switch however the test ends (TAPEGRAD_FAST_PATHS may have started it off).
    struct Restore {
        bool before = small_gemm_generated();
        ~Restore() { use_generated_gemm(before); }
    } restore;
    use_generated_gemm(true);
    // The tutorial's second convolution: the product of W [20, 500] and one image's cols.
    CHECK(SmallGemm({20, 196, 500, 500, 196, 196, false}).generated());
    for (const Case& c : cases) {
        CAPTURE(shape_str(c.sw));
        const Array x = random_array(c.sx, -1.0f, 1.0f, 101), w = random_array(c.sw, -1.0f, 1.0f, 102);
        const Array b = random_array({c.sw[0]}, -1.0f, 1.0f, 103);
        const Shape sy = conv2d(Tensor(x), Tensor(w), Tensor(), c.stride, c.pad, c.dilation, c.groups).shape();
        const Array dy = random_array(sy, -1.0f, 1.0f, 104);
        auto run = [&](bool generated, const Array& xv, const Array& wv, const Array& bv, const Array& dyv) {
            use_generated_gemm(generated);
            const Tensor tx(xv, true), tw(wv, true), tb(bv, true);
            const Tensor y = conv2d(tx, tw, tb, c.stride, c.pad, c.dilation, c.groups);
            y.backward(dyv);
            return std::vector<Array>{y.value(), tx.grad(), tw.grad(), tb.grad()};
        };
        const std::vector<Array> fast = run(true, x, w, b, dy), reference = run(false, x, w, b, dy);
        // The sums of |term| of every result: the same convolution on the absolute values.
        const std::vector<Array> magnitude = run(false, abs_of(x), abs_of(w), abs_of(b), abs_of(dy));
        use_generated_gemm(true);
        CHECK(small_gemm_generated());
        // The two paths add each dW's N x 196 products in different orders (the generated one
        // through dW's transpose), so they agree to float rounding of such sums, not bit for bit.
        const Terms n = conv_terms(c.sw, sy, c.groups);
        const std::size_t terms[4] = {n.y, n.dx, n.dw, n.dw};
        const char* names[4] = {"y", "dx", "dw", "db"};
        for (std::size_t k = 0; k < 4; ++k)
            test::check_within(names[k], fast[k], reference[k], test::sum_bounds(terms[k], magnitude[k]));
    }
}

// One-channel images on the direct path (ops/conv_plane.hpp) against the same convolution
// through im2col: values and all three gradients, on 1 and 2 threads, on the tutorial's first
// layer and on sizes that leave partial vectors, rows wider than two vectors, odd channel counts
// and every kernel width the path takes.
TEST_CASE("conv2d of one-channel images computed directly agrees with im2col") {
    struct Case {
        Shape sx, sw;
        std::size_t pad;
        bool bias;
    };
    const std::vector<Case> cases{{{5, 1, 28, 28}, {20, 1, 5, 5}, 2, true},
                                  {{2, 1, 7, 9}, {3, 1, 3, 3}, 1, true},
                                  {{3, 1, 6, 40}, {23, 1, 2, 7}, 0, false},
                                  {{1, 1, 5, 17}, {13, 1, 7, 1}, 3, true},
                                  {{2, 1, 9, 33}, {11, 1, 4, 6}, 2, true},
                                  {{2, 1, 4, 4}, {1, 1, 1, 2}, 0, true}};
    struct Restore {
        int threads = num_threads();
        bool before = plane_conv_applies(1, 1, 1, 1, 3);
        ~Restore() {
            use_plane_conv(before);
            set_num_threads(threads);
        }
    } restore;
    use_plane_conv(true);
    if (!plane_conv_applies(1, 1, 1, 1, 5))
        test::skip_test("this build has no AVX-512 kernels (ops/conv_plane.hpp)");
    for (int threads : {1, 2}) {
        set_num_threads(threads);
        for (const Case& c : cases) {
            CAPTURE(threads);
            CAPTURE(shape_str(c.sx));
            CAPTURE(shape_str(c.sw));
            const Array x = random_array(c.sx, -1.0f, 1.0f, 111), w = random_array(c.sw, -1.0f, 1.0f, 112);
            const Array b = random_array({c.sw[0]}, -1.0f, 1.0f, 113);
            const Array dy = random_array({c.sx[0], c.sw[0], c.sx[2] + 2 * c.pad - c.sw[2] + 1,
                                           c.sx[3] + 2 * c.pad - c.sw[3] + 1},
                                          -1.0f, 1.0f, 114);
            auto run = [&](bool on, const Array& xv, const Array& wv, const Array& bv,
                           const Array& dyv) {
                use_plane_conv(on);
                const Tensor tx(xv, true), tw(wv, true), tb(bv, true);
                const Tensor y = c.bias ? conv2d(tx, tw, tb, 1, c.pad) : conv2d(tx, tw, Tensor(), 1, c.pad);
                y.backward(dyv);
                return std::vector<Array>{y.value(), tx.grad(), tw.grad()};
            };
            const std::vector<Array> fast = run(true, x, w, b, dy), reference = run(false, x, w, b, dy);
            // The sums of the terms' magnitudes bound the rounding of either order of summation.
            const std::vector<Array> magnitude =
                run(false, xt::abs(x), xt::abs(w), xt::abs(b), xt::abs(dy));
            use_plane_conv(true);
            const Terms n = conv_terms(c.sw, dy.shape());
            const std::size_t terms[3] = {n.y, n.dx, n.dw};
            const char* names[3] = {"y", "dx", "dw"};
            for (std::size_t k = 0; k < 3; ++k)
                test::check_within(names[k], fast[k], reference[k], test::sum_bounds(terms[k], magnitude[k]));
        }
    }
}
