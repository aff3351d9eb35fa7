#include "helpers.hpp"

using namespace tapegrad;
using test::away_from_zero;
using test::random_array;

TEST_CASE("softmax of 3 1 -3 is 0.8789 0.1189 0.0022 as in the teaching material") {
    Array y = softmax(Tensor(Array{3.0f, 1.0f, -3.0f})).value();
    CHECK(y(0) == doctest::Approx(0.8789).epsilon(1e-4));
    CHECK(y(1) == doctest::Approx(0.1189).epsilon(1e-3));
    CHECK(y(2) == doctest::Approx(0.0022).epsilon(1e-2));
}

TEST_CASE("activations compute values by hand") {
    Tensor x(Array{-2.0f, 0.0f, 1.5f});
    CHECK(relu(x).value() == Array{0.0f, 0.0f, 1.5f});
    CHECK(sigmoid(x).value()(1) == doctest::Approx(0.5));
    CHECK(sigmoid(x).value()(0) == doctest::Approx(0.1192029));
    CHECK(tanh(x).value()(2) == doctest::Approx(0.9051483));
    CHECK(log_softmax(Tensor(Array{1.0f, 5.0f, 3.0f})).value()(1) == doctest::Approx(-0.142932));
}

TEST_CASE("softmax and log_softmax are stable for logits of plus or minus 1000") {
    Tensor x(Array{{1000.0f, -1000.0f, 999.0f}});
    Array y = softmax(x).value();
    CHECK(y(0, 0) == doctest::Approx(0.7310586));
    CHECK(y(0, 1) == 0.0f);
    Array l = log_softmax(x).value();
    CHECK(l(0, 0) == doctest::Approx(-0.3132617));
    CHECK(l(0, 1) == doctest::Approx(-2000.3132617));
    CHECK(sigmoid(Tensor(Array{-1000.0f, 1000.0f})).value() == Array{0.0f, 1.0f});
}

TEST_CASE("softmax normalises along the chosen axis") {
    Tensor x(random_array({2, 3, 4}, -2, 2, 9));
    Array along0 = xt::sum(softmax(x, 0).value(), {0});
    Array along1 = xt::sum(softmax(x, 1).value(), {1});
    CHECK(xt::allclose(along0, xt::ones<float>({3, 4})));
    CHECK(xt::allclose(along1, xt::ones<float>({2, 4})));
}

TEST_CASE("gradcheck of activations") {
    const std::vector<Array> in{away_from_zero({3, 4}, 0.1f, 2.0f, 12)};
    CHECK_GRAD(gradcheck([](const auto& t) { return relu(t[0]); }, in));
    CHECK_GRAD(gradcheck([](const auto& t) { return sigmoid(t[0]); }, in));
    CHECK_GRAD(gradcheck([](const auto& t) { return tanh(t[0]); }, in));
}

TEST_CASE("gradcheck of softmax and log_softmax on every axis") {
    const std::vector<Array> in{random_array({2, 3, 4}, -2, 2, 13)};
    for (int axis : {0, 1, 2, -1}) {
        CAPTURE(axis);
        CHECK_GRAD(gradcheck([=](const auto& t) { return softmax(t[0], axis); }, in));
        CHECK_GRAD(gradcheck([=](const auto& t) { return log_softmax(t[0], axis); }, in));
    }
}

TEST_CASE("softmax on a bad axis is an error") {
    CHECK_THROWS_WITH_AS(softmax(Tensor(xt::zeros<float>({2, 3})), 2),
                         "softmax: axis 2 is out of range for a tensor of rank 2", std::invalid_argument);
}

TEST_CASE("relu split over two threads gives the values and gradient of one thread") {
    const Array xv = random_array({300, 1000}, -1.0f, 1.0f, 21);  // 300,000 floats: split
    const Array dy = random_array({300, 1000}, -1.0f, 1.0f, 22);
    auto run = [&](int threads) {
        test::ScopedThreads scoped(threads);
        Tensor x(xv, true);
        Tensor y = relu(x);
        y.backward(dy);
        return std::make_pair(y.value(), x.grad());
    };
    const auto one = run(1), two = run(2);
    CHECK(one.first == xt::maximum(xv, 0.0f));
    CHECK(one.second == xt::where(xv > 0.0f, dy, 0.0f));
    CHECK(two.first == one.first);
    CHECK(two.second == one.second);
}
