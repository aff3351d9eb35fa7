#include <cmath>

#include "helpers.hpp"

using namespace tapegrad;
using test::away_from_zero;
using test::random_array;

namespace {

const Reduction all_reductions[] = {Reduction::mean, Reduction::sum, Reduction::none};

// Rows of positive numbers that sum to 1, away from 0.
Array random_distribution(std::size_t n, std::size_t c, std::uint32_t seed) {
    Array p = random_array({n, c}, 0.2f, 1.0f, seed);
    Array total = xt::sum(p, {1}, xt::evaluation_strategy::immediate);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < c; ++k) p(i, k) /= total(i);
    return p;
}

// gradcheck of loss(prediction, target) with respect to the prediction only.
template <class F>
GradcheckResult check_loss(F loss, const Array& prediction, const Array& target,
                           Reduction reduction) {
    return gradcheck([&](const std::vector<Tensor>& x) {
        return loss(x[0], Tensor(target), reduction);
    }, {prediction});
}

}  // namespace

// ---- the teaching material's worked values ----

TEST_CASE("cross_entropy of probabilities 0.6 and 0.1 is 0.511 and 2.303") {
    Tensor a(Array{{0.6f, 0.3f, 0.1f}});
    CHECK(cross_entropy_from_probabilities(a, Tensor(Array{0.0f})).item() ==
          doctest::Approx(0.5108).epsilon(1e-3));
    CHECK(cross_entropy_from_probabilities(a, Tensor(Array{2.0f})).item() ==
          doctest::Approx(2.3026).epsilon(1e-3));
    // The same with one-hot probability targets.
    CHECK(cross_entropy_from_probabilities(a, Tensor(Array{{1.0f, 0.0f, 0.0f}})).item() ==
          doctest::Approx(0.5108).epsilon(1e-3));
}

TEST_CASE("cross_entropy of logits ln p gives the same 0.511 and 2.303 as the probabilities") {
    Tensor z(Array{{std::log(0.6f), std::log(0.3f), std::log(0.1f)}});
    CHECK(cross_entropy(z, Tensor(Array{0.0f})).item() == doctest::Approx(0.5108).epsilon(1e-3));
    CHECK(cross_entropy(z, Tensor(Array{2.0f})).item() == doctest::Approx(2.3026).epsilon(1e-3));
}

TEST_CASE("binary log loss is 0.511 for a = 0.6 and 0.357 for a = 0.7 with y = 1") {
    CHECK(log_loss(Tensor(Array{0.6f}), Tensor(Array{1.0f})).item() ==
          doctest::Approx(0.5108).epsilon(1e-3));
    CHECK(log_loss(Tensor(Array{0.7f}), Tensor(Array{1.0f})).item() ==
          doctest::Approx(0.3567).epsilon(1e-3));
    // y = 0 takes the other branch: -ln(1 - 0.4) = 0.511.
    CHECK(log_loss(Tensor(Array{0.4f}), Tensor(Array{0.0f})).item() ==
          doctest::Approx(0.5108).epsilon(1e-3));
}

TEST_CASE("three-class cross_entropy is 1.204 for p = 0.3 and 0.511 for p = 0.6") {
    Tensor a(Array{{0.3f, 0.6f, 0.1f}, {0.6f, 0.1f, 0.3f}});
    Tensor labels(Array{0.0f, 0.0f});
    Array per_sample = cross_entropy_from_probabilities(a, labels, Reduction::none).value();
    CHECK(per_sample(0) == doctest::Approx(1.2040).epsilon(1e-3));
    CHECK(per_sample(1) == doctest::Approx(0.5108).epsilon(1e-3));
    CHECK(cross_entropy_from_probabilities(a, labels).item() ==
          doctest::Approx((1.2040 + 0.5108) / 2).epsilon(1e-3));
}

TEST_CASE("absolute and squared sums on target 1 1 1 are 3 and 5 then 4 and 8") {
    Tensor y(Array{1.0f, 1.0f, 1.0f});
    Tensor a1(Array{1.0f, 2.0f, 3.0f}), a2(Array{1.0f, 3.0f, 3.0f});
    CHECK(absolute_loss(a1, y, Reduction::sum).item() == doctest::Approx(3.0));
    CHECK(squared_loss(a1, y, Reduction::sum).item() == doctest::Approx(5.0));
    CHECK(absolute_loss(a2, y, Reduction::sum).item() == doctest::Approx(4.0));
    CHECK(squared_loss(a2, y, Reduction::sum).item() == doctest::Approx(8.0));
    // The mean divides by the 3 elements; none keeps them.
    CHECK(squared_loss(a2, y).item() == doctest::Approx(8.0 / 3));
    CHECK(squared_loss(a2, y, Reduction::none).value() == Array{0.0f, 4.0f, 4.0f});
}

