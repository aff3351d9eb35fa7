#include "explorer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "../tape.hpp"
#include "trace.hpp"

namespace tapegrad {

namespace embedded {
extern const char* const op_table;       // docs/ops.md
}  // namespace embedded

namespace {

// ---- docs/ops.md's table --------------------------------------------------------------------

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// A cell as text: without the Markdown's backticks and escapes.
std::string plain(const std::string& cell) {
    std::string out;
    for (std::size_t i = 0; i < cell.size(); ++i) {
        if (cell[i] == '`') continue;
        if (cell[i] == '\\' && i + 1 < cell.size() && cell[i + 1] == '|') continue;
        out += cell[i];
    }
    return trim(out);
}

struct OpRow {
    std::string family, formula, derivative;
};
using OpTable = std::map<std::string, OpRow>;

OpTable parse_op_table() {
    OpTable table;
    std::istringstream in(embedded::op_table);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("| `", 0) != 0) continue;
        std::vector<std::string> cells(1);
        for (std::size_t i = 1; i < line.size(); ++i) {
            if (line[i] == '|' && line[i - 1] != '\\') cells.emplace_back();
            else cells.back() += line[i];
        }
        if (cells.size() < 4) continue;
        // The first cell names one op or several: `mse_loss`, `l1_loss`.
        for (std::size_t b = cells[0].find('`'); b != std::string::npos;) {
            const std::size_t e = cells[0].find('`', b + 1);
            if (e == std::string::npos) break;
            table[cells[0].substr(b + 1, e - b - 1)] = {plain(cells[1]), plain(cells[2]), plain(cells[3])};
            b = cells[0].find('`', e + 1);
        }
    }
    return table;
}

// ---- what the page shows of a tensor --------------------------------------------------------

TensorView view_of(const Array& a, const ExplorerOptions& options) {
    TensorView v;
    v.kept = true;
    v.shape.assign(a.shape().begin(), a.shape().end());
    v.size = a.size();
    if (v.size == 0) return v;
    const float* p = a.data();
    double lo = std::numeric_limits<double>::infinity(), hi = -lo, total = 0, squares = 0;
    for (std::size_t i = 0; i < v.size; ++i) {
        const double x = p[i];
        lo = std::min(lo, x);
        hi = std::max(hi, x);
        total += x;
        squares += x * x;
    }
    v.min = lo;
    v.max = hi;
    v.mean = total / static_cast<double>(v.size);
    v.norm = std::sqrt(squares);
    if (v.size <= options.heatmap_up_to) {
        v.values.assign(p, p + v.size);
        return v;
    }
    const std::size_t bins = std::max<std::size_t>(options.histogram_bins, 1);
    v.histogram.assign(bins, 0);
    const double width = (hi - lo) / static_cast<double>(bins);
    for (std::size_t i = 0; i < v.size; ++i) {
        if (!std::isfinite(p[i])) continue;
        std::size_t b = width > 0 ? static_cast<std::size_t>((p[i] - lo) / width) : 0;
        v.histogram[std::min(b, bins - 1)] += 1;
    }
    return v;
}

// The leaves `root` depends on that require a gradient, by node: the tape read from the end.
std::unordered_map<std::uintptr_t, std::shared_ptr<Node>> parameters_of(const Tensor& root) {
    const Tape& tape = Tape::current();
    std::unordered_set<const Node*> needed{root.node().get()};
    std::unordered_map<std::uintptr_t, std::shared_ptr<Node>> leaves;
    for (std::size_t i = tape.size(); i-- > 0;) {
        const Record& r = tape[i];
        if (!r.output || !needed.count(r.output.get())) continue;
        for (std::size_t k = 0; k < r.inputs.size(); ++k) {
            const std::shared_ptr<Node>& in = r.inputs[k].node();
            needed.insert(in.get());
            if (in->is_leaf() && in->requires_grad)
                leaves[reinterpret_cast<std::uintptr_t>(in.get())] = in;
        }
    }
    return leaves;
}

