#include <cmath>
#include <memory>
#include <sstream>

#include "helpers.hpp"

#include <tapegrad/core/inspect/trace.hpp>

using namespace tapegrad;

namespace {

// The worked example of the tape essay under a recorder: x = 2, w = 3, c = (x*w + x)^2.
struct Essay {
    Tensor x{Array{2.0f}, true}, w{Array{3.0f}, true};
    Tensor a, b, c;
    void forward() {
        a = x * w;
        b = a + x;
        c = b * b;
    }
};

std::string printed(const std::vector<TracedRecord>& records) {
    std::ostringstream out;
    print_records(out, records);
    return out.str();
}

// What print_tape() writes to stdout.
std::string printed_tape() {
    std::ostringstream captured;
    auto* old = std::cout.rdbuf(captured.rdbuf());
    print_tape();
    std::cout.rdbuf(old);
    return captured.str();
}

}  // namespace

TEST_CASE("a recorder keeps every record backward releases in forward order") {
    TapeRecorder recorder;
    Essay e;
    e.forward();
    e.c.backward();
    CHECK(Tape::current().size() == 0);  // the tape is released as without a recorder
    const auto& r = recorder.records();
    REQUIRE(r.size() == 3);
    CHECK(r[0].op == "mul");
    CHECK(r[1].op == "add");
    CHECK(r[2].op == "mul");
    CHECK(r[0].index == 0);
    CHECK(r[2].index == 2);
    CHECK(r[2].output.value(0) == doctest::Approx(64.0));
    CHECK(r[1].inputs[0].label == "#0");
    CHECK(r[1].inputs[1].label == "leaf1");  // x, the first leaf used
    CHECK(r[0].inputs[1].label == "leaf2");  // w
    CHECK(recorder.sweeps() == 1);
}

TEST_CASE("the trace has the gradients of the essay after the sweep") {
    TapeRecorder recorder;
    Essay e;
    e.forward();
    e.c.backward();
    const auto& r = recorder.records();
    REQUIRE(r.size() == 3);
    CHECK(r[2].output.grad_norm == doctest::Approx(1.0));       // dc/dc
    CHECK(r[1].output.grad_norm == doctest::Approx(16.0));      // dc/db
    CHECK(r[0].output.grad_norm == doctest::Approx(16.0));      // dc/da
    CHECK(r[0].inputs[0].grad_norm == doctest::Approx(64.0));   // dc/dx, complete after the sweep
    CHECK(r[0].inputs[1].grad_norm == doctest::Approx(32.0));   // dc/dw
    CHECK(r[0].inputs[1].grad(0) == doctest::Approx(32.0));
}

TEST_CASE("the trace has what each record's closure sent to each input") {
    TapeRecorder recorder;
    Essay e;
    e.forward();
    e.c.backward();
    const auto& r = recorder.records();
    REQUIRE(r.size() == 3);
    // #2 c = b * b: both slots hold b; the first has the sum 8 + 8, the second is marked.
    CHECK(r[2].inputs[1].same_as == 0);
    CHECK(r[2].dx[0](0) == doctest::Approx(16.0));
    CHECK(r[2].dx[1].size() == 0);
    // #1 b = a + x: 16 to each.  #0 a = x * w: dy * w = 48 to x, dy * x = 32 to w.
    CHECK(r[1].dx[0](0) == doctest::Approx(16.0));
    CHECK(r[1].dx[1](0) == doctest::Approx(16.0));
    CHECK(r[0].dx[0](0) == doctest::Approx(48.0));
    CHECK(r[0].dx[1](0) == doctest::Approx(32.0));
}

TEST_CASE("names given to the recorder label the trace") {
    TapeRecorder recorder;
    Essay e;
    recorder.name(e.x, "x");
    recorder.name(e.w, "w");
    e.forward();
    recorder.name(e.b, "b");
    e.c.backward();
    const auto& r = recorder.records();
    REQUIRE(r.size() == 3);
    CHECK(r[0].inputs[0].label == "x");
    CHECK(r[1].output.label == "b");
    CHECK(r[2].inputs[0].label == "b");
    CHECK(printed(r).find("b = add(#0, x)") != std::string::npos);
}

