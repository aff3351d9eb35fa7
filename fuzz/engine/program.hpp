// The engine fuzzer's programs: the input bytes choose a small program of tapegrad ops, which
// can be built again with one leaf value nudged (for finite differences).
//
// A program is two or three independent graphs. Each op the bytes choose joins one graph: it
// takes its operands from that graph's values (so a value is used more than once) or from fresh
// leaves of a shape that fits, with broadcasting, and its parameters (axes, sizes, strides) from
// the bytes, sometimes ones the op must refuse. Leaf values are (2k + 1) / 32: never zero, never
// an integer or a half, so no leaf sits on a kink of relu, abs, floor or round, nor within a
// finite-difference step of one.
//
// The bytes are read in an order the C++ standard fixes (never two reads among one call's
// arguments, whose order compilers choose), so an input makes the same program in every build:
// the fuzzer's (clang) and the test suite's replay (g++).
//
// Building reads the bytes in the same order every time, so a build with one leaf element
// nudged makes the same program: `Overrides` carries the nudge, and the values of the detached
// nodes of the first build (a detached value is a constant to backward, so the finite
// differences must hold it constant too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace fuzz {

// Reads choices from the input bytes; past the end every choice is 0.
class Choices {
  public:
    Choices(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    // A number in [0, count).
    std::size_t pick(std::size_t count) {
        if (count <= 1) return 0;
        return at_ < size_ ? data_[at_++] % count : 0;
    }
    bool coin() { return pick(2) == 1; }
    // (2k + 1) / 32 for k in [-48, 47]: in [-2.97, 2.97], never 0, an integer or a half.
    float value() { return (2.0f * (float(pick(96)) - 48.0f) + 1.0f) / 32.0f; }
    std::size_t position() const { return at_; }

  private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t at_ = 0;
};

// A leaf element nudged by `delta`, and the detached values to reuse.
struct Overrides {
    std::size_t leaf = 0, element = 0;
    double delta = 0.0;
    const std::vector<tapegrad::Array>* frozen = nullptr;
};

// In a value's dependencies: the value depends on the output of a zero_one_loss, whose
// backward throws.
constexpr std::size_t through_zero_one = SIZE_MAX;

struct Graph {
    std::vector<tapegrad::Tensor> leaves;  // those that require a gradient, in order made
    std::vector<std::size_t> leaf_ids;     // their numbers among all leaves of the program
    std::vector<tapegrad::Tensor> values;  // every value: leaves and op outputs
    // For each value, the leaf numbers it depends on through differentiable ops (PyTorch's
    // notion of an input being used): worked out from the operands the builder handed each op,
    // not from the engine's records, so that the engine can be checked against it.
    std::vector<std::set<std::size_t>> depends;
    std::vector<std::string> steps;        // what was built, for a report
    // The last value that requires a gradient, and its position in `values` (values.size() if
    // there is none).
    std::size_t root_index() const;
    tapegrad::Tensor root() const;
};

struct Program {
    std::vector<Graph> graphs;
    std::vector<tapegrad::Array> frozen;  // the detached values, in order made
    std::size_t leaf_count = 0;           // leaves made, with or without a gradient
    std::size_t ops_refused = 0;          // ops that threw on their arguments, as they must
    std::string describe() const;
};

// Builds the program the bytes describe (consuming from `choices`). With `overrides`, one leaf
// element is nudged and detached values are taken from it.
Program build(Choices& choices, const Overrides* overrides = nullptr);

}  // namespace fuzz