TEST_CASE("cross_entropy of logits 1 5 3 with class 1 has gradient softmax minus one-hot") {
    Tensor z(Array{{1.0f, 5.0f, 3.0f}}, true);
    Tensor loss = cross_entropy(z, Tensor(Array{1.0f}));
    CHECK(loss.item() == doctest::Approx(-std::log(0.8668)).epsilon(1e-3));
    Array p = softmax_array(z.value());
    CHECK(p(0, 0) == doctest::Approx(0.0159).epsilon(1e-2));
    CHECK(p(0, 1) == doctest::Approx(0.8668).epsilon(1e-3));
    CHECK(p(0, 2) == doctest::Approx(0.1173).epsilon(1e-3));
    loss.backward();
    CHECK(z.grad()(0, 0) == doctest::Approx(0.0159).epsilon(1e-2));
    CHECK(z.grad()(0, 1) == doctest::Approx(-0.1332).epsilon(1e-3));
    CHECK(z.grad()(0, 2) == doctest::Approx(0.1173).epsilon(1e-3));
}

TEST_CASE("cross_entropy is one fused record on the tape") {
    Tensor z(random_array({4, 3}), true);
    Tensor loss = cross_entropy(z, Tensor(Array{0.0f, 1.0f, 2.0f, 1.0f}));
    REQUIRE(Tape::current().size() == 1);
    CHECK(std::string(Tape::current()[0].op) == "cross_entropy");
}

TEST_CASE("the other losses compute values by hand") {
    // hinge: max(0, 1 - y a) with y = 0 read as -1.
    Array hinge = hinge_loss(Tensor(Array{2.0f, 0.5f, 0.5f, -3.0f}),
                             Tensor(Array{1.0f, 1.0f, 0.0f, -1.0f}), Reduction::none)
                      .value();
    CHECK(hinge == Array{0.0f, 0.5f, 1.5f, 0.0f});
    // exponential: e^(-y a).
    Array e = exponential_loss(Tensor(Array{2.0f, 0.5f}), Tensor(Array{1.0f, 0.0f}),
                               Reduction::none)
                  .value();
    CHECK(e(0) == doctest::Approx(std::exp(-2.0)));
    CHECK(e(1) == doctest::Approx(std::exp(0.5)));
    // log_with_logits equals log of sigmoid(z).
    Array z{-2.0f, 0.3f, 4.0f};
    Array y{1.0f, 0.0f, 1.0f};
    Array with_logits = log_loss_with_logits(Tensor(z), Tensor(y), Reduction::none).value();
    Array plain = log_loss(sigmoid(Tensor(z)), Tensor(y), Reduction::none).value();
    CHECK(xt::allclose(with_logits, plain, 1e-5, 1e-6));
}

// ---- gradients against finite differences ----

TEST_CASE("gradcheck squared in every reduction") {
    for (Reduction r : all_reductions)
        CHECK_GRAD(check_loss(squared_loss, random_array({3, 4}, -1, 1, 1),
                              random_array({3, 4}, -1, 1, 2), r));
}

TEST_CASE("gradcheck absolute away from zero in every reduction") {
    Array y = random_array({3, 4}, -1, 1, 3);
    Array a = y + away_from_zero({3, 4}, 0.2f, 1.0f, 4);
    for (Reduction r : all_reductions) CHECK_GRAD(check_loss(absolute_loss, a, y, r));
}

TEST_CASE("gradcheck hinge away from the kink in every reduction") {
    // y a is 1.5, 0.4, -0.3, 2, -1.2 and 0.7: the margin 1 - y a is never near 0.
    Array a{1.5f, 0.4f, -0.3f, -2.0f, 1.2f, 0.7f};
    Array y{1.0f, 1.0f, 1.0f, -1.0f, 0.0f, 1.0f};
    for (Reduction r : all_reductions) CHECK_GRAD(check_loss(hinge_loss, a, y, r));
}

TEST_CASE("gradcheck exponential in every reduction") {
    Array y{1.0f, -1.0f, 0.0f, 1.0f, -1.0f, 1.0f};
    for (Reduction r : all_reductions)
        CHECK_GRAD(check_loss(exponential_loss, random_array({6}, -1.5f, 1.5f, 5), y, r));
}

