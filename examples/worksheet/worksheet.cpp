#include "worksheet.hpp"

#include <cstdio>
#include <random>
#include <stdexcept>

namespace worksheet {

using namespace tapegrad;

namespace {

std::string num(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.4g", v);
    return buffer;
}

std::string idx(std::size_t i) { return std::to_string(i + 1); }

// A number drawn from the seed: k / denominator for k in [-range, range], never 0.
float drawn(std::mt19937_64& rng, int range, float denominator) {
    std::uniform_int_distribution<int> pick(1, range);
    const int k = pick(rng);
    return (std::uniform_int_distribution<int>(0, 1)(rng) ? k : -k) / denominator;
}

float first(const Tensor& t) { return t.value().data()[0]; }
Array row(const Tensor& t) {  // a [1, H] tensor's value as [H]
    Array a = t.value();
    a.reshape({a.size()});
    return a;
}

struct Row {
    std::string quantity, formula, value;
};
struct Section {
    std::string title, intro;
    std::vector<Row> rows;
};

std::vector<Section> sections(const Worksheet& w) {
    const std::size_t I = w.spec.inputs, H = w.spec.hidden;
    const bool squared = w.spec.loss == "squared";
    std::vector<Section> out;

    Section forward{"1. The forward pass", "Compute each value from the ones above it.", {}};
    for (std::size_t j = 0; j < H; ++j) {
        std::string f;
        for (std::size_t k = 0; k < I; ++k) f += (k ? " + " : "") + std::string("w") + idx(j) + idx(k) + " x" + idx(k);
        forward.rows.push_back({"z" + idx(j), f + " + b" + idx(j), num(w.z1(j))});
        forward.rows.push_back({"h" + idx(j), "σ(z" + idx(j) + ")", num(w.h(j))});
    }
    std::string f;
    for (std::size_t j = 0; j < H; ++j) f += (j ? " + " : "") + std::string("v") + idx(j) + " h" + idx(j);
    forward.rows.push_back({"z_o", f + " + c", num(w.z2)});
    forward.rows.push_back({"a", "σ(z_o)", num(w.a)});
    forward.rows.push_back({"L", squared ? "(a - y)²" : "-(y ln a + (1 - y) ln(1 - a))", num(w.L)});
    out.push_back(forward);

    Section local{"2. Local derivatives", "Each op's derivative at the values of the forward pass, on its own.", {}};
    local.rows.push_back({"∂L/∂a", squared ? "2 (a - y)" : "(a - y) / (a (1 - a))", num(w.dL_da)});
    local.rows.push_back({"∂a/∂z_o", "a (1 - a)", num(w.da_dz2)});
    for (std::size_t j = 0; j < H; ++j)
        local.rows.push_back({"∂h" + idx(j) + "/∂z" + idx(j), "h" + idx(j) + " (1 - h" + idx(j) + ")", num(w.dh_dz1(j))});
    out.push_back(local);

    Section chain{"3. The chain, from the loss back",
                  "Multiply the gradient arriving at each value by the local derivative of the op that made it.", {}};
    chain.rows.push_back({"∂L/∂z_o", "∂L/∂a · ∂a/∂z_o", num(w.dL_dz2)});
    for (std::size_t j = 0; j < H; ++j) chain.rows.push_back({"∂L/∂h" + idx(j), "∂L/∂z_o · v" + idx(j), num(w.dL_dh(j))});
    for (std::size_t j = 0; j < H; ++j)
        chain.rows.push_back({"∂L/∂z" + idx(j), "∂L/∂h" + idx(j) + " · ∂h" + idx(j) + "/∂z" + idx(j), num(w.dL_dz1(j))});
    out.push_back(chain);

    Section grads{"4. The gradients of the parameters", "What backward() leaves in each parameter's .grad().", {}};
    for (std::size_t j = 0; j < H; ++j) grads.rows.push_back({"∂L/∂v" + idx(j), "∂L/∂z_o · h" + idx(j), num(w.dW2(j))});
    grads.rows.push_back({"∂L/∂c", "∂L/∂z_o", num(w.db2)});
    for (std::size_t j = 0; j < H; ++j)
        for (std::size_t k = 0; k < I; ++k)
            grads.rows.push_back({"∂L/∂w" + idx(j) + idx(k), "∂L/∂z" + idx(j) + " · x" + idx(k), num(w.dW1(j, k))});
    for (std::size_t j = 0; j < H; ++j) grads.rows.push_back({"∂L/∂b" + idx(j), "∂L/∂z" + idx(j), num(w.db1(j))});
    out.push_back(grads);
    return out;
}

// The givens, one line each.
std::vector<std::string> givens(const Worksheet& w) {
    const std::size_t I = w.spec.inputs, H = w.spec.hidden;
    std::vector<std::string> lines;
    std::string x = "input: ";
    for (std::size_t k = 0; k < I; ++k) x += (k ? ", " : "") + std::string("x") + idx(k) + " = " + num(w.x(k));
    lines.push_back(x + "; target: y = " + num(w.y));
    for (std::size_t j = 0; j < H; ++j) {
        std::string l = "hidden unit " + idx(j) + ": ";
        for (std::size_t k = 0; k < I; ++k) l += "w" + idx(j) + idx(k) + " = " + num(w.W1(j, k)) + ", ";
        lines.push_back(l + "b" + idx(j) + " = " + num(w.b1(j)));
    }
    std::string o = "output unit: ";
    for (std::size_t j = 0; j < H; ++j) o += "v" + idx(j) + " = " + num(w.W2(j)) + ", ";
    lines.push_back(o + "c = " + num(w.b2));
    return lines;
}

std::string title(const Worksheet& w, bool answers) {
    return std::string(answers ? "Answers: " : "") + "backprop by hand, a " + std::to_string(w.spec.inputs) + "-" +
           std::to_string(w.spec.hidden) + "-1 network, " + (w.spec.loss == "squared" ? "squared error" : "cross-entropy") +
           " (seed " + std::to_string(w.spec.seed) + ")";
}

const char* how =
    "Every unit is a sigmoid: σ(z) = 1 / (1 + e^-z), and σ'(z) = σ(z) (1 - σ(z)). Write 4 significant digits.";
const char* key_note =
    "Every value was computed by tapegrad's engine (examples/worksheet): the forward values are the tensors' values, "
    "the chain the gradients backward() left in a, z_o, h and z (retain_grad), each local derivative the gradient of "
    "its op run on its own. The test suite checks the gradients with finite differences (gradcheck).";

std::string escaped(const std::string& s) {
    std::string out;
    for (char c : s) out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
    return out;
}

}  // namespace

Spec parse_network(const std::string& network) {
    Spec spec;
    std::size_t sizes[3] = {0, 0, 0};
    std::size_t n = 0, at = 0;
    while (n < 3 && at <= network.size()) {
        const std::size_t dash = network.find('-', at);
        const std::string part = network.substr(at, dash == std::string::npos ? std::string::npos : dash - at);
        if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos || part.size() > 2) break;
        sizes[n++] = std::stoul(part);
        if (dash == std::string::npos) {
            at = network.size() + 1;
            break;
        }
        at = dash + 1;
    }
    if (n != 3 || at != network.size() + 1)
        throw std::invalid_argument("--network " + network + ": write it as INPUTS-HIDDEN-1, such as 2-2-1");
    if (sizes[2] != 1) throw std::invalid_argument("--network " + network + ": the output layer has one unit (the last number is 1)");
    if (sizes[0] < 1 || sizes[0] > 4 || sizes[1] < 1 || sizes[1] > 4)
        throw std::invalid_argument("--network " + network + ": inputs and hidden units from 1 to 4 (a worksheet is done by hand)");
    spec.inputs = sizes[0];
    spec.hidden = sizes[1];
    return spec;
}