// Central differences of f at up to `count` elements of a leaf, evenly spread. The value is put
// back exactly, whatever f throws.
std::vector<GradientCheck> check_leaf(Node& leaf, const Array& gradient, const ExplorerOptions& options) {
    std::vector<GradientCheck> checks;
    const std::size_t n = leaf.value.size();
    const std::size_t count = std::min(n, options.checks_per_leaf);
    auto loss = [&] {
        const Tensor y = options.check_gradients();
        if (!y.defined() || y.size() != 1)
            throw std::invalid_argument("write_explorer: check_gradients must return one value (the loss), got shape " +
                                        shape_str(y.defined() ? y.shape() : Shape{0}));
        return static_cast<double>(y.item());
    };
    for (std::size_t c = 0; c < count; ++c) {
        const std::size_t e = c * n / count;
        float& v = leaf.value.data()[e];
        const float kept = v;
        struct Restore {
            float& v;
            float kept;
            ~Restore() { v = kept; }
        } restore{v, kept};
        v = static_cast<float>(kept + options.check_step);
        const double up = loss();
        v = static_cast<float>(kept - options.check_step);
        const double down = loss();
        checks.push_back({e, gradient.data()[e], (up - down) / (2 * options.check_step)});
    }
    return checks;
}

}  // namespace

namespace {

OpRow row_of(const std::string& op) {
    static const OpTable table = parse_op_table();
    static const std::map<std::string, std::string> rows_of = {
        {"add", "operator+"},         {"add_scalar", "operator+"}, {"sub", "operator-"},
        {"neg", "operator-"},         {"rsub_scalar", "operator-"}, {"mul", "operator*"},
        {"mul_scalar", "operator*"},  {"div", "operator/"},         {"rdiv_scalar", "operator/"},
        {"gelu_tanh", "gelu"},        {"log_with_logits", "log_loss_with_logits"}};
    const auto alias = rows_of.find(op);
    for (const std::string& name : {alias != rows_of.end() ? alias->second : op, op + "_loss"})
        if (auto it = table.find(name); it != table.end()) return it->second;
    return {};
}

// The table's letters for this record's tensors: x (or a, b) its inputs, y its output; a loss's
// a is its prediction and y its target (not an input). A letter that is the label is left out.
std::string legend(const std::string& op, const OpRow& row, const std::vector<std::string>& inputs,
                   const std::string& output) {
    if (row.formula.empty()) return "";
    std::vector<std::pair<std::string, std::string>> letters;
    const bool loss = row.family == "loss";
    const bool scalar = op.size() > 7 && op.compare(op.size() - 7, 7, "_scalar") == 0;  // x * 2, 2 - x
    if (scalar && inputs.size() == 1)
        letters = op[0] == 'r' ? decltype(letters){{"a", "a number"}, {"b", inputs[0]}, {"y", output}}
                               : decltype(letters){{"a", inputs[0]}, {"b", "a number"}, {"y", output}};
    else if (loss && inputs.size() == 1) letters = {{"a", inputs[0]}};
    else if (!loss && inputs.size() == 1) letters = {{"x", inputs[0]}, {"y", output}};
    else if (!loss && inputs.size() == 2) letters = {{"a", inputs[0]}, {"b", inputs[1]}, {"y", output}};
    std::string text;
    for (const auto& [letter, label] : letters)
        if (letter != label) text += (text.empty() ? "" : ", ") + letter + " = " + label;
    if (loss) text += (text.empty() ? "" : ", ") + std::string("y is the target");
    return text;
}

}  // namespace

std::pair<std::string, std::string> op_table_row(const std::string& op) {
    const OpRow row = row_of(op);
    return {row.formula, row.derivative};
}

