// Layers: thin modules over the ops, named after the textbook.
//
//   Linear(in, out, bias)       x [N, in] -> [N, out]           y = x · wT + b   (ops/matmul.hpp)
//                               weight [out, in], bias [out]
//   Conv2D(in_ch, out_ch, k, stride, padding, bias)              (ops/conv.hpp)
//                               x [N, in_ch, H, W] -> [N, out_ch, Hout, Wout]
//                               weight [out_ch, in_ch, k, k], bias [out_ch]
//   MaxPool2D(k, stride)        x [N, C, H, W] -> [N, C, Hout, Wout]   (ops/pool.hpp)
//   Flatten()                   [N, d1, d2, ...] -> [N, d1*d2*...]     (ops/shape.hpp)
//   ReLU(), Sigmoid(), Tanh(), Softmax(axis)     any shape, elementwise or along axis
//   Sequential{m0, m1, ...}     calls its children in order; they are named "0", "1", ...
//
// Linear and Conv2D start as PyTorch's do: weight ~ U(-b, b) (Kaiming-uniform with a = sqrt(5))
// and bias ~ U(-b, b), b = 1/sqrt(fan_in), fan_in = in or in_ch*k*k, drawn at construction from
// the generator of nn/init.hpp (weight first, then bias).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>

#include "module.hpp"

namespace tapegrad::nn {

class Linear : public Module {
  public:
    Linear(std::size_t in, std::size_t out, bool bias = true);
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "Linear"; }
    std::string extra_repr() const override;

    std::size_t in_features() const { return in_; }
    std::size_t out_features() const { return out_; }

    Tensor weight;  // [out, in]
    Tensor bias;    // [out]; empty (defined() is false) when built without bias

  private:
    std::size_t in_, out_;
};

class Conv2D : public Module {
  public:
    Conv2D(std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
           std::size_t stride = 1, std::size_t padding = 0, bool bias = true);
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "Conv2D"; }
    std::string extra_repr() const override;

    Tensor weight;  // [out_channels, in_channels, kernel, kernel]
    Tensor bias;    // [out_channels]; empty when built without bias

  private:
    std::size_t in_, out_, kernel_, stride_, padding_;
};

class MaxPool2D : public Module {
  public:
    explicit MaxPool2D(std::size_t kernel) : MaxPool2D(kernel, kernel) {}  // stride = kernel
    MaxPool2D(std::size_t kernel, std::size_t stride);
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "MaxPool2D"; }
    std::string extra_repr() const override;

  private:
    std::size_t kernel_, stride_;
};

class Flatten : public Module {
  public:
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "Flatten"; }
};

class ReLU : public Module {
  public:
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "ReLU"; }
};

class Sigmoid : public Module {
  public:
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "Sigmoid"; }
};

class Tanh : public Module {
  public:
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "Tanh"; }
};

class Softmax : public Module {
  public:
    explicit Softmax(int axis = -1) : axis_(axis) {}
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "Softmax"; }
    std::string extra_repr() const override;

  private:
    int axis_;
};

// A chain of modules, built from its layers and grown with push_back:
//   auto model = std::make_shared<nn::Sequential>(
//       std::make_shared<nn::Linear>(784, 100), std::make_shared<nn::ReLU>(),
//       std::make_shared<nn::Linear>(100, 10));
//   nn::Sequential local{std::make_shared<nn::Linear>(4, 2), std::make_shared<nn::Tanh>()};
// An error inside a child names the child: "Sequential: layer 2 (Linear): linear: ...".
class Sequential : public Module {
  public:
    Sequential() = default;
    Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
    template <class... Ms>
    explicit Sequential(std::shared_ptr<Ms>... modules) {
        (push_back(std::move(modules)), ...);
    }

    void push_back(std::shared_ptr<Module> module);
    std::size_t size() const { return named_children().size(); }
    // The i-th child; at<M>(i) also casts it to its layer type (throws if it is another type).
    std::shared_ptr<Module> operator[](std::size_t i) const;
    template <class M>
    std::shared_ptr<M> at(std::size_t i) const {
        auto m = std::dynamic_pointer_cast<M>((*this)[i]);
        if (!m) throw_wrong_type(i);
        return m;
    }

    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "Sequential"; }

  private:
    [[noreturn]] void throw_wrong_type(std::size_t i) const;
};

}  // namespace tapegrad::nn