Tensor loss_of(const Worksheet& w, const std::vector<Tensor>& p) {
    const Tensor x(Array(xt::reshape_view(w.x, {std::size_t(1), w.spec.inputs})));
    const Tensor y = Tensor::from({w.y}, {1, 1});
    const Tensor a = sigmoid(linear(sigmoid(linear(x, p[0], p[1])), p[2], p[3]));
    return w.spec.loss == "squared" ? squared_loss(a, y) : log_loss(a, y);
}

Worksheet make(const Spec& spec) {
    if (spec.loss != "squared" && spec.loss != "cross_entropy")
        throw std::invalid_argument("--loss " + spec.loss + ": choose squared or cross_entropy");
    const std::size_t I = spec.inputs, H = spec.hidden;
    Worksheet w;
    w.spec = spec;
    std::mt19937_64 rng(spec.seed);
    w.x = xt::zeros<float>({I});
    for (float& v : w.x) v = drawn(rng, 4, 2.0f);
    w.y = static_cast<float>(std::uniform_int_distribution<int>(0, 1)(rng));
    w.W1 = xt::zeros<float>({H, I});
    for (float& v : w.W1) v = drawn(rng, 10, 10.0f);
    w.b1 = xt::zeros<float>({H});
    for (float& v : w.b1) v = drawn(rng, 10, 10.0f);
    w.W2 = xt::zeros<float>({H});
    for (float& v : w.W2) v = drawn(rng, 10, 10.0f);
    w.b2 = drawn(rng, 10, 10.0f);

    // The forward pass and one backward(), keeping the gradients of the values between.
    Tensor W1(w.W1, true), b1(w.b1, true), b2 = Tensor::from({w.b2}, {1}, true);
    Tensor W2(Array(xt::reshape_view(w.W2, {std::size_t(1), H})), true);
    const Tensor x(Array(xt::reshape_view(w.x, {std::size_t(1), I})));
    const Tensor y = Tensor::from({w.y}, {1, 1});
    Tensor z1 = linear(x, W1, b1), h = sigmoid(z1), z2 = linear(h, W2, b2), a = sigmoid(z2);
    for (const Tensor* t : {&z1, &h, &z2, &a}) t->retain_grad();
    Tensor L = spec.loss == "squared" ? squared_loss(a, y) : log_loss(a, y);
    L.backward();
    w.z1 = row(z1);
    w.h = row(h);
    w.z2 = first(z2);
    w.a = first(a);
    w.L = L.item();
    w.dL_da = first(Tensor(a.grad()));
    w.dL_dz2 = first(Tensor(z2.grad()));
    w.dL_dh = row(Tensor(h.grad()));
    w.dL_dz1 = row(Tensor(z1.grad()));
    w.dW1 = W1.grad();
    w.db1 = b1.grad();
    w.dW2 = row(Tensor(W2.grad()));
    w.db2 = b2.grad()(0);

    // Each sigmoid's local derivative, from a backward() of that op alone.
    Tensor zo(z2.value(), true);
    sigmoid(zo).backward();
    w.da_dz2 = first(Tensor(zo.grad()));
    Tensor zh(z1.value(), true);
    sum(sigmoid(zh)).backward();
    w.dh_dz1 = row(Tensor(zh.grad()));
    return w;
}

