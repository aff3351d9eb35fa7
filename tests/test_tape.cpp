#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace tapegrad;

TEST_CASE("the worked example of the tape essay: c = (x*w + x)^2") {
    Tensor x(Array{2.0f}, true), w(Array{3.0f}, true);
    Tensor a = x * w;
    Tensor b = a + x;
    Tensor c = b * b;
    b.retain_grad();  // an op's output keeps its gradient only when asked
    CHECK(c.item() == doctest::Approx(64.0));
    c.backward();
    CHECK(x.grad()(0) == doctest::Approx(64.0));
    CHECK(w.grad()(0) == doctest::Approx(32.0));
    CHECK(b.grad()(0) == doctest::Approx(16.0));
}

TEST_CASE("gradients accumulate over fan-out: b = a + a then c = b + b gives dc/da = 4") {
    Tensor a(Array{1.5f}, true);
    Tensor b = a + a;
    Tensor c = b + b;
    c.backward();
    CHECK(a.grad()(0) == doctest::Approx(4.0));
}

TEST_CASE("ops record one entry each in execution order") {
    Tensor x(Array{{1.0f, 2.0f}}, true);
    Tensor y = exp(x * 2.0f);
    Tensor z = sum(y);
    REQUIRE(Tape::current().size() == 3);
    CHECK(std::string(Tape::current()[0].op) == "mul_scalar");
    CHECK(std::string(Tape::current()[1].op) == "exp");
    CHECK(std::string(Tape::current()[2].op) == "sum");
    z.backward();
    CHECK(Tape::current().size() == 0);
}

TEST_CASE("the tape prints one line per record with shapes") {
    Tensor x(xt::ones<float>({2, 3}), true);
    Tensor w(xt::ones<float>({3, 4}), true);
    Tensor y = matmul(x, w);
    std::ostringstream out;
    Tape::current().print(out);
    CHECK(out.str().find("matmul") != std::string::npos);
    CHECK(out.str().find("[2, 3] [3, 4] -> [2, 4]") != std::string::npos);
}

TEST_CASE("a 100000-op chain runs forward and backward without recursion") {
    Tensor x(Array{1.0f}, true);
    Tensor y = x;
    for (int i = 0; i < 100000; ++i) y = y * 1.0f + 0.0f;  // 200,000 records
    Tensor s = sum(y);
    s.backward();
    CHECK(x.grad()(0) == doctest::Approx(1.0));
    CHECK(Tape::current().size() == 0);
}

TEST_CASE("NoGrad records nothing and its outputs need no gradient") {
    Tensor x(Array{1.0f, 2.0f}, true);
    {
        NoGrad no_grad;
        Tensor y = exp(x) * 3.0f;
        CHECK_FALSE(y.requires_grad());
        CHECK(Tape::current().size() == 0);
    }
    Tensor y = exp(x);
    CHECK(y.requires_grad());
    CHECK(Tape::current().size() == 1);
}

TEST_CASE("ops on tensors that need no gradient record nothing") {
    Tensor x(Array{1.0f, 2.0f});
    Tensor y = exp(x) + x;
    CHECK_FALSE(y.requires_grad());
    CHECK(Tape::current().size() == 0);
}

TEST_CASE("a second backward over released records is an error") {
    Tensor x(Array{2.0f}, true);
    Tensor y = x * x;
    y.backward();
    CHECK(x.grad()(0) == doctest::Approx(4.0));
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("already released"), std::logic_error);
}

TEST_CASE("backward through a value whose graph was released is an error") {
    Tensor x(Array{2.0f}, true);
    Tensor h = x * x;
    Tensor a = h * 2.0f;
    Tensor b = h * 3.0f;
    b.backward();  // releases h's record and everything before b
    CHECK_THROWS_WITH_AS(a.backward(), doctest::Contains("already released"), std::logic_error);
}