TEST_CASE("gradcheck log on probabilities in every reduction") {
    Array a = random_array({2, 5}, 0.1f, 0.9f, 6);
    Array y{{1.0f, 0.0f, 1.0f, 1.0f, 0.0f}, {0.0f, 0.0f, 1.0f, 0.0f, 1.0f}};
    GradcheckOptions o;
    o.eps = 1e-4;  // ln is curved near 0.1
    for (Reduction r : all_reductions)
        CHECK_GRAD(gradcheck([&](const std::vector<Tensor>& x) {
            return log_loss(x[0], Tensor(y), r);
        }, {a}, o));
}

TEST_CASE("gradcheck log_with_logits in every reduction") {
    Array y{{1.0f, 0.0f, 1.0f, 1.0f, 0.0f}, {0.0f, 0.0f, 1.0f, 0.0f, 1.0f}};
    for (Reduction r : all_reductions)
        CHECK_GRAD(check_loss(log_loss_with_logits, random_array({2, 5}, -3, 3, 7), y, r));
}

TEST_CASE("gradcheck cross_entropy with class index targets in every reduction") {
    Array labels{2.0f, 0.0f, 1.0f, 3.0f, 3.0f};
    for (Reduction r : all_reductions)
        CHECK_GRAD(check_loss(cross_entropy, random_array({5, 4}, -2, 2, 8), labels, r));
}

TEST_CASE("gradcheck cross_entropy with probability targets in every reduction") {
    Array y = random_distribution(5, 4, 9);
    for (Reduction r : all_reductions)
        CHECK_GRAD(check_loss(cross_entropy, random_array({5, 4}, -2, 2, 10), y, r));
    // Rows that do not sum to 1 take the general gradient softmax * sum(y) - y.
    CHECK_GRAD(check_loss(cross_entropy, random_array({5, 4}, -2, 2, 10),
                          random_array({5, 4}, 0, 1, 11), Reduction::mean));
}

TEST_CASE("gradcheck cross_entropy on probabilities with both target forms") {
    Array a = random_distribution(4, 3, 12);
    Array labels{0.0f, 2.0f, 1.0f, 2.0f};
    Array y = random_distribution(4, 3, 13);
    GradcheckOptions o;
    o.eps = 1e-4;
    for (Reduction r : all_reductions) {
        CHECK_GRAD(gradcheck([&](const std::vector<Tensor>& x) {
            return cross_entropy_from_probabilities(x[0], Tensor(labels), r);
        }, {a}, o));
        CHECK_GRAD(gradcheck([&](const std::vector<Tensor>& x) {
            return cross_entropy_from_probabilities(x[0], Tensor(y), r);
        }, {a}, o));
    }
}

TEST_CASE("reduction none takes any dy of the per-sample shape") {
    Tensor z(Array{{1.0f, 5.0f, 3.0f}, {0.0f, 0.0f, 0.0f}}, true);
    Tensor losses = cross_entropy(z, Tensor(Array{1.0f, 0.0f}), Reduction::none);
    REQUIRE(losses.shape() == Shape{2});
    losses.backward(Array{0.0f, 3.0f});
    // Sample 0 has dy = 0; sample 1 has 3 (1/3 - onehot).
    CHECK(z.grad()(0, 1) == 0.0f);
    CHECK(z.grad()(1, 0) == doctest::Approx(3.0 * (1.0 / 3 - 1)));
    CHECK(z.grad()(1, 2) == doctest::Approx(1.0));
}

TEST_CASE("mean reduction of cross_entropy averages over the samples") {
    Tensor z(random_array({4, 3}, -1, 1, 14));
    Tensor labels(Array{0.0f, 1.0f, 2.0f, 1.0f});
    const float total = cross_entropy(z, labels, Reduction::sum).item();
    CHECK(cross_entropy(z, labels).item() == doctest::Approx(total / 4));
}

// ---- stability ----

TEST_CASE("cross_entropy on logits of plus or minus 1000 is finite with gradient softmax - y") {
    Tensor z(Array{{1000.0f, -1000.0f}, {-1000.0f, 1000.0f}}, true);
    Tensor loss = cross_entropy(z, Tensor(Array{0.0f, 0.0f}), Reduction::sum);
    CHECK(std::isfinite(loss.item()));
    CHECK(loss.item() == doctest::Approx(2000.0));
    loss.backward();
    // softmax is [1, 0] and [0, 1]; both targets are class 0.
    CHECK(z.grad() == Array{{0.0f, 0.0f}, {-1.0f, 1.0f}});
}