TEST_CASE("the listing shows shapes and values before backward and gradient norms after") {
    TapeRecorder recorder;
    Essay e;
    e.forward();
    std::ostringstream before;
    Tape::current().print(before);
    CHECK(before.str() ==
          "#0  mul(leaf1, leaf2)  [1] [1] -> [1]  = 6\n"
          "#1  add(#0, leaf1)     [1] [1] -> [1]  = 8\n"
          "#2  mul(#1, #1)        [1] [1] -> [1]  = 64\n");
    e.c.backward();
    CHECK(printed(recorder.records()) ==
          "#0  mul(leaf1, leaf2)  [1] [1] -> [1]  = 6   |grad| out 16  in 64 32\n"
          "#1  add(#0, leaf1)     [1] [1] -> [1]  = 8   |grad| out 16  in 16 64\n"
          "#2  mul(#1, #1)        [1] [1] -> [1]  = 64  |grad| out 1  in 16 16\n");
}

TEST_CASE("the sweep traces only the records of its own graph, and another graph stays on the tape") {
    TapeRecorder recorder;
    Tensor x(Array{1.0f}, true);
    Tensor other = exp(x);
    Tensor y = x * 2.0f;
    y.backward();
    const auto& r = recorder.records();
    REQUIRE(r.size() == 1);
    CHECK(r[0].op == "mul_scalar");
    CHECK(r[0].reached);
    REQUIRE(Tape::current().size() == 1);
    CHECK(std::string(Tape::current()[0].op) == "exp");
    other.backward();
    CHECK(recorder.records().size() == 2);
    CHECK(x.grad()(0) == doctest::Approx(2.0 + std::exp(1.0)));
}

TEST_CASE("inputs that need no gradient show a dash") {
    TapeRecorder recorder;
    Tensor x(Array{1.0f, 2.0f});
    Tensor w(Array{3.0f, 4.0f}, true);
    sum(x * w).backward();
    // |dw| = |x| = |(1, 2)| = 2.236
    CHECK(printed(recorder.records()).find("in - 2.236") != std::string::npos);
}

TEST_CASE("large tensors keep their shape and gradient norm but not their numbers") {
    TapeRecorder recorder(TraceOptions{4});
    Tensor x(xt::ones<float>({3, 3}), true);
    sum(x * 2.0f).backward();
    const auto& r = recorder.records();
    REQUIRE(r.size() == 2);
    CHECK(r[0].inputs[0].value.size() == 0);
    CHECK(r[0].inputs[0].grad.size() == 0);
    CHECK(r[0].dx[0].size() == 0);
    CHECK(r[0].inputs[0].shape == Shape{3, 3});
    CHECK(r[0].inputs[0].grad_norm == doctest::Approx(6.0));  // nine 2s
}

TEST_CASE("the recorder lets go of the graph after the sweep") {
    TapeRecorder recorder;
    Tensor x(Array{1.0f}, true);
    std::weak_ptr<Node> middle;
    {
        Tensor m = exp(x);
        middle = m.node();
        Tensor y = m * 3.0f;
        y.backward();
    }
    CHECK(middle.expired());
    CHECK(recorder.records().size() == 2);
}

TEST_CASE("each backward under a recorder is a sweep and last_sweep returns the newest") {
    TapeRecorder recorder;
    Tensor x(Array{1.0f}, true);
    (x * 2.0f).backward();
    sum(exp(x) + 1.0f).backward();
    CHECK(recorder.sweeps() == 2);
    CHECK(recorder.records().size() == 4);
    const auto last = recorder.last_sweep();
    REQUIRE(last.size() == 3);
    CHECK(last[0].op == "exp");
    CHECK(last[0].sweep == 2);
    recorder.clear();
    CHECK(recorder.records().empty());
}

