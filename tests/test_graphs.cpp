// Several graphs on one tape, keeping a graph, a backward that fails, hooks, retain_grad, threads,
// and grad() (torch.autograd.grad). Expected values are worked by hand; PyTorch gives the same.
#include <stdexcept>
#include <thread>

#include <xtensor/xview.hpp>

#include "helpers.hpp"

using namespace tapegrad;

namespace {

// y = x, recorded as an op whose backward throws: a user's closure that fails.
Tensor failing(const Tensor& x, const char* message = "the closure failed") {
    return record("boom", {x}, x.value(), [message](const Inputs&, const Tensor&, const Tensor&) -> Grads {
        throw std::runtime_error(message);
    });
}

}  // namespace

TEST_CASE("the issue's example: two graphs of one weight, backpropagated in the other order") {
    Tensor w(Array{1.0f, 2.0f}, true);
    Tensor a = sum(w * w);         // recorded first
    Tensor b = sum(w * 3.0f);      // recorded second, independent of a
    b.backward();
    CHECK(w.grad() == Array{3.0f, 3.0f});
    a.backward();                  // 2w added: PyTorch gives (5, 7)
    CHECK(w.grad() == Array{5.0f, 7.0f});
    CHECK(Tape::current().size() == 0);
}

TEST_CASE("interleaved graphs can each be backpropagated, in any order") {
    for (int order = 0; order < 6; ++order) {
        CAPTURE(order);
        Tape::current().clear();
        Tensor x(Array{2.0f}, true);
        // Three graphs whose ops alternate on the tape.
        Tensor a = x * 3.0f;          // a: 3x
        Tensor b = x * x;             // b: x^2
        Tensor c = exp(x * 0.5f);     // c: e^(x/2)
        a = a + 1.0f;
        b = b * x;                    // x^3
        c = c * 2.0f;                 // 2 e^(x/2)
        const Tensor graphs[3] = {a, b, c};
        const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
        for (int k : orders[order]) graphs[k].backward();
        // 3 + 3x^2 + e^(x/2) at x = 2
        CHECK(x.grad()(0) == doctest::Approx(3.0 + 12.0 + std::exp(1.0)));
        CHECK(Tape::current().size() == 0);
    }
}

TEST_CASE("a graph that shares an op output with another one is an error once that part is released") {
    Tensor x(Array{2.0f}, true);
    Tensor h = x * x;
    Tensor a = h * 2.0f;
    Tensor b = h * 3.0f;
    b.backward();  // runs b's record and h's
    CHECK(x.grad()(0) == doctest::Approx(12.0));
    CHECK_THROWS_WITH_AS(a.backward(), doctest::Contains("already released"), std::logic_error);
    CHECK(x.grad()(0) == doctest::Approx(12.0));  // unchanged by the failed backward
}

TEST_CASE("retain_graph keeps the graph: a second backward adds the same gradients again") {
    Tensor x(Array{2.0f}, true);
    Tensor h = x * x;
    Tensor a = h * 2.0f;
    Tensor b = h * 3.0f;
    b.backward(GradOptions{true});
    a.backward();  // h's record is still there
    CHECK(x.grad()(0) == doctest::Approx(12.0 + 8.0));

    Tensor y = x * x * x;  // 3x^2 = 12
    x.zero_grad();
    y.backward(GradOptions{true});
    y.backward(GradOptions{true});
    y.backward();
    CHECK(x.grad()(0) == doctest::Approx(36.0));
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("already released"), std::logic_error);
}

TEST_CASE("clear_grad drops the gradient, and the next backward sets it rather than adding") {
    Tensor x(Array{2.0f, 3.0f}, true);
    sum(x * x).backward();  // 2x
    CHECK(x.grad()(1) == doctest::Approx(6.0));
    x.clear_grad();
    CHECK_FALSE(x.has_grad());
    CHECK(x.grad().size() == 0);
    sum(x * 5.0f).backward();
    CHECK(x.grad()(0) == doctest::Approx(5.0));  // not 4 + 5
    CHECK(x.grad()(1) == doctest::Approx(5.0));
    x.zero_grad();  // keeps the array
    CHECK(x.has_grad());
    CHECK(x.grad()(1) == 0.0f);
}

