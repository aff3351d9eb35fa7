// The kernels written for any ArrayOf<T> (backend/kernels.hpp, backend/activation_kernels.hpp)
// compute in double what they compute in float, and to double's precision: each derivative
// kernel in double agrees with central differences of its forward to 1e-8, which float could
// not show.
#include <cmath>
#include <functional>
#include <vector>

#include "helpers.hpp"

#include <tapegrad/backend/activation_kernels.hpp>
#include <tapegrad/backend/kernels.hpp>

using namespace tapegrad;

namespace {

using Doubles = ArrayOf<double>;

const std::vector<double> points = {-3.0, -1.25, -0.5, -1e-3, 0.25, 0.75, 1.5, 4.0};

Doubles doubles(const std::vector<double>& v) {
    Doubles a = Doubles::from_shape({v.size()});
    for (std::size_t i = 0; i < v.size(); ++i) a(i) = v[i];
    return a;
}

Array floats(const Doubles& d) {
    Array a = Array::from_shape(d.shape());
    for (std::size_t i = 0; i < d.size(); ++i) a.data()[i] = static_cast<float>(d.data()[i]);
    return a;
}

// The float kernel's values are the double kernel's, rounded (within a few float ulps).
void check_same(const Array& f, const Doubles& d, const char* kernel) {
    REQUIRE(f.size() == d.size());
    for (std::size_t i = 0; i < d.size(); ++i) {
        INFO(kernel << " at element " << i << ": float " << f.data()[i] << ", double " << d.data()[i]);
        CHECK(std::abs(f.data()[i] - d.data()[i]) <= 4e-7 * (1.0 + std::abs(d.data()[i])));
    }
}

// backward(dy = 1) against (forward(x + h) - forward(x - h)) / 2h, elementwise, in double.
void check_slope(const std::function<Doubles(const Doubles&)>& forward,
                 const std::function<Doubles(const Doubles&, const Doubles&)>& backward,
                 const char* kernel) {
    const Doubles x = doubles(points);
    const Doubles ones = doubles(std::vector<double>(points.size(), 1.0));
    const Doubles slope = backward(ones, x);
    const double h = 1e-5;
    const Doubles up = forward(x + h), down = forward(x - h);
    for (std::size_t i = 0; i < points.size(); ++i) {
        const double numeric = (up(i) - down(i)) / (2 * h);
        INFO(kernel << " at x = " << points[i] << ": kernel " << slope(i) << ", differences " << numeric);
        CHECK(std::abs(slope(i) - numeric) <= 1e-8);
    }
}

}  // namespace

TEST_CASE("the elementwise kernels compute in double what they compute in float") {
    const Doubles x = doubles(points);
    const Doubles y = doubles({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8});
    const Array xf = floats(x), yf = floats(y);
    check_same(kernels::relu(xf), kernels::relu(x), "relu");
    check_same(kernels::relu_backward(yf, xf), kernels::relu_backward(y, x), "relu_backward");
    check_same(kernels::sigmoid_backward(yf, yf), kernels::sigmoid_backward(y, y), "sigmoid_backward");
    check_same(kernels::tanh_backward(yf, yf), kernels::tanh_backward(y, y), "tanh_backward");
    check_same(kernels::leaky_relu(xf, 0.1f), kernels::leaky_relu(x, 0.1), "leaky_relu");
    check_same(kernels::elu(xf, 1.5f), kernels::elu(x, 1.5), "elu");
    check_same(kernels::silu(xf), kernels::silu(x), "silu");
    check_same(kernels::gelu_tanh(xf), kernels::gelu_tanh(x), "gelu_tanh");
    check_same(kernels::softplus(xf, 2.0f, 3.0f), kernels::softplus(x, 2.0, 3.0), "softplus");
}

TEST_CASE("in double, each derivative kernel agrees with central differences of its forward to 1e-8") {
    check_slope([](const Doubles& x) { return kernels::leaky_relu(x, 0.1); },
                [](const Doubles& dy, const Doubles& x) { return kernels::leaky_relu_backward(dy, x, 0.1); },
                "leaky_relu");
    check_slope([](const Doubles& x) { return kernels::elu(x, 1.5); },
                [](const Doubles& dy, const Doubles& x) {
                    return kernels::elu_backward(dy, x, kernels::elu(x, 1.5), 1.5);
                },
                "elu");
    check_slope([](const Doubles& x) { return kernels::gelu_tanh(x); },
                [](const Doubles& dy, const Doubles& x) { return kernels::gelu_tanh_backward(dy, x); },
                "gelu_tanh");
    // sigmoid's and tanh's derivatives from their outputs, the outputs computed here in double.
    check_slope([](const Doubles& x) { return Doubles(1.0 / (1.0 + xt::exp(-x))); },
                [](const Doubles& dy, const Doubles& x) {
                    return kernels::sigmoid_backward(dy, Doubles(1.0 / (1.0 + xt::exp(-x))));
                },
                "sigmoid");
    check_slope([](const Doubles& x) { return Doubles(xt::tanh(x)); },
                [](const Doubles& dy, const Doubles& x) { return kernels::tanh_backward(dy, Doubles(xt::tanh(x))); },
                "tanh");
}

TEST_CASE("in double, softmax's and log_softmax's backward kernels agree with central differences") {
    // L = sum(w * f(x)) along one line of 4; dL/dx from the kernel with dy = w.
    const Doubles x = doubles({0.3, -1.2, 2.0, 0.7});
    const Doubles w = doubles({1.0, -2.0, 0.5, 3.0});
    auto log_softmax = [](const Doubles& v) {
        const double m = xt::amax(v)();
        return Doubles(v - m - std::log(xt::sum(xt::exp(v - m))()));
    };
    auto softmax = [&](const Doubles& v) { return Doubles(xt::exp(log_softmax(v))); };
    const Doubles dsoft = kernels::softmax_backward(w, softmax(x), 0);
    const Doubles dlog = kernels::log_softmax_backward(w, log_softmax(x), 0);
    const double h = 1e-5;
    for (std::size_t i = 0; i < 4; ++i) {
        Doubles up = x, down = x;
        up(i) += h;
        down(i) -= h;
        const double soft = (xt::sum(w * softmax(up))() - xt::sum(w * softmax(down))()) / (2 * h);
        const double log = (xt::sum(w * log_softmax(up))() - xt::sum(w * log_softmax(down))()) / (2 * h);
        INFO("element " << i);
        CHECK(std::abs(dsoft(i) - soft) <= 1e-8);
        CHECK(std::abs(dlog(i) - log) <= 1e-8);
    }
}

TEST_CASE("the layout kernels move doubles as they move floats") {
    Doubles x = Doubles::from_shape({2, 3});
    for (std::size_t i = 0; i < 6; ++i) x.data()[i] = 0.1 * static_cast<double>(i) + 1e-12;
    const Doubles t = detail::permuted(x, {1, 0});
    REQUIRE(t.shape()[0] == 3);
    CHECK(t(2, 1) == x(1, 2));  // exactly, down to the 1e-12
    const Doubles b = detail::broadcast_to(Doubles(doubles({1e-12, 2.0, 3.0})), {2, 3});
    CHECK(b(1, 0) == 1e-12);
    CHECK(b(1, 2) == 3.0);
    const Doubles scaled = detail::times_broadcast(x, Doubles(doubles({1.0, 2.0, 3.0})));
    CHECK(scaled(1, 2) == x(1, 2) * 3.0);
    const Doubles lines = detail::scale_lines(x, doubles({10.0, 100.0}), detail::Lines({2, 3}, 1));
    CHECK(lines(1, 1) == x(1, 1) * 100.0);
}
