#include "tensor.hpp"

#include <algorithm>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "../backend/node_cache.hpp"
#include "sweep.hpp"
#include "tape.hpp"

namespace tapegrad {

std::shared_ptr<Node> make_node(Array&& value, bool requires_grad, std::uint64_t record) {
    return std::allocate_shared<Node>(detail::NodeAllocator<Node>(), std::move(value),
                                      requires_grad, record);
}

Tensor::Tensor(Array&& value, bool requires_grad)
    : node_(make_node(std::move(value), requires_grad)) {}
Tensor::Tensor(const Array& value, bool requires_grad) : Tensor(Array(value), requires_grad) {}

void Tensor::throw_empty() {
    throw std::logic_error("tensor: this Tensor is empty (default-constructed); give it a value "
                           "first");
}

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

void Tensor::set_grad(Array g) const {
    Node& node = checked();
    if (!std::equal(g.shape().begin(), g.shape().end(), node.value.shape().begin(),
                    node.value.shape().end()))
        throw std::invalid_argument("set_grad: the gradient has shape " + shape_str(g.shape()) +
                                    ", but the tensor has shape " + shape_str(node.value.shape()));
    node.grad.emplace(std::move(g));
}


void Tensor::set_requires_grad(bool requires_grad) const {
    if (!is_leaf())
        throw std::logic_error("set_requires_grad: only a leaf tensor (a parameter or an input) "
                               "can change whether it requires a gradient; this one is the "
                               "output of an op");
    node_->requires_grad = requires_grad;
}

bool Tensor::is_leaf() const { return checked().is_leaf(); }

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

void Tensor::backward() const { backward(GradOptions{}); }

namespace {

// Checks that `output` can be the root of a backward() or grad() seeded by `dy` (null: none).
void check_seed(const Tensor& output, const Array* dy, const char* who) {
    if (!output.requires_grad())
        throw std::logic_error(std::string(who) +
                               ": this tensor does not require a gradient: no input of the ops "
                               "that made it requires one (or they ran under NoGrad)");
    if (dy && dy->shape() != output.value().shape())
        throw std::invalid_argument(std::string(who) + ": the seed gradient has shape " +
                                    shape_str(dy->shape()) + " but the tensor has shape " +
                                    shape_str(output.shape()));
}

// The seed of a backward() or grad() of `output`: options.grad_output, else 1.
Array seed_of(const Tensor& output, const GradOptions& options, const char* who) {
    check_seed(output, options.grad_output.defined() ? &options.grad_output.value() : nullptr, who);
    if (!options.grad_output.defined()) {
        if (output.size() != 1)
            throw std::invalid_argument(
                std::string(who) + ": the tensor must hold one element (a scalar loss), but its "
                "shape is " + shape_str(output.shape()) +
                "; reduce it with sum() or mean(), or give the seed gradient (grad_output)");
        return xt::ones<float>(output.value().shape());
    }
    return options.grad_output.value();
}

}  // namespace

// The seed goes to the sweep as it is (an rvalue) or copied once.
void Tensor::backward(const Array& dy) const { backward(Array(dy)); }

void Tensor::backward(Array&& dy) const {
    checked();
    check_seed(*this, &dy, "backward");
    Sweep(Tape::current(), node_, GradOptions{}, {}).run(std::move(dy));
}

void Tensor::backward(const GradOptions& options) const {
    checked();
    Sweep(Tape::current(), node_, options, {}).run(seed_of(*this, options, "backward"));
}

std::vector<Tensor> grad(const Tensor& output, const std::vector<Tensor>& inputs,
                         const GradOptions& options) {
    if (!output.defined()) throw std::invalid_argument("grad: the output is an empty Tensor");
    std::vector<const Node*> captured;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        if (!inputs[k].defined())
            throw std::invalid_argument("grad: input " + std::to_string(k) +
                                        " is an empty Tensor");
        if (!inputs[k].requires_grad())
            throw std::invalid_argument("grad: input " + std::to_string(k) +
                                        " does not require a gradient");
        captured.push_back(inputs[k].node().get());
    }
    Array seed = seed_of(output, options, "grad");
    auto found = Sweep(Tape::current(), output.node(), options, captured).run(std::move(seed));
    std::vector<Tensor> out(inputs.size());
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        if (found[k]) out[k] = Tensor(std::move(found[k]));
        else if (!options.allow_unused)
            throw std::invalid_argument(
                "grad: input " + std::to_string(k) + " (shape " + shape_str(inputs[k].shape()) +
                ") is not used to compute the output, so it has no gradient; pass allow_unused "
                "to get an undefined Tensor for it");
    }
    return out;
}

void Tensor::register_hook(std::function<Tensor(const Tensor& dy)> hook) const {
    Node& node = checked();
    if (!node.requires_grad)
        throw std::logic_error("register_hook: this tensor does not require a gradient, so no "
                               "gradient will ever arrive at it");
    node.more().hooks.push_back([hook = std::move(hook)](const std::shared_ptr<Node>& dy) {
        return hook(Tensor(dy)).node();  // null when the hook returned an undefined Tensor
    });
}

void Tensor::retain_grad() const {
    Node& node = checked();
    if (!node.requires_grad)
        throw std::logic_error("retain_grad: this tensor does not require a gradient");
    if (!node.is_leaf()) node.retains_grad = true;
}

void Tensor::zero_grad() const {
    Node& node = checked();
    if (node.grad) node.grad->fill(0.0f);
}

void Tensor::clear_grad() const { checked().grad.reset(); }

Tensor Tensor::detach() const { return Tensor(value()); }

Tensor Tensor::from(const std::vector<float>& values, const Shape& shape, bool requires_grad) {
    std::size_t count = 1;
    for (std::size_t d : shape) count *= d;
    if (count != values.size())
        throw std::invalid_argument("Tensor::from: " + std::to_string(values.size()) +
                                    " values cannot fill shape " + shape_str(shape) + " (" +
                                    std::to_string(count) + " elements)");
    Array a = Array::from_shape(shape);
    std::copy(values.begin(), values.end(), a.begin());
    return Tensor(std::move(a), requires_grad);
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) {
    if (!t.defined()) return out << "tensor(undefined)";
    const Array& a = t.value();
    const Shape shape = t.shape();
    // Values row by row as nested brackets; past 6 along an axis, the first and last 3.
    std::function<void(std::size_t, std::size_t)> print = [&](std::size_t axis, std::size_t at) {
        if (axis == shape.size()) {
            out << a.data()[at];
            return;
        }
        std::size_t stride = 1;
        for (std::size_t d = axis + 1; d < shape.size(); ++d) stride *= shape[d];
        out << '[';
        for (std::size_t i = 0; i < shape[axis]; ++i) {
            if (shape[axis] > 6 && i == 3) {
                out << ", ...";
                i = shape[axis] - 3;
            }
            if (i > 0) out << ", ";
            print(axis + 1, at + i * stride);
        }
        out << ']';
    };
    out << "tensor(";
    print(0, 0);
    out << ", shape " << shape_str(shape);
    if (t.requires_grad()) out << ", requires_grad";
    return out << ')';
}

}  // namespace tapegrad
