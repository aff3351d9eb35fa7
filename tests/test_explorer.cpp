#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "helpers.hpp"

#include <tapegrad/core/inspect/explorer.hpp>

using namespace tapegrad;
using namespace tapegrad::test;

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

const ExploredRecord& record_of(const Exploration& e, const std::string& op) {
    for (const ExploredRecord& r : e.records)
        if (r.op == op) return r;
    throw std::runtime_error("no record " + op);
}

}  // namespace

// y = x * x + x at x = (2, -3): x reaches the sum twice, through add (dx = 1) and through mul,
// where it is both inputs (one slot holds dy (x + x) = 2x). The sweep runs add first.
TEST_CASE("the explorer shows a value used twice as a running sum of its contributions") {
    Tensor x(Array{2.0f, -3.0f}, true);
    TapeRecorder names;
    names.name(x, "x");
    Tensor y = sum(x * x + x);
    const Exploration e = explore(y);
    REQUIRE(e.records.size() == 3);
    CHECK(e.records[0].op == "mul");
    CHECK(e.records[1].op == "add");
    CHECK(e.records[2].op == "sum");
    const std::size_t xi = e.records[0].inputs[0];
    CHECK(e.tensors[xi].label == "x");
    CHECK(e.tensors[xi].kind == "parameter");

    const ExploredRecord& add = e.records[1];
    REQUIRE(add.inputs[1] == xi);
    CHECK(add.contribution[1] == 1);
    CHECK(add.contributions[1] == 2);
    CHECK(add.dx[1].values == std::vector<float>{1.0f, 1.0f});
    CHECK(add.sum[1].values == std::vector<float>{1.0f, 1.0f});

    const ExploredRecord& mul = e.records[0];
    CHECK(mul.same_as[1] == 0);       // x * x: the second slot is the first one's tensor
    CHECK(!mul.dx[1].kept);
    CHECK(mul.contribution[0] == 2);
    CHECK(mul.dx[0].values == std::vector<float>{4.0f, -6.0f});    // 2x
    CHECK(mul.sum[0].values == std::vector<float>{5.0f, -5.0f});   // 2x + 1
    CHECK(e.tensors[xi].grad.values == std::vector<float>{5.0f, -5.0f});
    CHECK(x.grad()(0) == 5.0f);       // explore ran backward() as any training step
    CHECK(x.grad()(1) == -5.0f);
    CHECK(e.tensors[e.root].grad.values == std::vector<float>{1.0f});  // the seed
}

TEST_CASE("the explorer gives each record its row of docs/ops.md") {
    CHECK(op_table_row("mul").second == "da = dy b, db = dy a");
    CHECK(op_table_row("add_scalar").first == "a + b (also with a float)");
    CHECK(op_table_row("sigmoid").second == "dy y (1 - y)");
    CHECK(op_table_row("squared").second == "2 (a - y)");       // squared_loss records "squared"
    CHECK(op_table_row("log").first == "ln x");
    CHECK(op_table_row("log_loss").first.rfind("-[y ln a", 0) == 0);
    CHECK(op_table_row("log_with_logits").first == "the log loss of σ(z)");
    CHECK(op_table_row("abs").first == "|x|");  // the table's \| read as |
    CHECK(op_table_row("no_such_op").first.empty());
    Tensor x(Array{0.5f}, true);
    const Exploration e = explore(sigmoid(x) * 2.0f);
    CHECK(record_of(e, "sigmoid").derivative == "dy y (1 - y)");
    CHECK(record_of(e, "mul_scalar").formula == "a b");
    // The row's letters named: x the input, y the output; a number in a scalar op.
    CHECK(record_of(e, "sigmoid").legend == "x = leaf1, y = #0");
    CHECK(record_of(e, "mul_scalar").legend == "a = #0, b = a number, y = #1");
    const Exploration l = explore(squared_loss(x, Tensor(Array{1.0f})));
    CHECK(l.records[0].legend == "a = leaf1, y is the target");  // a, the prediction
    CHECK(l.records[0].family == "loss");
}

