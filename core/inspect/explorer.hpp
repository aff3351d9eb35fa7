// Backprop you can step through: one HTML page of a real tape, forward then backward.
//
//     TapeRecorder names;                     // optional: names read better than leaf1, #3
//     names.name(w, "w");
//     Tensor loss = squared_loss(sigmoid(w * x + b), y);
//     ExplorerOptions options;
//     options.title = "One sigmoid neuron, squared error";
//     options.check_gradients = [&] { return squared_loss(sigmoid(w * x + b), y); };
//     write_explorer(loss, "neuron.html", options);     // runs loss.backward()
//
// The page draws the records `root` depends on as a graph, in tape order. The arrow keys (or the
// buttons) step the forward pass one record at a time, showing each output's value, then the
// backward sweep from the last record to the first: the record's op and its derivative (the row
// of docs/ops.md), the gradient arriving at its output (dy), what it adds to each input (dx) and,
// where a tensor is used more than once, its gradient so far growing by each contribution: the
// sum the tape must make. Beside each leaf that requires a gradient, its gradient so far, and
// once the sweep is over, central finite differences of the loss computed here in C++ when
// ExplorerOptions::check_gradients is set.
//
// Tensors of up to table_up_to elements show every number; up to heatmap_up_to, a heat map
// (hover for a number); larger ones a histogram. All show shape, min, max and norm. The page is
// one file with its own script and style, no network: it opens from file:// anywhere.
//
// write_explorer runs root.backward() (under a TapeRecorder of its own, which takes the names
// of any recorder it nests in): the leaves receive their gradients as from any backward().
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "../tensor.hpp"

namespace tapegrad {

struct ExplorerOptions {
    std::string title;
    // When set: computes root again from the same leaves (the forward pass alone). Each leaf
    // that requires a gradient then shows, beside its gradient, (f(v + h) - f(v - h)) / 2h at
    // up to checks_per_leaf of its elements, evenly spread.
    std::function<Tensor()> check_gradients;
    std::size_t checks_per_leaf = 6;
    double check_step = 1e-3;  // h
    std::size_t table_up_to = 64;      // elements shown as numbers
    std::size_t heatmap_up_to = 4096;  // elements shown as a heat map; more: a histogram
    std::size_t histogram_bins = 24;
};

// A tensor as the page shows it: its numbers when it has at most heatmap_up_to elements, else a
// histogram of them; statistics always. kept is false where there is nothing to show (an input
// that needs no gradient has no dx).
struct TensorView {
    bool kept = false;
    Shape shape;
    std::size_t size = 0;
    double min = 0, max = 0, mean = 0, norm = 0;
    std::vector<float> values;             // every element, in row-major order, or empty
    std::vector<std::size_t> histogram;    // counts of histogram_bins equal bins over [min, max]
};

// One element of a leaf's gradient against central differences of the loss.
struct GradientCheck {
    std::size_t element = 0;  // row-major
    double gradient = 0;      // what backward() gave
    double estimate = 0;      // (f(v + h) - f(v - h)) / 2h
};

struct ExploredTensor {
    std::string label;        // the recorder's name, else leafN or #k (the output of record k)
    std::string kind;         // "parameter" (a leaf that requires a gradient), "data", "output"
    int record = -1;          // the record that produced it (a position in records), -1 a leaf
    TensorView value;
    TensorView grad;          // the gradient this sweep gave it (not kept: it received none)
    std::vector<GradientCheck> checks;
};

struct ExploredRecord {
    std::size_t index = 0;             // position on the tape
    std::string op;                    // as recorded ("mul", "sigmoid", ...)
    std::string family;                // docs/ops.md's row: "elementwise", "loss", ...
    std::string formula, derivative;   // ... its formula and derivative, "" when it has no row
    std::string legend;                // the row's letters here: "x = z, y = a" 
    std::vector<std::size_t> inputs;   // positions in tensors
    std::size_t output = 0;
    // Per input slot: what this record added to its gradient (dx), and the input's gradient
    // after the addition with the number of this contribution and how many the sweep makes.
    std::vector<TensorView> dx, sum;
    std::vector<std::size_t> contribution, contributions;
    std::vector<int> same_as;          // an earlier slot holding the same tensor (b * b), else -1
};

struct Exploration {
    std::string title;
    std::vector<ExploredTensor> tensors;
    std::vector<ExploredRecord> records;  // forward order; the sweep runs them last to first
    std::size_t root = 0;                 // position of root in tensors
    std::size_t table_up_to = 64;         // ExplorerOptions::table_up_to
};

// Runs root.backward() and gathers what the page shows. root has one element and a record on
// the calling thread's tape, not yet run backward.
Exploration explore(const Tensor& root, const ExplorerOptions& options = {});

// The page, self-contained.
std::string explorer_html(const Exploration& exploration);

// explore(), then the page written atomically to path.
void write_explorer(const Tensor& root, const std::string& path, const ExplorerOptions& options = {});

// docs/ops.md's row for a recorded op name ("mul" is the row of operator*): {y =, backward}, or
// two empty strings.
std::pair<std::string, std::string> op_table_row(const std::string& op);

}  // namespace tapegrad