TEST_CASE("log_with_logits at z of plus or minus 100 is finite") {
    Tensor z(Array{100.0f, -100.0f, 100.0f, -100.0f}, true);
    Tensor y(Array{1.0f, 1.0f, 0.0f, 0.0f});
    Tensor losses = log_loss_with_logits(z, y, Reduction::none);
    CHECK(losses.value()(0) == doctest::Approx(0.0));
    CHECK(losses.value()(1) == doctest::Approx(100.0));
    CHECK(losses.value()(2) == doctest::Approx(100.0));
    CHECK(losses.value()(3) == doctest::Approx(0.0));
    losses.backward(xt::ones<float>({4}));
    // sigmoid(z) - y; sigmoid(-100) = 3.7e-44 is a denormal float, not exactly 0.
    CHECK(xt::allclose(z.grad(), Array{0.0f, -1.0f, 1.0f, 0.0f}, 0.0, 1e-30));
}

TEST_CASE("log clamps a of 0 and 1 to eps so the loss stays finite and the gradient is 0 there") {
    Tensor a(Array{0.0f, 1.0f, 0.5f}, true);
    Tensor losses = log_loss(a, Tensor(Array{1.0f, 0.0f, 1.0f}), Reduction::none);
    CHECK(losses.value()(0) == doctest::Approx(-std::log(1e-7)).epsilon(1e-3));
    CHECK(std::isfinite(losses.value()(1)));
    losses.backward(xt::ones<float>({3}));
    CHECK(a.grad()(0) == 0.0f);
    CHECK(a.grad()(1) == 0.0f);
    CHECK(a.grad()(2) == doctest::Approx(-2.0));  // (c - y) / (c (1 - c)) = -0.5 / 0.25
}

TEST_CASE("cross_entropy on probabilities guards against a = 0") {
    Tensor a(Array{{0.0f, 1.0f}}, true);
    Tensor loss = cross_entropy_from_probabilities(a, Tensor(Array{0.0f}));
    CHECK(loss.item() == doctest::Approx(-std::log(1e-7)).epsilon(1e-3));
    loss.backward();
    CHECK(a.grad()(0, 0) == 0.0f);
}

// ---- zero_one and the metrics ----

TEST_CASE("zero_one equals the error rate on a hand example") {
    Tensor scores(Array{{0.1f, 0.7f, 0.2f}, {0.5f, 0.3f, 0.2f}, {0.0f, 0.1f, 0.9f},
                        {0.2f, 0.4f, 0.4f}});
    Tensor labels(Array{1.0f, 2.0f, 2.0f, 2.0f});
    // The argmax of each row is 1, 0, 2 and 1 (a tie goes to the lowest index): rows 0 and 2 are
    // right, rows 1 and 3 are wrong.
    CHECK(zero_one_loss(scores, labels, Reduction::none).value() ==
          Array{0.0f, 1.0f, 0.0f, 1.0f});
    CHECK(zero_one_loss(scores, labels).item() == doctest::Approx(0.5));
    CHECK(zero_one_loss(scores, labels, Reduction::sum).item() == doctest::Approx(2.0));
    CHECK(accuracy(scores, labels) == doctest::Approx(0.5));
}

TEST_CASE("zero_one backward throws and suggests a differentiable loss") {
    Tensor scores(Array{{0.1f, 0.7f}, {0.5f, 0.3f}}, true);
    Tensor loss = zero_one_loss(scores, Tensor(Array{1.0f, 1.0f}));
    REQUIRE(loss.requires_grad());
    CHECK_THROWS_WITH_AS(loss.backward(),
                         "zero_one: the 0-1 loss has no useful gradient (it is flat almost "
                         "everywhere); train with cross_entropy or hinge and use zero_one as the "
                         "error rate",
                         std::logic_error);
}

TEST_CASE("accuracy is the fraction of argmax equal to the label") {
    Tensor scores(Array{{2.0f, 1.0f}, {0.0f, 3.0f}, {1.0f, 0.0f}});
    CHECK(accuracy(scores, Tensor(Array{0.0f, 1.0f, 1.0f})) == doctest::Approx(2.0 / 3));
    CHECK_THROWS_WITH_AS(accuracy(Tensor(Array{0.2f, 0.9f}), Tensor(Array{0.0f, 1.0f})),
                         doctest::Contains("binary_accuracy"), std::invalid_argument);
}