// A sigmoid neuron at z = 4: the engine's gradient against central differences, and each
// perturbed value put back bit for bit.
TEST_CASE("the explorer checks each leaf's gradient with finite differences") {
    Tensor w(Array{2.0f, -1.0f, 0.5f}, true), b(Array{2.0f}, true);
    const Tensor x(Array{1.0f, 0.5f, 2.0f}), y(Array{0.0f});
    auto loss = [&] { return squared_loss(sigmoid(sum(w * x, {0}, true) + b), y); };
    const Array w_before = w.value();
    ExplorerOptions options;
    options.check_gradients = loss;
    options.checks_per_leaf = 2;
    const Exploration e = explore(loss(), options);
    std::size_t checked = 0;
    for (const ExploredTensor& t : e.tensors) {
        if (t.kind != "parameter") continue;
        CHECK(t.checks.size() == std::min<std::size_t>(2, t.value.size));
        for (const GradientCheck& c : t.checks) {
            CHECK(c.estimate == doctest::Approx(c.gradient).epsilon(2e-3));
            ++checked;
        }
    }
    CHECK(checked == 3);  // w at elements 0 and 1 (of 3), b at 0
    CHECK(std::memcmp(w.value().data(), w_before.data(), 3 * sizeof(float)) == 0);
    CHECK(Tape::current().size() == 0);  // the checks ran without recording
}

TEST_CASE("the explorer shows large tensors as statistics and a histogram") {
    Tensor x(random_array({50, 100}), true);
    ExplorerOptions options;
    options.heatmap_up_to = 1000;
    options.histogram_bins = 10;
    const Exploration e = explore(sum(x * x), options);
    const TensorView& v = e.tensors[e.records[0].inputs[0]].value;
    CHECK(v.size == 5000);
    CHECK(v.values.empty());
    REQUIRE(v.histogram.size() == 10);
    std::size_t total = 0;
    for (std::size_t c : v.histogram) total += c;
    CHECK(total == 5000);
    double squares = 0, lo = 1e9;
    for (float f : x.value()) squares += double(f) * f, lo = std::min(lo, double(f));
    CHECK(v.norm == doctest::Approx(std::sqrt(squares)));
    CHECK(v.min == lo);
}

TEST_CASE("write_explorer writes one page that needs no network") {
    TempDir dir;
    Tensor w(Array{0.5f, -1.0f}, true);
    TapeRecorder names;
    names.name(w, "</script><b>w</b>");  // must not end the page's script
    ExplorerOptions options;
    options.title = "A & B <test>";
    const std::string path = dir.file("page.html");
    write_explorer(sum(exp(w)), path, options);
    const std::string page = read_text(path);
    CHECK(page.find("<title>A &amp; B &lt;test&gt;</title>") != std::string::npos);
    CHECK(count(page, "</script>") == 2);  // the data's and the program's
    CHECK(page.find("\\u003c/script>\\u003cb>w\\u003c/b>") != std::string::npos);
    CHECK(page.find(" src=") == std::string::npos);
    CHECK(page.find(" href=") == std::string::npos);
    CHECK(page.find("TAPEGRAD_") == std::string::npos);  // every marker filled
    CHECK(page.find("\"op\":\"exp\"") != std::string::npos);
}

TEST_CASE("write_explorer names what is wrong and leaves the library usable") {
    TempDir dir;
    Tensor x(Array{1.0f, 2.0f}, true);
    CHECK_THROWS_WITH_AS(explore(x * 2.0f), doctest::Contains("one element (a loss); it has shape [2]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(explore(Tensor(Array{1.0f}, true)), doctest::Contains("it is a leaf"), std::invalid_argument);
    ExplorerOptions options;
    options.check_gradients = [&] { return x * 2.0f; };
    CHECK_THROWS_WITH_AS(write_explorer(sum(x), dir.file("bad.html"), options),
                         doctest::Contains("check_gradients must return one value"), std::invalid_argument);
    CHECK(!std::filesystem::exists(dir.file("bad.html")));
    CHECK(x.value()(0) == 1.0f);  // the perturbed element is back
    Tape::current().clear();
    Tensor y = sum(x * x);
    y.backward();
    CHECK(x.grad()(1) == 1.0f + 4.0f);  // 1 from the explorer's sweep of sum(x), then 2x
}
