// One neuron, every number: a forward and a backward pass you can check with a calculator.
//
//   z = w1*x1 + w2*x2 + b      a = sigmoid(z)      L = (a - t)^2   (the registry's "squared")
//
// The program builds the neuron from the library's ops, lets a TapeRecorder keep what backward()
// does, and prints each record of the tape twice: going forward (the value it computed) and
// going backward (the local derivative, and the gradient it passed on). Every number printed is
// read from the tape or the tensors; the formulas beside them are there so you can redo the
// arithmetic.
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>

#include <tapegrad/tapegrad.hpp>

using namespace tapegrad;

namespace {

float num(const Array& a) { return a.size() == 1 ? a.data()[0] : 0.0f; }

// 4 significant digits, negative numbers in parentheses: "0.4 * (-2)".
std::string str(float v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, v < 0 ? "(%.4g)" : "%.4g", v);
    return buffer;
}

// "{0} * {1}" with {0}, {1} the inputs, {y} the output and {t} the target, as names or numbers.
std::string fill(std::string text, const TracedRecord& r, bool numbers, float target) {
    auto show = [&](const TracedTensor& v) { return numbers ? str(num(v.value)) : v.label; };
    std::map<std::string, std::string> values{{"{y}", show(r.output)}};
    values["{t}"] = numbers ? str(target) : "t";
    for (std::size_t k = 0; k < r.inputs.size(); ++k)
        values["{" + std::to_string(k) + "}"] = show(r.inputs[k]);
    for (const auto& [key, value] : values)
        for (std::size_t at; (at = text.find(key)) != std::string::npos;)
            text.replace(at, key.size(), value);
    return text;
}

// What each op computes and its local derivative with respect to each input (ops/*.hpp).
struct Formula {
    std::string forward;
    std::vector<std::string> local;  // d output / d input k
};
const std::map<std::string, Formula> formulas{
    {"mul", {"{0} * {1}", {"{1}", "{0}"}}},
    {"add", {"{0} + {1}", {"1", "1"}}},
    {"sigmoid", {"1 / (1 + e^-{0})", {"{y} (1 - {y})"}}},
    {"squared", {"({0} - {t})^2", {"2 ({0} - {t})"}}},
};

}  // namespace

int main() {
    Tensor x1(Array{1.5f}), x2(Array{-2.0f});                     // the input: no gradient
    Tensor w1(Array{0.8f}, true), w2(Array{0.4f}, true), b(Array{-0.2f}, true);
    Tensor t(Array{1.0f});                                        // the target
    const float target = t.item();
    std::cout << std::setprecision(4);

    TapeRecorder recorder;                                        // keeps what backward() does
    for (auto [tensor, name] : {std::pair{x1, "x1"}, {x2, "x2"}, {w1, "w1"}, {w2, "w2"}, {b, "b"}})
        recorder.name(tensor, name);

    Tensor p1 = w1 * x1;
    Tensor p2 = w2 * x2;
    Tensor s = p1 + p2;
    Tensor z = s + b;
    Tensor a = sigmoid(z);
    Tensor loss = nn::LossRegistry::instance().get("squared")(a, t);  // mean of one (a - t)^2
    for (auto [tensor, name] : {std::pair{p1, "p1"}, {p2, "p2"}, {s, "s"}, {z, "z"}, {a, "a"},
                                {loss, "L"}})
        recorder.name(tensor, name);

    std::cout << "The tape after the forward pass (print_tape()):\n";
    print_tape();

    std::cout << "\nForward: each record computes its output from its inputs\n";
    for (const TracedRecord& r : snapshot(Tape::current())) {
        const Formula& f = formulas.at(r.op);
        std::cout << "  #" << r.index << "  " << r.output.label << " = "
                  << fill(f.forward, r, false, target) << " = " << fill(f.forward, r, true, target)
                  << " = " << num(r.output.value) << "\n";
    }

    loss.backward();

    std::cout << "\nBackward: from the end, each record multiplies the gradient of its output,\n"
                 "dy, by its local derivatives and adds the result to its inputs' gradients\n";
    const std::vector<TracedRecord> records = recorder.last_sweep();
    for (auto r = records.rbegin(); r != records.rend(); ++r) {
        const Formula& f = formulas.at(r->op);
        const float dy = num(r->output.grad);
        std::cout << "  #" << r->index << "  " << r->output.label << " = "
                  << fill(f.forward, *r, false, target) << "    dy = dL/d" << r->output.label
                  << " = " << dy << "\n";
        for (std::size_t k = 0; k < r->inputs.size(); ++k) {
            const TracedTensor& in = r->inputs[k];
            const std::string local = fill(f.local[k], *r, false, target);
            if (!in.requires_grad) {
                std::cout << "        " << in.label << " needs no gradient (it is data)\n";
                continue;
            }
            const float dx = num(r->dx[k]);  // what the record's closure added
            const std::string numbers = fill(f.local[k], *r, true, target);
            std::cout << "        d" << r->output.label << "/d" << in.label << " = " << local;
            if (numbers != local) {  // not a constant: show the numbers that go in
                if (f.local[k].size() > 3) std::cout << " = " << numbers;
                std::cout << " = " << dx / dy;
            }
            std::cout << "    dL/d" << in.label << " += dy * " << str(dx / dy) << " = " << dx
                      << "\n";
        }
    }

    std::cout << "\nThe gradients of the parameters, read from the tensors:\n"
              << "  dL/dw1 = " << w1.grad()(0) << "   dL/dw2 = " << w2.grad()(0)
              << "   dL/db = " << b.grad()(0) << "\n"
              << "Check with the chain rule in one line:\n"
              << "  dL/dw1 = 2 (a - t) * a (1 - a) * x1 = 2 (" << a.item() << " - " << target
              << ") * " << a.item() << " (1 - " << a.item() << ") * " << x1.item() << " = "
              << 2.0f * (a.item() - target) * a.item() * (1.0f - a.item()) * x1.item() << "\n";

    std::cout << "\nThe tape after backward (print_tape()): the records are released, the\n"
                 "recorder kept their summary with each gradient's norm\n";
    print_tape();
}
