// A Tensor is a handle to a value (an xtensor array of floats) and, once backward() has reached
// it, the gradient of the final scalar with respect to that value. Copies of a handle share the
// same value and gradient, as Python names share one object.
//
// Gradients are always added, never assigned: a tensor used twice receives both contributions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../backend/array.hpp"      // Array, Shape, shape_str
#include "../backend/grad_slot.hpp"  // GradSlot: a node's gradient, made on first use

namespace tapegrad {

class Tape;
struct Node;

// The rarely needed part of a Node.
struct NodeExtras {
    // register_hook: each may replace the complete gradient before it is used (null: keep it).
    std::vector<std::function<std::shared_ptr<Node>(const std::shared_ptr<Node>& dy)>> hooks;
};

// The shared state behind a handle: the value, and the two gradients a node can hold.
struct Node {
    // `record` of a leaf (a parameter, an input), and of an op output whose record a sweep has
    // released (used and dropped).
    static constexpr std::uint64_t leaf = 0;
    static constexpr std::uint64_t released = UINT64_MAX;

    Node(Array&& value_, bool requires_grad_, std::uint64_t record_ = leaf)
        : value(std::move(value_)), requires_grad(requires_grad_), record(record_) {}

    bool has_grad() const { return grad.has_value(); }
    bool is_leaf() const { return record == leaf; }

    Array value;
    // The gradient the user reads: a leaf's, summed over every backward(), and an op output's
    // when retain_grad() asked for it. Made on first use, outside the node.
    detail::GradSlot<Array> grad;
    // The gradient arriving at this node during the backward() that reached it last (`sweep`),
    // as a tensor: summed there, passed on to the inputs when its record runs (an op output) or
    // added to grad() when the whole sweep has succeeded (a leaf). Empty between sweeps. With
    // create_graph it is a recorded tensor, differentiable again.
    std::shared_ptr<Node> arriving;
    bool requires_grad = false;
    bool retains_grad = false;
    std::uint64_t record = leaf;  // the sequence number of the tape record that produced it
    const Tape* tape = nullptr;   // the tape holding that record; null for a leaf
    std::uint64_t sweep = 0;      // the backward() that last sent it a gradient (core/sweep.hpp)
    // What few nodes need, made on first use (a scalar op makes and frees a node each).
    std::unique_ptr<NodeExtras> extras;
    NodeExtras& more();
    bool has_hooks() const;
};

inline NodeExtras& Node::more() {
    if (!extras) extras = std::make_unique<NodeExtras>();
    return *extras;
}
inline bool Node::has_hooks() const { return extras && !extras->hooks.empty(); }

// Makes a Node, from a per-thread cache of freed node blocks (backend/node_cache.hpp). The
// value goes by rvalue reference all the way from the op into the node: each move of an xarray
// costs a few hundred instructions.
std::shared_ptr<Node> make_node(Array&& value, bool requires_grad, std::uint64_t record = Node::leaf);

struct GradOptions;  // below
class Tensor;

// "tensor([[1, 2], [3, 4]], shape [2, 2], requires_grad)": the values (abbreviated when large),
// the shape, and whether it requires a gradient.
std::ostream& operator<<(std::ostream& out, const Tensor& t);

class Tensor {
  public:
    Tensor() = default;  // empty: defined() is false
    explicit Tensor(Array&& value, bool requires_grad = false);
    explicit Tensor(const Array& value, bool requires_grad = false);

    bool defined() const { return node_ != nullptr; }
    const Array& value() const { return checked().value; }
    // For optimizers and initialisers: writes in place, never through the tape.
    Array& mutable_value() const;

    // The gradient, same shape as value(), once backward() has reached this tensor; before that
    // an empty array (check has_grad()).
    const Array& grad() const;
    bool has_grad() const;
    Array& mutable_grad() const;
    // Sets the gradient (torch's p.grad = g): `g` must have this tensor's shape.
    void set_grad(Array g) const;

    bool requires_grad() const;
    // Only for leaves: turning gradients on for the output of an op would not record the op.
    void set_requires_grad(bool requires_grad) const;
    bool is_leaf() const;

    Shape shape() const;
    std::size_t dim() const;
    std::size_t size() const;
    float item() const;  // the value of a one-element tensor

    // Seeds this tensor's gradient with 1 (it must hold one element) and replays, in reverse,
    // the records this tensor depends on (core/tape.hpp says exactly what happens). The variant
    // with `dy` seeds any shape, as torch's backward(gradient) (handed over as an rvalue, dy is
    // not copied); the one with options can keep the graph for another backward (GradOptions
    // below).
    void backward() const;
    void backward(const Array& dy) const;
    void backward(Array&& dy) const;
    void backward(const GradOptions& options) const;

    // Calls hook(dy) with the complete gradient arriving at this tensor in every backward(),
    // before it is used; a defined return value replaces it (same shape), an undefined Tensor()
    // keeps it. Hooks run in the order they were registered.
    void register_hook(std::function<Tensor(const Tensor& dy)> hook) const;
    // The output of an op keeps its gradient in grad() after backward(), as a leaf does (summed
    // over backward() calls). Without it grad() of an op's output stays empty: the gradient is
    // passed on to the op's inputs and freed. A no-op on a leaf.
    void retain_grad() const;

    // Sets the gradient to zeros, keeping its memory for the next step.
    void zero_grad() const;
    // Drops the gradient: has_grad() is false until the next backward(), which then takes its
    // gradient over rather than adding it to zeros (torch's zero_grad(set_to_none=True)).
    void clear_grad() const;

    // Adds `dx` to the gradient. `dx` must have this tensor's shape: ops whose inputs were
    // broadcast reduce their gradient first (see unbroadcast in core/tape.hpp).
    void accumulate_grad(Array dx) const;

    // The same value, cut from the graph: a new leaf holding a copy, which requires no gradient
    // (what a GAN's discriminator step trains on).
    Tensor detach() const;

    // A tensor of `shape` from values in C (row-major) order; their count must match the shape.
    static Tensor from(const std::vector<float>& values, const Shape& shape,
                       bool requires_grad = false);

    // For the tape: the shared node and its identity.
    const std::shared_ptr<Node>& node() const { return node_; }
    explicit Tensor(std::shared_ptr<Node> node) : node_(std::move(node)) {}

  private:
    Node& checked() const {  // inline: every op and every gradient goes through it
        if (!node_) throw_empty();
        return *node_;
    }
    [[noreturn]] static void throw_empty();
    std::shared_ptr<Node> node_;
};

inline bool Tensor::requires_grad() const { return checked().requires_grad; }

// What backward() and grad() (core/tape.hpp) may be asked, as torch.autograd's arguments.
struct GradOptions {
    // Keep the records after the sweep, so that another backward() can go through them again.
    bool retain_graph = false;
    // Record the sweep itself, so that the gradients can be differentiated again.
    bool create_graph = false;
    // grad(): an input the output does not depend on gets an undefined Tensor, not an error.
    bool allow_unused = false;
    // The seed: the gradient of the output. Undefined: 1 (the output must hold one element).
    Tensor grad_output{};
};

}  // namespace tapegrad
