// Making tensors: zeros, ones, full, the _like forms, arange, linspace, Tensor::from, detach and
// printing. Values worked by hand (arange and linspace as torch documents them).
#include <random>
#include <sstream>

#include "helpers.hpp"

using namespace tapegrad;

namespace {

std::string text(const Tensor& t) {
    std::ostringstream out;
    out << t;
    return out.str();
}

}  // namespace

TEST_CASE("zeros, ones and full have the shape and value asked, and require a gradient on request") {
    CHECK(zeros({2, 3}).value() == xt::zeros<float>({2, 3}));
    CHECK(ones({4}).value() == Array{1.0f, 1.0f, 1.0f, 1.0f});
    const Tensor f = full({2, 2}, 0.5f, true);
    CHECK(f.value() == Array{{0.5f, 0.5f}, {0.5f, 0.5f}});
    CHECK(f.requires_grad());
    CHECK(f.is_leaf());
    CHECK_FALSE(zeros({1}).requires_grad());
    const Tensor t(Array{{1.0f, 2.0f, 3.0f}});
    CHECK(zeros_like(t).shape() == Shape{1, 3});
    CHECK(ones_like(t).value() == Array{{1.0f, 1.0f, 1.0f}});
    CHECK(zeros({0, 3}).size() == 0);
}

TEST_CASE("arange counts from begin by step and stops before end, as torch.arange") {
    CHECK(arange(0, 5).value() == Array{0.0f, 1.0f, 2.0f, 3.0f, 4.0f});
    CHECK(arange(1, 2.5f, 0.5f).value() == Array{1.0f, 1.5f, 2.0f});
    CHECK(arange(1, 0, -0.25f).value() == Array{1.0f, 0.75f, 0.5f, 0.25f});
    CHECK(arange(3, 3).size() == 0);
    CHECK(arange(0, 5, -1).size() == 0);  // the step points away from end: nothing
    CHECK_THROWS_WITH_AS(arange(0, 1, 0), doctest::Contains("step non-zero, but they are 0, 1, 0"),
                         std::invalid_argument);
}

TEST_CASE("linspace gives steps values from start to end, both included") {
    CHECK(linspace(0, 1, 5).value() == Array{0.0f, 0.25f, 0.5f, 0.75f, 1.0f});
    CHECK(linspace(2, -2, 3).value() == Array{2.0f, 0.0f, -2.0f});
    CHECK(linspace(7, 9, 1).value() == Array{7.0f});
    CHECK(linspace(0, 1, 0).size() == 0);
}

TEST_CASE("Tensor::from fills a shape in row-major order and checks the count") {
    const Tensor t = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3}, true);
    CHECK(t.value() == Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
    CHECK(t.requires_grad());
    CHECK_THROWS_WITH_AS(Tensor::from({1, 2, 3}, {2, 2}),
                         "Tensor::from: 3 values cannot fill shape [2, 2] (4 elements)",
                         std::invalid_argument);
}

TEST_CASE("detach keeps the value and cuts the graph: no gradient flows through it") {
    Tensor w(Array{2.0f}, true);
    Tensor h = w * 3.0f;
    Tensor cut = h.detach();
    CHECK(cut.value() == Array{6.0f});
    CHECK_FALSE(cut.requires_grad());
    CHECK(cut.is_leaf());
    Tensor loss = sum(h * cut);  // d/dw = 3 * cut = 18, none through cut
    loss.backward();
    CHECK(w.grad()(0) == doctest::Approx(18.0));
}

TEST_CASE("a tensor prints its values, shape and whether it requires a gradient") {
    CHECK(text(Tensor(Array{{1.0f, 2.0f}, {3.0f, 4.5f}}, true)) ==
          "tensor([[1, 2], [3, 4.5]], shape [2, 2], requires_grad)");
    CHECK(text(Tensor(Array(3.0f))) == "tensor(3, shape [])");
    CHECK(text(arange(0, 10)) == "tensor([0, 1, 2, ..., 7, 8, 9], shape [10])");
    CHECK(text(Tensor()) == "tensor(undefined)");
}

TEST_CASE("rand and randn draw from the seeded generator: the same seed, the same values") {
    manual_seed(11);
    const Tensor u = rand({1000});
    const Tensor n = randn({4000}, true);
    manual_seed(11);
    CHECK(rand({1000}).value() == u.value());
    CHECK(randn({4000}).value() == n.value());
    CHECK(n.requires_grad());
    CHECK(xt::amin(u.value())() >= 0.0f);
    CHECK(xt::amax(u.value())() < 1.0f);
    CHECK(xt::mean(u.value())() == doctest::Approx(0.5).epsilon(0.05));
    // N(0, 1): the mean within 4 standard errors (4 / sqrt(4000) = 0.063), the variance near 1
    CHECK(std::abs(xt::mean(n.value())()) < 0.063);
    CHECK(xt::variance(n.value())() == doctest::Approx(1.0).epsilon(0.1));
}

// SplitMix64 as published (Steele, Lea and Flood 2014): the state steps by gamma, the output
// is the state mixed. Written here from the paper's constants, not from ops/random.cpp.
namespace {
struct SplitMix64 {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
};
}  // namespace

TEST_CASE("keep_mask keeps where SplitMix64 from one draw of the generator gives u >= p, on any thread count") {
    const Shape shape{3, 50000};  // large enough for parallel_for to split it over two threads
    const std::size_t n = 150000;
    for (const float p : {0.0f, 0.1f, 0.25f, 1.0f / 3.0f, 0.5f, 0.9f, 1.0f}) {
        INFO("p = " << p);
        manual_seed(21);
        std::mt19937_64 engine(21);
        SplitMix64 reference{engine()};
        std::ostringstream after_one_draw;
        after_one_draw << engine;
        const Array m = [&] { test::ScopedThreads two(2); return keep_mask(shape, p, 2.0f); }();
        CHECK(generator_state() == after_one_draw.str());  // the mask took one draw, whatever its size
        manual_seed(21);
        const Array serial = [&] { test::ScopedThreads one(1); return keep_mask(shape, p, 2.0f); }();
        CHECK(serial == m);
        REQUIRE(m.shape() == shape);
        std::size_t differ = 0, kept = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const float u = unit_float(reference.next());
            differ += (m.data()[i] == 2.0f) != (u >= p);
            differ += m.data()[i] != 2.0f && m.data()[i] != 0.0f;
            kept += m.data()[i] == 2.0f;
        }
        CHECK(differ == 0);
        CHECK(static_cast<double>(kept) / n == doctest::Approx(1.0 - p).epsilon(0.01));
    }
}
