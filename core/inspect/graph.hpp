// The recorded computation as a Graphviz graph: tensors and ops as nodes, data flowing left to
// right. Render it with `dot -Tpng graph.dot -o graph.png` (Debian: apt-get install graphviz).
//
//     TapeRecorder recorder;
//     Tensor loss = ...;  loss.backward();
//     std::ofstream("graph.dot") << to_dot(recorder.last_sweep());
//     // before backward: to_dot(snapshot(Tape::current()))
//
// Small graphs (up to DotOptions::detailed_up_to records) show each tensor as a box with its
// label, shape, value and gradient (the numbers when it has a few elements, else the gradient's
// norm) and each op as an oval. Larger graphs show ops only, with the shapes on the edges.
// Colours: blue leaves require a gradient (parameters), grey leaves do not (data, targets),
// yellow ovals are ops, the red box is the final output (the loss).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "trace.hpp"

namespace tapegrad {

struct DotOptions {
    std::size_t detailed_up_to = 50;  // records; more than this: shapes only
    std::size_t numbers_up_to = 6;    // elements of a tensor printed in full in a detailed graph
    std::string title;                // shown above the graph when not empty
};

// A DOT digraph of the records (forward order, as TapeRecorder and snapshot give them).
std::string to_dot(const std::vector<TracedRecord>& records, const DotOptions& options = {});

}  // namespace tapegrad