TEST_CASE("gradients accumulate over micro-batches exactly as one batch") {
    const Array inputs = test::random_array({4, 3}, -1.0f, 1.0f, 5);
    Tensor w(test::random_array({3}, -1.0f, 1.0f, 6), true);
    Tensor whole = sum(exp(Tensor(inputs) * w));
    whole.backward();
    const Array expected = w.grad();
    w.zero_grad();
    // Two forward passes first, then both backward passes: as a training loop over micro-batches
    // that records an evaluation pass in between.
    Tensor first = sum(exp(Tensor(Array(xt::view(inputs, xt::range(0, 2)))) * w));
    Tensor second = sum(exp(Tensor(Array(xt::view(inputs, xt::range(2, 4)))) * w));
    Tensor evaluation = sum(w * 100.0f);
    second.backward();
    first.backward();
    // The same four terms x e^(x w) for each weight, added in another order (two and two).
    const Array magnitude = xt::sum(xt::abs(inputs * xt::exp(inputs * w.value())), {0});
    test::check_within("micro-batches against one batch", w.grad(), expected,
                       test::sum_bounds(4, magnitude));
    CHECK(Tape::current().size() == 2);  // the evaluation pass (mul_scalar, sum), untouched
}

TEST_CASE("a graph kept alive across thousands of steps does not stop the tape from being bounded") {
    Tensor w(Array{1.0f, 2.0f}, true);
    Tensor kept = sum(exp(w) * 2.0f);  // an unrelated graph the program holds on to
    std::size_t largest = 0;
    for (int step = 0; step < 5000; ++step) {
        Tensor loss = sum(w * w * 0.5f + w);
        loss.backward();
        Tensor no_backward = w * 3.0f;  // a forward pass without backward
        largest = std::max(largest, Tape::current().size());
    }
    CHECK(largest < 5000);
    kept.backward();  // still intact
    CHECK(w.grad()(0) == doctest::Approx(5000 * (1.0 + 1.0) + 2.0 * std::exp(1.0)).epsilon(1e-4));
}

TEST_CASE("a closure that throws: the error names the op, no grad changes, other graphs work") {
    // The throwing record first, in the middle and last in the sweep.
    for (int where = 0; where < 3; ++where) {
        CAPTURE(where);
        Tape::current().clear();
        Tensor w(Array{1.0f, 2.0f}, true);
        w.mutable_grad() = Array{10.0f, 10.0f};
        Tensor other = sum(w * 4.0f);  // an unrelated graph, recorded before
        Tensor x = w * 2.0f;
        if (where == 2) x = failing(x);  // runs last
        x = exp(x);
        if (where == 1) x = failing(x);
        Tensor loss = sum(x);
        if (where == 0) loss = failing(loss);  // runs first
        CHECK_THROWS_WITH_AS(loss.backward(), "backward of boom: the closure failed",
                             std::runtime_error);
        CHECK(w.grad() == Array{10.0f, 10.0f});  // nothing was added
        other.backward();
        CHECK(w.grad() == Array{14.0f, 14.0f});
        // The failed graph: its records not yet run are still on the tape; the next backward
        // of it fails the same way (where == 0) or says what was released.
        if (where == 0)
            CHECK_THROWS_WITH_AS(loss.backward(), "backward of boom: the closure failed",
                                 std::runtime_error);
        else
            CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("already released"),
                                 std::logic_error);
        // New graphs work, and the tape is pruned as usual.
        Tensor y = sum(w * w);
        y.backward();
        CHECK(w.grad() == Array{16.0f, 18.0f});
    }
}

TEST_CASE("a closure's error that names its op is passed on unchanged") {
    Tensor scores(Array{{1.0f, 2.0f}}, true);
    Tensor loss = zero_one_loss(scores, Tensor(Array{1.0f}));
    CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("zero_one: the 0-1 loss"),
                         std::logic_error);
    Tensor x(Array{1.0f}, true);
    (x * 2.0f).backward();
    CHECK(x.grad()(0) == 2.0f);
}

TEST_CASE("a hook sees the complete gradient and may replace it") {
    Tensor x(Array{1.0f, 2.0f}, true);
    Tensor h = x * 3.0f;
    Array seen;
    h.register_hook([&](const Tensor& dy) {
        seen = dy.value();
        return Tensor(dy.value() * 10.0f);
    });
    Tensor loss = sum(h * h + h);  // dL/dh = 2h + 1 = (7, 13), from two records
    loss.backward();
    CHECK(seen == Array{7.0f, 13.0f});
    CHECK(x.grad() == Array{210.0f, 390.0f});  // 3 * 10 * (7, 13)
}