TEST_CASE("binary_accuracy thresholds one output per sample") {
    Array column{0.9f, 0.4f, 0.6f, 0.1f};
    column.reshape({4, 1});
    Tensor p(column);
    Tensor labels(Array{1.0f, 1.0f, 0.0f, 0.0f});  // [N] labels for [N, 1] outputs
    CHECK(binary_accuracy(p, labels) == doctest::Approx(0.5));
    // Raw scores with threshold 0 and +-1 labels (-1 counts as 0).
    CHECK(binary_accuracy(Tensor(Array{2.0f, -1.0f, -0.5f}), Tensor(Array{1.0f, -1.0f, 1.0f}),
                          0.0f) == doctest::Approx(2.0 / 3));
    CHECK_THROWS_WITH_AS(binary_accuracy(p, Tensor(Array{1.0f, 2.0f, 0.0f, 0.0f})),
                         doctest::Contains("element [1] is 2"), std::invalid_argument);
}

// ---- targets outside the conventions ----

TEST_CASE("a shape mismatch prints both shapes") {
    Tensor a(xt::zeros<float>({64, 10})), y(xt::zeros<float>({64}));
    CHECK_THROWS_WITH_AS(squared_loss(a, y),
                         doctest::Contains("squared: prediction is [64, 10] but target is [64]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(absolute_loss(a, y), doctest::Contains("absolute: prediction is"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cross_entropy(a, Tensor(xt::zeros<float>({64, 1}))),
                         doctest::Contains("target must be [64] class indices or [64, 10] "
                                           "probabilities, but it is [64, 1]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cross_entropy(y, y), doctest::Contains("[N, C]"), std::invalid_argument);
}

TEST_CASE("a class index of C or more is an error naming the sample and value") {
    Tensor z(xt::zeros<float>({3, 4}));
    CHECK_THROWS_WITH_AS(cross_entropy(z, Tensor(Array{0.0f, 4.0f, 1.0f})),
                         doctest::Contains("the target of sample 1 is 4"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(zero_one_loss(z, Tensor(Array{0.0f, 1.0f, 7.0f})),
                         doctest::Contains("sample 2 is 7"), std::invalid_argument);
}

TEST_CASE("a negative or fractional class index is an error naming the sample and value") {
    Tensor z(xt::zeros<float>({3, 4}));
    CHECK_THROWS_WITH_AS(cross_entropy(z, Tensor(Array{-1.0f, 0.0f, 1.0f})),
                         doctest::Contains("sample 0 is -1"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cross_entropy(z, Tensor(Array{0.0f, 0.0f, 1.5f})),
                         doctest::Contains("sample 2 is 1.5"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cross_entropy(z, Tensor(Array{0.0f, 0.0f, 1.5f})),
                         doctest::Contains("whole numbers from 0 to"), std::invalid_argument);
}

TEST_CASE("a hinge or exponential target of 2 is an error") {
    Tensor a(Array{0.5f, 0.5f});
    CHECK_THROWS_WITH_AS(hinge_loss(a, Tensor(Array{1.0f, 2.0f})),
                         doctest::Contains("hinge: targets must be +1 or -1 (0 is read as -1), "
                                           "but element [1] is 2"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(exponential_loss(a, Tensor(Array{2.0f, 1.0f})),
                         doctest::Contains("exponential: targets must be +1 or -1"),
                         std::invalid_argument);
}

TEST_CASE("a log target of 0.5 is an error for the binary log loss") {
    CHECK_THROWS_WITH_AS(log_loss(Tensor(Array{0.5f, 0.5f}), Tensor(Array{1.0f, 0.5f})),
                         doctest::Contains("log: targets of the binary log loss must be 0 or 1, "
                                           "but element [1] is 0.5"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(log_loss_with_logits(Tensor(Array{3.0f}), Tensor(Array{0.5f})),
                         doctest::Contains("must be 0 or 1"), std::invalid_argument);
}

TEST_CASE("probabilities outside 0 to 1 are an error that suggests the logits form") {
    CHECK_THROWS_WITH_AS(log_loss(Tensor(Array{1.7f}), Tensor(Array{1.0f})),
                         doctest::Contains("log_with_logits"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        cross_entropy_from_probabilities(Tensor(Array{{2.0f, -1.0f}}), Tensor(Array{0.0f})),
        doctest::Contains("element [0, 0] is 2"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cross_entropy(Tensor(Array{{2.0f, -1.0f}}), Tensor(Array{{1.5f, 0.0f}})),
                         doctest::Contains("the [N, C] targets must be probabilities in [0, 1], "
                                           "but element [0, 0] is 1.5"),
                         std::invalid_argument);
}