Exploration explore(const Tensor& root, const ExplorerOptions& options) {
    if (!root.defined()) throw std::invalid_argument("write_explorer: root is an empty Tensor");
    if (root.size() != 1)
        throw std::invalid_argument("write_explorer: root must have one element (a loss); it has shape " +
                                    shape_str(root.shape()));
    if (!root.requires_grad() || root.is_leaf())
        throw std::invalid_argument(
            "write_explorer: root was not computed by recorded ops (it is a leaf, or needs no gradient): "
            "there is no backward pass to step through");

    std::unordered_map<std::uintptr_t, std::shared_ptr<Node>> parameters = parameters_of(root);
    TraceOptions keep_all;
    keep_all.max_elements = std::numeric_limits<std::size_t>::max();
    std::vector<TracedRecord> trace;
    {
        TapeRecorder recorder(keep_all);
        root.backward();
        trace = recorder.last_sweep();
    }
    if (trace.empty())
        throw std::invalid_argument("write_explorer: backward() from root ran no record");

    Exploration e;
    e.title = options.title;
    e.table_up_to = options.table_up_to;
    std::unordered_map<std::uintptr_t, std::size_t> position;  // of a tensor in e.tensors
    auto add = [&](const TracedTensor& t, int record) {
        auto [it, added] = position.emplace(t.id, e.tensors.size());
        if (added) {
            ExploredTensor x;
            x.label = t.label;
            x.kind = t.creator != 0 ? "output" : t.requires_grad ? "parameter" : "data";
            x.record = record;
            x.value = view_of(t.value, options);
            e.tensors.push_back(std::move(x));
        }
        return it->second;
    };
    for (const TracedRecord& t : trace) {
        ExploredRecord r;
        r.index = t.index;
        r.op = t.op;
        const OpRow row = row_of(t.op);
        r.family = row.family;
        r.formula = row.formula;
        r.derivative = row.derivative;
        std::vector<std::string> labels;
        for (const TracedTensor& in : t.inputs) {
            r.inputs.push_back(add(in, -1));
            r.same_as.push_back(in.same_as);
            labels.push_back(in.label);
        }
        r.output = add(t.output, static_cast<int>(e.records.size()));
        r.legend = legend(t.op, row, labels, t.output.label);
        e.records.push_back(std::move(r));
    }
    e.root = e.records.back().output;
    for (std::size_t i = 0; i < e.records.size(); ++i)
        if (trace[i].output.id == reinterpret_cast<std::uintptr_t>(root.node().get())) e.root = e.records[i].output;

    // The sweep again, from what each record added: every tensor's gradient as a running sum.
    auto sends = [&](std::size_t i, std::size_t k) {
        const TracedRecord& t = trace[i];
        return t.inputs[k].requires_grad && t.inputs[k].same_as < 0 && t.dx[k].size() == t.inputs[k].value.size() &&
               t.dx[k].dimension() == t.inputs[k].value.dimension();
    };
    std::vector<std::size_t> arriving(e.tensors.size(), 0), arrived(e.tensors.size(), 0);
    for (std::size_t i = 0; i < trace.size(); ++i)
        for (std::size_t k = 0; k < trace[i].inputs.size(); ++k)
            if (sends(i, k)) ++arriving[e.records[i].inputs[k]];
    std::vector<Array> sum(e.tensors.size(), not_kept());
    std::vector<bool> has(e.tensors.size(), false);
    sum[e.root] = Array(xt::ones<float>(root.value().shape()));
    has[e.root] = true;
    for (std::size_t i = trace.size(); i-- > 0;) {
        ExploredRecord& r = e.records[i];
        for (std::size_t k = 0; k < r.inputs.size(); ++k) {
            r.dx.emplace_back();
            r.sum.emplace_back();
            r.contribution.push_back(0);
            r.contributions.push_back(0);
            if (!sends(i, k)) continue;
            const std::size_t x = r.inputs[k];
            const Array& dx = trace[i].dx[k];
            if (has[x]) sum[x] += dx;
            else sum[x] = dx;
            has[x] = true;
            r.dx.back() = view_of(dx, options);
            r.sum.back() = view_of(sum[x], options);
            r.contribution.back() = ++arrived[x];
            r.contributions.back() = arriving[x];
        }
    }
    for (std::size_t x = 0; x < e.tensors.size(); ++x)
        if (has[x]) e.tensors[x].grad = view_of(sum[x], options);

    if (options.check_gradients) {
        NoGrad no_grad;
        for (const auto& [id, x] : position) {
            auto leaf = parameters.find(id);
            if (leaf == parameters.end() || !has[x]) continue;
            e.tensors[x].checks = check_leaf(*leaf->second, sum[x], options);
        }
    }
    return e;
}

}  // namespace tapegrad