TEST_CASE("a hook that returns an undefined Tensor keeps the gradient, and a leaf's hook runs once") {
    Tensor x(Array{1.0f, 2.0f}, true);
    int calls = 0;
    Array seen;
    x.register_hook([&](const Tensor& dy) {
        ++calls;
        seen = dy.value();
        return Tensor();
    });
    Tensor loss = sum(x * x) + sum(x * 5.0f);  // x reached from two records
    loss.backward();
    CHECK(calls == 1);
    CHECK(seen == Array{7.0f, 9.0f});
    CHECK(x.grad() == Array{7.0f, 9.0f});
}

TEST_CASE("a hook that changes the gradient's shape is an error naming both shapes") {
    Tensor x(Array{1.0f, 2.0f}, true);
    x.register_hook([](const Tensor&) { return Tensor(Array{1.0f}); });
    CHECK_THROWS_WITH_AS(sum(x * 2.0f).backward(),
                         doctest::Contains("a hook returned a gradient of shape [1] for a tensor "
                                           "of shape [2]"),
                         std::logic_error);
    CHECK_FALSE(x.has_grad());
}

TEST_CASE("an op's output keeps its gradient only with retain_grad, summed over backward calls") {
    Tensor x(Array{2.0f}, true);
    Tensor h = x * x;
    Tensor kept = x * 3.0f;
    kept.retain_grad();
    Tensor loss = h * 2.0f + kept;
    loss.backward(GradOptions{true});
    CHECK_FALSE(h.has_grad());
    CHECK(kept.grad()(0) == 1.0f);
    loss.backward();
    CHECK(kept.grad()(0) == 2.0f);
    CHECK(x.grad()(0) == doctest::Approx(2 * (8.0 + 3.0)));
}

TEST_CASE("a graph built on one thread cannot be backpropagated on another") {
    Tensor x(Array{1.0f}, true);
    Tensor y;
    std::thread([&] { y = x * 2.0f; }).join();
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("computed on another thread"),
                         std::logic_error);
    CHECK_THROWS_WITH_AS(y * 3.0f, doctest::Contains("mul_scalar: an input is the output of an "
                                                     "op recorded on another thread"),
                         std::logic_error);
    Tensor z = x * 2.0f;  // leaves may be shared between threads
    z.backward();
    CHECK(x.grad()(0) == 2.0f);
}

TEST_CASE("grad returns the gradients without adding to any grad()") {
    Tensor x(Array{1.0f, 2.0f}, true), w(Array{3.0f, -1.0f}, true);
    Tensor h = x * w;
    Tensor loss = sum(h * h);  // dL/dx = 2 h w, dL/dw = 2 h x, dL/dh = 2 h
    const std::vector<Tensor> g = grad(loss, {x, w, h});
    REQUIRE(g.size() == 3);
    CHECK(g[0].value() == Array{18.0f, 4.0f});
    CHECK(g[1].value() == Array{6.0f, -8.0f});
    CHECK(g[2].value() == Array{6.0f, -4.0f});
    CHECK_FALSE(g[0].requires_grad());
    CHECK_FALSE(x.has_grad());
    CHECK_FALSE(w.has_grad());
    CHECK(Tape::current().size() == 0);
}

TEST_CASE("grad takes a seed for an output of several elements, and retain_graph") {
    Tensor x(Array{1.0f, 2.0f}, true);
    Tensor y = x * x;
    GradOptions options;
    options.grad_output = Tensor(Array{1.0f, 10.0f});
    options.retain_graph = true;
    CHECK(grad(y, {x}, options)[0].value() == Array{2.0f, 40.0f});
    CHECK(grad(y, {x}, options)[0].value() == Array{2.0f, 40.0f});
}