TEST_CASE("without a recorder backward keeps nothing and recorders nest") {
    CHECK(Tape::current().recorder() == nullptr);
    {
        TapeRecorder outer;
        {
            TapeRecorder inner;
            CHECK(Tape::current().recorder() == &inner);
            Tensor x(Array{1.0f}, true);
            (x * 2.0f).backward();
            CHECK(inner.records().size() == 1);
            CHECK(outer.records().empty());
        }
        CHECK(Tape::current().recorder() == &outer);
    }
    CHECK(Tape::current().recorder() == nullptr);
}

TEST_CASE("a backward that throws leaves the recorder usable") {
    TapeRecorder recorder;
    Tensor scores(Array{{1.0f, 2.0f}}, true);
    Tensor loss = zero_one_loss(scores, Tensor(Array{1.0f}));
    CHECK_THROWS_AS(loss.backward(), std::logic_error);
    Tensor x(Array{1.0f}, true);
    (x * 2.0f).backward();
    REQUIRE(recorder.records().size() == 1);
    CHECK(recorder.records()[0].op == "mul_scalar");
}

TEST_CASE("print_tape says where the records went when the tape is empty") {
    CHECK(printed_tape().find("start a TapeRecorder") != std::string::npos);
}

TEST_CASE("print_tape prints the last sweep of the recorder and the waiting records") {
    TapeRecorder recorder;
    Tensor x(Array{1.0f}, true);
    (x * 2.0f).backward();
    Tensor waiting = exp(x);
    const std::string text = printed_tape();
    CHECK(text.find("backward() went through 1 record ") != std::string::npos);
    CHECK(text.find("mul_scalar(leaf1)  [1] -> [1]  = 2  |grad| out 1  in 2") != std::string::npos);
    CHECK(text.find("tape: 1 record waiting for backward():\n#0  exp(leaf1)") !=
          std::string::npos);
}

TEST_CASE("the listing of docs/how_it_works.md: a = sigmoid(w * x + b)") {
    Tensor w(Array{0.8f}, true), x(Array{1.5f}), b(Array{-0.2f}, true);
    Tensor a = sigmoid(w * x + b);
    CHECK(printed_tape() == "tape: 3 records waiting for backward():\n"
                            "#0  mul(leaf1, leaf2)  [1] [1] -> [1]  = 1.2\n"
                            "#1  add(#0, leaf3)     [1] [1] -> [1]  = 1\n"
                            "#2  sigmoid(#1)        [1] -> [1]      = 0.7311\n");
}

TEST_CASE("the listing of docs/how_it_works.md: a double backward is a program on the tape") {
    TapeRecorder recorder;
    Tensor x(Array{3.0f}, true);
    recorder.name(x, "x");
    Tensor a = x * x;
    recorder.name(a, "a");
    Tensor y = a * x;
    recorder.name(y, "y");
    GradOptions options;
    options.create_graph = true;
    Tensor dy_dx = grad(y, {x}, options)[0];
    recorder.name(dy_dx, "dy_dx");
    CHECK(printed_tape() == "tape: 8 records waiting for backward():\n"
                            "#0  a = mul(x, x)        [1] [1] -> [1]  = 9\n"
                            "#1  y = mul(a, x)        [1] [1] -> [1]  = 27\n"
                            "#2  mul(leaf2, x)        [1] [1] -> [1]  = 3\n"
                            "#3  mul(leaf2, a)        [1] [1] -> [1]  = 9\n"
                            "#4  mul(#2, x)           [1] [1] -> [1]  = 9\n"
                            "#5  mul(#2, x)           [1] [1] -> [1]  = 9\n"
                            "#6  add(#3, #4)          [1] [1] -> [1]  = 18\n"
                            "#7  dy_dx = add(#6, #5)  [1] [1] -> [1]  = 27\n");
    CHECK(grad(dy_dx, {x})[0].item() == doctest::Approx(18.0));
}
