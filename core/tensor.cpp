#include "tensor.hpp"

#include <sstream>
#include <stdexcept>

#include "tape.hpp"

namespace tapegrad {

std::string shape_str(const Shape& shape) {
    std::ostringstream out;
    out << '[';
    for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << ']';
    return out.str();
}

Tensor::Tensor() = default;

Tensor::Tensor(Array value, bool requires_grad)
    : node_(make_node(std::move(value), requires_grad)) {}

Node& Tensor::checked() const {
    if (!node_) throw std::logic_error("tensor: this Tensor is empty (default-constructed); "
                                       "give it a value first");
    return *node_;
}

const Array& Tensor::value() const { return checked().value; }
Array& Tensor::mutable_value() const { return checked().value; }

const Array& Tensor::grad() const {
    static const Array none = Array::from_shape({0});
    const Node& node = checked();
    return node.grad ? *node.grad : none;
}

bool Tensor::has_grad() const { return checked().has_grad(); }

Array& Tensor::mutable_grad() const {
    Node& node = checked();
    if (!node.grad) node.grad.emplace(xt::zeros<float>(node.value.shape()));
    return *node.grad;
}

bool Tensor::requires_grad() const { return checked().requires_grad; }

void Tensor::set_requires_grad(bool requires_grad) const {
    if (!is_leaf())
        throw std::logic_error("set_requires_grad: only a leaf tensor (a parameter or an input) "
                               "can change whether it requires a gradient; this one is the "
                               "output of an op");
    node_->requires_grad = requires_grad;
}

bool Tensor::is_leaf() const { return checked().creator == 0; }

Shape Tensor::shape() const {
    const auto& s = value().shape();
    return Shape(s.begin(), s.end());
}

std::size_t Tensor::dim() const { return value().dimension(); }
std::size_t Tensor::size() const { return value().size(); }

float Tensor::item() const {
    if (size() != 1)
        throw std::invalid_argument("item: the tensor must hold one element, but its shape is " +
                                    shape_str(shape()));
    return *value().begin();
}

void Tensor::backward() const {
    if (size() != 1)
        throw std::invalid_argument(
            "backward: the tensor must hold one element (a scalar loss), but its shape is " +
            shape_str(shape()) + "; reduce it with sum() or mean(), or pass backward(dy)");
    backward(xt::ones<float>(value().shape()));
}

void Tensor::backward(const Array& dy) const {
    const Node& node = checked();
    if (!node.requires_grad)
        throw std::logic_error("backward: this tensor does not require a gradient: no input of "
                               "the ops that made it requires one (or they ran under NoGrad)");
    if (dy.shape() != node.value.shape())
        throw std::invalid_argument("backward: the seed gradient has shape " +
                                    shape_str(dy.shape()) + " but the tensor has shape " +
                                    shape_str(node.value.shape()));
    accumulate_grad(dy);
    Tape::current().backward_from(node);
}

void Tensor::zero_grad() const {
    Node& node = checked();
    if (node.grad) node.grad->fill(0.0f);
}

void Tensor::accumulate_grad(Array dx) const {
    Node& node = checked();
    if (!node.requires_grad) return;
    if (dx.shape() != node.value.shape())
        throw std::logic_error("accumulate_grad: gradient of shape " + shape_str(dx.shape()) +
                               " for a tensor of shape " + shape_str(node.value.shape()) +
                               " (an op forgot to unbroadcast its gradient)");
    if (node.grad) *node.grad += dx;
    else node.grad.emplace(std::move(dx));
}

}  // namespace tapegrad