TEST_CASE("grad refuses bad input with clear errors") {
    Tensor x(Array{1.0f, 2.0f}, true), unused(Array{1.0f}, true), constant(Array{1.0f});
    Tensor y = x * 2.0f;
    CHECK_THROWS_WITH_AS(grad(y, {x}), doctest::Contains("must hold one element"),
                         std::invalid_argument);
    Tensor loss = sum(y);
    GradOptions keep;
    keep.retain_graph = true;
    CHECK_THROWS_WITH_AS(grad(loss, {x, unused}, keep),
                         doctest::Contains("input 1 (shape [1]) is not used to compute the output"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(grad(loss, {constant}, keep),
                         "grad: input 0 does not require a gradient", std::invalid_argument);
    GradOptions allow = keep;
    allow.allow_unused = true;
    const std::vector<Tensor> g = grad(loss, {x, unused}, allow);
    CHECK(g[0].value() == Array{2.0f, 2.0f});
    CHECK_FALSE(g[1].defined());
    CHECK_FALSE(x.has_grad());
}

namespace {

// Logs what a LeafListener is told, doubling every gradient it sees.
class LoggingListener : public LeafListener {
  public:
    LoggingListener(std::vector<Tensor> leaves, std::vector<std::string>& log)
        : leaves_(std::move(leaves)), log_(log) {}
    const std::vector<Tensor>& watched() const override { return leaves_; }
    void ready(std::size_t k, Array& dx) override {
        log_.push_back("ready " + std::to_string(k) + " " + std::to_string(xt::sum(dx)()));
        dx *= 2.0f;
    }
    void finish() override { log_.push_back("finish"); }

  private:
    std::vector<Tensor> leaves_;
    std::vector<std::string>& log_;
};

}  // namespace

TEST_CASE("a leaf listener hears of each leaf as soon as no record still to run adds to it") {
    std::vector<std::string> log;
    Tensor w1(Array{1.0f, 2.0f}, true), w2(Array{3.0f, 4.0f}, true), unused(Array{5.0f}, true);
    const Tensor x(Array{1.0f, -1.0f});
    {
        LoggingListener listener({w1, w2, unused}, log);
        Tensor h = w1 * x;                               // record 0: the only one using w1
        h.register_hook([&log](const Tensor&) {          // runs when record 0 is about to run
            log.push_back("record 0");
            return Tensor();
        });
        Tensor loss = sum(w2 * h) + sum(w2);             // w2 used by the later records only
        loss.backward();
        // dw2 = h + 1 = (2, -1), doubled; dw1 = w2 * x = (3, -4), doubled; unused gets zero.
        CHECK(w2.grad() == Array{4.0f, -2.0f});
        CHECK(w1.grad() == Array{6.0f, -8.0f});
        CHECK(unused.grad() == Array{0.0f});
    }
    CHECK(log == std::vector<std::string>{"ready 1 1.000000", "record 0", "ready 0 -1.000000",
                                          "ready 2 0.000000", "finish"});
    // Gone with the listener: the next backward is plain.
    sum(w1 * 2.0f).backward();
    CHECK(w1.grad() == Array{8.0f, -6.0f});
}

TEST_CASE("a leaf listener refuses create_graph and sits out grad()") {
    std::vector<std::string> log;
    Tensor w(Array{2.0f}, true);
    LoggingListener listener({w}, log);
    Tensor y = sum(w * w * w);
    const std::vector<Tensor> g = grad(y, {w}, GradOptions{true});  // not reported: 3 w^2 = 12
    CHECK(g[0].item() == 12.0f);
    CHECK(log.empty());
    CHECK_THROWS_WITH_AS(y.backward(GradOptions{false, true}),
                         doctest::Contains("create_graph is not supported while a gradient"),
                         std::logic_error);
    y.backward();  // the graph is still there
    CHECK(w.grad()(0) == 24.0f);
    CHECK(log == std::vector<std::string>{"ready 0 12.000000", "finish"});
}

TEST_CASE("a leaf listener is told when a sweep it heard from fails, and hears the next") {
    std::vector<std::string> log;
    struct Abandoning : LoggingListener {
        using LoggingListener::LoggingListener;
        void abandon() override { log_of_abandon->push_back("abandon"); }
        std::vector<std::string>* log_of_abandon = nullptr;
    };
    Tensor w1(Array{1.0f}, true), w2(Array{2.0f}, true);
    Abandoning listener({w1, w2}, log);
    listener.log_of_abandon = &log;
    const Tensor a = sum(failing(w1 * 3.0f));
    const Tensor b = sum(w2 * 5.0f);  // recorded after a: its records run before the throw
    Tensor loss = a + b;
    CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("the closure failed"),
                         std::runtime_error);
    std::string seen;
    for (const auto& line : log) seen += line + "; ";
    INFO(seen);
    CHECK(log == std::vector<std::string>{"ready 1 5.000000", "abandon"});
    CHECK_FALSE(w1.has_grad());
    CHECK_FALSE(w2.has_grad());
    log.clear();
    sum(w1 * w2).backward();
    // w1 is also an input of the failed graph's records, still on the tape: it is reported last.
    CHECK(log == std::vector<std::string>{"ready 1 1.000000", "ready 0 2.000000", "finish"});
}