TEST_CASE("backward needs a one-element tensor or an explicit seed") {
    Tensor x(Array{1.0f, 2.0f}, true);
    Tensor y = x * 3.0f;
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("[2]"), std::invalid_argument);
    y.backward(Array{1.0f, -1.0f});
    CHECK(x.grad()(0) == doctest::Approx(3.0));
    CHECK(x.grad()(1) == doctest::Approx(-3.0));
}

TEST_CASE("backward on a tensor that needs no gradient is an error") {
    Tensor x(Array{1.0f});
    CHECK_THROWS_WITH_AS(x.backward(), doctest::Contains("does not require a gradient"),
                         std::logic_error);
}

TEST_CASE("zero_grad keeps the shape and sets zeros and a new backward adds from zero") {
    Tensor x(Array{1.0f, 2.0f}, true);
    sum(x * x).backward();
    CHECK(x.grad()(1) == doctest::Approx(4.0));
    x.zero_grad();
    CHECK(x.grad()(1) == 0.0f);
    sum(x * x).backward();
    CHECK(x.grad()(1) == doctest::Approx(4.0));
}

TEST_CASE("records nobody can reach are pruned so forward passes without backward do not leak") {
    Tensor w(Array{1.0f}, true);
    for (int i = 0; i < 20000; ++i) {
        Tensor unused = w * 2.0f + 1.0f;
    }
    CHECK(Tape::current().size() < 10000);
}

TEST_CASE("after a large backward pruning waits for twice that graph and still bounds the tape") {
    Tensor w(Array{1.0f}, true);
    Tensor y = w;
    for (int i = 0; i < 30000; ++i) y = y * 1.0f;
    y.backward();
    CHECK(w.grad()(0) == 1.0f);
    for (int i = 0; i < 200000; ++i) {
        Tensor unused = w * 2.0f;
    }
    CHECK(Tape::current().size() <= 60000);
}

TEST_CASE("tensors made on one thread can be used and freed on another") {
    // Nodes come from a per-thread cache of freed blocks (core/tensor.cpp); a node may be freed
    // by another thread than the one that made it, and threads that end give their cache back.
    std::vector<Tensor> made(1000);
    std::thread maker([&] {
        for (std::size_t i = 0; i < made.size(); ++i)
            made[i] = Tensor(Array{static_cast<float>(i)}, true);
    });
    maker.join();
    float total = 0.0f;
    std::thread user([&] {
        for (Tensor& t : made) {
            Tensor y = t * 2.0f;
            y.backward();
            total += t.grad()(0) + y.item();
            t = Tensor();  // freed on this thread, into its cache
        }
    });
    user.join();
    CHECK(total == doctest::Approx(2000.0f + 999.0f * 1000.0f));
    Tensor again(Array{3.0f}, true);  // this thread's cache still works
    CHECK(again.item() == 3.0f);
}

TEST_CASE("an empty tensor says so") {
    Tensor t;
    CHECK_FALSE(t.defined());
    CHECK_THROWS_WITH_AS(t.value(), doctest::Contains("empty"), std::logic_error);
}

TEST_CASE("unbroadcast sums leading axes and stretched axes") {
    Array dy = xt::ones<float>({2, 3, 4});
    Array g = unbroadcast(dy, {3, 1});
    REQUIRE(g.shape() == std::vector<std::size_t>{3, 1});
    CHECK(g(0, 0) == doctest::Approx(8.0));
}

TEST_CASE("set_grad sets a gradient of the tensor's shape, as torch's p.grad = g, and refuses another shape") {
    const Tensor p(Array{1.0f, 2.0f}, true);
    p.set_grad(Array{0.5f, -1.0f});
    CHECK(p.grad() == Array{0.5f, -1.0f});
    sum(p * p).backward();  // backward adds to it
    CHECK(p.grad() == Array{2.5f, 3.0f});
    CHECK_THROWS_WITH_AS(p.set_grad(Array{1.0f}),
                         "set_grad: the gradient has shape [1], but the tensor has shape [2]",
                         std::invalid_argument);
    CHECK(p.grad() == Array{2.5f, 3.0f});  // unchanged
}
