#include "layers.hpp"

#include <stdexcept>

#include "../ops/activation.hpp"
#include "../ops/conv.hpp"
#include "../ops/matmul.hpp"
#include "../ops/pool.hpp"
#include "../ops/shape.hpp"
#include "init.hpp"

namespace tapegrad::nn {

namespace {

const double kaiming_a = 2.2360679774997896964;  // sqrt(5), as PyTorch's reset_parameters

std::string yes_no(bool b) { return b ? "true" : "false"; }

// Weight first, then bias, as PyTorch draws them.
void reset(const Tensor& weight, const Tensor& bias) {
    init::kaiming_uniform_(weight, kaiming_a);
    if (bias.defined()) {
        const float bound = init::kaiming_uniform_bound(kaiming_a, init::fan_in(weight.shape()));
        init::uniform_(bias, -bound, bound);
    }
}

}  // namespace

Linear::Linear(std::size_t in, std::size_t out, bool bias) : in_(in), out_(out) {
    if (in == 0 || out == 0)
        throw std::invalid_argument("Linear: in and out must be at least 1, got in=" +
                                    std::to_string(in) + ", out=" + std::to_string(out));
    weight = register_parameter("weight", Array::from_shape({out, in}));
    if (bias) this->bias = register_parameter("bias", Array::from_shape({out}));
    reset(weight, this->bias);
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

std::string Linear::extra_repr() const {
    return "in=" + std::to_string(in_) + ", out=" + std::to_string(out_) +
           ", bias=" + yes_no(bias.defined());
}

Conv2D::Conv2D(std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
               std::size_t stride, std::size_t padding, bool bias)
    : in_(in_channels), out_(out_channels), kernel_(kernel), stride_(stride), padding_(padding) {
    if (in_channels == 0 || out_channels == 0 || kernel == 0 || stride == 0)
        throw std::invalid_argument(
            "Conv2D: in_channels, out_channels, kernel and stride must be at least 1, got in=" +
            std::to_string(in_channels) + ", out=" + std::to_string(out_channels) + ", kernel=" +
            std::to_string(kernel) + ", stride=" + std::to_string(stride));
    weight = register_parameter("weight",
                                Array::from_shape({out_channels, in_channels, kernel, kernel}));
    if (bias) this->bias = register_parameter("bias", Array::from_shape({out_channels}));
    reset(weight, this->bias);
}

Tensor Conv2D::forward(const Tensor& x) { return conv2d(x, weight, bias, stride_, padding_); }

std::string Conv2D::extra_repr() const {
    return "in=" + std::to_string(in_) + ", out=" + std::to_string(out_) +
           ", kernel=" + std::to_string(kernel_) + ", stride=" + std::to_string(stride_) +
           ", padding=" + std::to_string(padding_) + ", bias=" + yes_no(bias.defined());
}

MaxPool2D::MaxPool2D(std::size_t kernel, std::size_t stride) : kernel_(kernel), stride_(stride) {
    if (kernel == 0 || stride == 0)
        throw std::invalid_argument("MaxPool2D: kernel and stride must be at least 1, got " +
                                    extra_repr());
}

Tensor MaxPool2D::forward(const Tensor& x) { return max_pool2d(x, kernel_, stride_); }

std::string MaxPool2D::extra_repr() const {
    return "kernel=" + std::to_string(kernel_) + ", stride=" + std::to_string(stride_);
}

Tensor Flatten::forward(const Tensor& x) { return flatten(x); }
Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor Softmax::forward(const Tensor& x) { return softmax(x, axis_); }
std::string Softmax::extra_repr() const { return "axis=" + std::to_string(axis_); }

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
    for (const auto& m : modules) push_back(m);
}

void Sequential::push_back(std::shared_ptr<Module> module) {
    register_module(std::to_string(size()), std::move(module));
}

std::shared_ptr<Module> Sequential::operator[](std::size_t i) const {
    if (i >= size())
        throw std::out_of_range("Sequential: index " + std::to_string(i) + " is out of range; "
                                "it has " + std::to_string(size()) + " layers");
    return named_children()[i].second;
}

void Sequential::throw_wrong_type(std::size_t i) const {
    throw std::invalid_argument("Sequential: layer " + std::to_string(i) + " is a " +
                                (*this)[i]->type_name() + ", not the type asked for");
}

Tensor Sequential::forward(const Tensor& x) {
    Tensor y = x;
    for (std::size_t i = 0; i < size(); ++i) {
        Module& layer = *named_children()[i].second;
        try {
            y = layer(y);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument("Sequential: layer " + std::to_string(i) + " (" +
                                        layer.type_name() + "): " + e.what());
        }
    }
    return y;
}

}  // namespace tapegrad::nn
