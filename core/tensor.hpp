// A Tensor is a handle to a value (an xtensor array of floats) and, once backward() has reached
// it, the gradient of the final scalar with respect to that value. Copies of a handle share the
// same value and gradient, as Python names share one object.
//
// Gradients are always added, never assigned: a tensor used twice receives both contributions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xarray.hpp>

namespace tapegrad {

using Array = xt::xarray<float>;
using Shape = std::vector<std::size_t>;

// "[64, 784]": how every error message and the tape print a shape.
std::string shape_str(const Shape& shape);
template <class S>
std::string shape_str(const S& shape) {
    return shape_str(Shape(shape.begin(), shape.end()));
}

// The shared state behind a handle. `creator` is the sequence number of the tape record that
// produced this value (0 for a leaf such as a parameter or an input).
struct Node {
    Node(Array&& value_, bool requires_grad_, std::uint64_t creator_ = 0)
        : value(std::move(value_)), requires_grad(requires_grad_), creator(creator_) {}

    bool has_grad() const { return grad.has_value(); }

    Array value;
    // Empty until the first gradient arrives: most outputs of a forward pass without backward()
    // never get one, and an xarray, even an empty one, costs hundreds of instructions to build.
    std::optional<Array> grad;
    bool requires_grad = false;
    std::uint64_t creator = 0;
};

// Makes a Node, from a per-thread cache of freed node blocks (core/runtime/node_cache.hpp). The
// value goes by rvalue reference all the way from the op into the node: each move of an xarray
// costs a few hundred instructions.
std::shared_ptr<Node> make_node(Array&& value, bool requires_grad, std::uint64_t creator = 0);

class Tensor {
  public:
    Tensor();  // empty: defined() is false
    explicit Tensor(Array value, bool requires_grad = false);

    bool defined() const { return node_ != nullptr; }
    const Array& value() const;
    // For optimizers and initialisers: writes in place, never through the tape.
    Array& mutable_value() const;

    // The gradient, same shape as value(), once backward() has reached this tensor; before that
    // an empty array (check has_grad()).
    const Array& grad() const;
    bool has_grad() const;
    Array& mutable_grad() const;

    bool requires_grad() const;
    // Only for leaves: turning gradients on for the output of an op would not record the op.
    void set_requires_grad(bool requires_grad) const;
    bool is_leaf() const;

    Shape shape() const;
    std::size_t dim() const;
    std::size_t size() const;
    float item() const;  // the value of a one-element tensor

    // Seeds this tensor's gradient with 1 (it must hold one element) and replays the tape in
    // reverse. The variant with `dy` seeds any shape, as torch's backward(gradient).
    void backward() const;
    void backward(const Array& dy) const;

    // Sets the gradient to zeros, keeping its memory for the next step.
    void zero_grad() const;

    // Adds `dx` to the gradient. `dx` must have this tensor's shape: ops whose inputs were
    // broadcast reduce their gradient first (see unbroadcast in core/tape.hpp).
    void accumulate_grad(Array dx) const;

    // For the tape: the shared node and its identity.
    const std::shared_ptr<Node>& node() const { return node_; }
    explicit Tensor(std::shared_ptr<Node> node) : node_(std::move(node)) {}

  private:
    Node& checked() const;
    std::shared_ptr<Node> node_;
};

}  // namespace tapegrad