std::string markdown(const Worksheet& w, bool answers) {
    std::string out = "# " + title(w, answers) + "\n\n";
    out += "A network with " + std::to_string(w.spec.inputs) + " inputs, " + std::to_string(w.spec.hidden) +
           " hidden units and one output. " + how + "\n\n";
    for (const std::string& line : givens(w)) out += "- " + line + "\n";
    out += "\nThe loss: " + std::string(w.spec.loss == "squared" ? "L = (a - y)²" : "L = -(y ln a + (1 - y) ln(1 - a))") +
           ".\n";
    for (const Section& s : sections(w)) {
        out += "\n## " + s.title + "\n\n" + s.intro + "\n\n| | formula | value |\n|---|---|---|\n";
        for (const Row& r : s.rows) out += "| " + r.quantity + " | " + r.formula + " | " + (answers ? r.value : "______") + " |\n";
    }
    if (answers) out += "\n" + std::string(key_note) + "\n";
    return out;
}

std::string html(const Worksheet& w, bool answers) {
    std::string out = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escaped(title(w, answers)) +
                      "</title>\n<style>body{font:15px/1.5 system-ui,sans-serif;max-width:760px;margin:24px auto;padding:0 12px}"
                      "table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #bbb;padding:4px 10px;text-align:left}"
                      "td.value{min-width:110px;font-family:ui-monospace,monospace}"
                      "@media print{h2{page-break-after:avoid}}</style></head>\n<body>\n";
    out += "<h1>" + escaped(title(w, answers)) + "</h1>\n<p>A network with " + std::to_string(w.spec.inputs) + " inputs, " +
           std::to_string(w.spec.hidden) + " hidden units and one output. " + escaped(how) + "</p>\n<ul>\n";
    for (const std::string& line : givens(w)) out += "<li>" + escaped(line) + "</li>\n";
    out += "</ul>\n<p>The loss: " +
           escaped(w.spec.loss == "squared" ? "L = (a - y)²" : "L = -(y ln a + (1 - y) ln(1 - a))") + ".</p>\n";
    for (const Section& s : sections(w)) {
        out += "<h2>" + escaped(s.title) + "</h2>\n<p>" + escaped(s.intro) +
               "</p>\n<table><tr><th></th><th>formula</th><th>value</th></tr>\n";
        for (const Row& r : s.rows)
            out += "<tr><td>" + escaped(r.quantity) + "</td><td>" + escaped(r.formula) + "</td><td class=\"value\">" +
                   (answers ? escaped(r.value) : "") + "</td></tr>\n";
        out += "</table>\n";
    }
    if (answers) out += "<p>" + escaped(key_note) + "</p>\n";
    return out + "</body></html>\n";
}

}  // namespace worksheet
