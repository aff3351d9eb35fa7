#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "helpers.hpp"

#include <tapegrad/core/inspect/graph.hpp>

using namespace tapegrad;

namespace {

std::size_t count(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
        ++n;
    return n;
}

// The essay's example, x = 2, w = 3, c = (x*w + x)^2, traced through backward().
std::string essay_dot() {
    TapeRecorder recorder;
    Tensor x(Array{2.0f}, true), w(Array{3.0f}, true);
    recorder.name(x, "x");
    recorder.name(w, "w");
    Tensor c = (x * w + x) * (x * w + x);
    c.backward();
    return to_dot(recorder.records());
}

}  // namespace

TEST_CASE("the graph of a small computation is a digraph with a node per op and per tensor") {
    const std::string dot = essay_dot();
    CHECK(dot.rfind("digraph tape {", 0) == 0);
    CHECK(dot.substr(dot.size() - 2) == "}\n");
    // (x*w + x) twice: mul, add, mul, add, then the final mul: five ops.
    CHECK(count(dot, "shape=ellipse") == 5);
    // Five outputs and two leaves.
    CHECK(count(dot, "shape=plaintext") == 7);
    // Each op: one edge per input and one to its output: 2 + 2 + 2 + 2 + 2 in, 5 out.
    CHECK(count(dot, " -> ") == 15);
}

TEST_CASE("the nodes of a small graph show values and gradients") {
    const std::string dot = essay_dot();
    CHECK(dot.find("<b>x</b> [1]</td></tr><tr><td>2</td></tr>") != std::string::npos);
    CHECK(dot.find("grad 64") != std::string::npos);  // dc/dx, both branches added
    CHECK(dot.find("grad 32") != std::string::npos);  // dc/dw
    CHECK(dot.find("label=\"#4 mul\"") != std::string::npos);
    CHECK(dot.find("<td>64</td>") != std::string::npos);  // c itself
}

TEST_CASE("leaves are coloured by whether they require a gradient") {
    TapeRecorder recorder;
    Tensor data(Array{1.0f, 2.0f});
    Tensor weight(Array{0.5f, 0.5f}, true);
    sum(data * weight).backward();
    const std::string dot = to_dot(recorder.records());
    CHECK(count(dot, "#cfe2f3") == 1);  // the weight
    CHECK(count(dot, "#eeeeee") == 1);  // the data
    CHECK(count(dot, "#f4cccc") == 1);  // the final output
}

TEST_CASE("a graph larger than detailed_up_to shows ops and shapes without numbers") {
    TapeRecorder recorder;
    Tensor x(Array{{1.0f, 2.0f}}, true);
    Tensor y = x;
    for (int i = 0; i < 30; ++i) y = tanh(y) * 1.5f;  // 60 records, then the sum
    sum(y).backward();
    REQUIRE(recorder.records().size() == 61);
    const std::string dot = to_dot(recorder.records());
    CHECK(count(dot, "shape=ellipse") == 61);
    CHECK(dot.find("grad") == std::string::npos);
    CHECK(dot.find("label=\"[1, 2]\"") != std::string::npos);  // shapes on the edges
    CHECK(count(dot, "shape=box") == 2);                       // the leaf and the final output
    CHECK(count(dot, " -> ") == 62);
}

TEST_CASE("a graph can be drawn from the tape before backward") {
    Tensor x(Array{1.0f}, true);
    Tensor y = exp(x) * 2.0f;
    DotOptions options;
    options.title = "before <backward>";
    const std::string dot = to_dot(snapshot(Tape::current()), options);
    CHECK(count(dot, "shape=ellipse") == 2);
    CHECK(dot.find("label=\"before &lt;backward&gt;\"") != std::string::npos);  // escaped
    CHECK(dot.find("grad") == std::string::npos);  // nothing has a gradient yet
}

TEST_CASE("Graphviz accepts the detailed and the compact graph when it is installed") {
    if (std::system("command -v dot > /dev/null 2>&1") != 0)
        test::skip_test("Graphviz's dot is not installed (apt-get install graphviz)");
    TapeRecorder recorder;
    Tensor x(Array{{1.0f, 2.0f}}, true);
    Tensor y = x;
    for (int i = 0; i < 30; ++i) y = tanh(y) * 1.5f;
    sum(y).backward();
    DotOptions compact, detailed;
    detailed.detailed_up_to = 100;
    for (const DotOptions& options : {compact, detailed}) {
        const std::string path = "test_graph_" + std::to_string(options.detailed_up_to) + ".dot";
        std::ofstream(path) << to_dot(recorder.records(), options);
        CHECK(std::system(("dot -Tsvg " + path + " -o /dev/null").c_str()) == 0);
        std::remove(path.c_str());
    }
}
