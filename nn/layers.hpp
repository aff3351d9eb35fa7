// Layers: thin modules over the ops, named after the textbook.
//
// Every layer with settings beyond its required arguments takes them in an options struct with
// torch's names and defaults, as LibTorch's C++ frontend: Conv2D(in, out, k) or
// Conv2D(Conv2dOptions(in, out, k).stride(2).padding(1).bias(false)). No setting goes by position.
//
//   Linear(in, out)             x [..., in] -> [..., out]           y = x · wT + b   (ops/matmul.hpp)
//     LinearOptions: bias       weight [out, in], bias [out]
//   Conv2D(in_ch, out_ch, k)    x [N, in_ch, H, W] -> [N, out_ch, Hout, Wout]   (ops/conv.hpp)
//     Conv2dOptions: stride, padding, dilation, groups, bias
//                               weight [out_ch, in_ch / groups, k, k], bias [out_ch]
//   MaxPool2D(k), AvgPool2D(k)  x [N, C, H, W] -> [N, C, Hout, Wout]   (ops/pool.hpp)
//     MaxPool2dOptions, AvgPool2dOptions: stride (= k), padding
//   Flatten()                   [N, d1, d2, ...] -> [N, d1*d2*...]     (ops/shape.hpp)
//   ReLU(), Sigmoid(), Tanh(), Softmax(axis), LeakyReLU(slope), ELU(alpha), GELU(tanh?),
//   SiLU(), Softplus(), Identity()
//     LeakyReLUOptions: negative_slope; ELUOptions: alpha; GELUOptions: approximate;
//     SoftplusOptions: beta, threshold
//                               any shape, elementwise or along axis (ops/activation.hpp)
//   Dropout(p)                  in training: ops/norm.hpp's dropout; in evaluation: the identity
//     DropoutOptions: p
//   Embedding(num, dim)         indices of any shape -> that shape + [dim]; weight [num, dim]
//                               ~ N(0, 1), as torch.nn.Embedding
//   LayerNorm(shape)            over the last axes, which must equal shape; weight (ones)
//     LayerNormOptions: eps, elementwise_affine     and bias (zeros) of that shape when affine
//   BatchNorm1D(features)       x [N, features]
//   BatchNorm2D(channels)       x [N, channels, H, W]
//     BatchNormOptions: eps (1e-5), momentum (0.1)
//                               weight (ones), bias (zeros), and the buffers running_mean
//                               (zeros), running_var (ones) and num_batches_tracked, as torch;
//                               batch statistics in training (updating the running ones),
//                               running statistics after eval() (ops/norm.hpp)
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
#include <type_traits>
#include <utility>
#include <vector>

#include "../ops/options.hpp"  // TAPEGRAD_OPTION
#include "module.hpp"

namespace tapegrad::nn {

// The activations an option can name: an RNN's nonlinearity (tanh or relu) and a transformer's
// (relu or gelu), spelled as torch's nn::kTanh, nn::kReLU, nn::kGELU.
enum class Nonlinearity { tanh, relu };
enum class Activation { relu, gelu };
struct ReLUName {
    constexpr operator Nonlinearity() const { return Nonlinearity::relu; }  // NOLINT: both
    constexpr operator Activation() const { return Activation::relu; }      // NOLINT
};
inline constexpr ReLUName kReLU{};
inline constexpr Nonlinearity kTanh = Nonlinearity::tanh;
inline constexpr Activation kGELU = Activation::gelu;

// The layers' options (torch::nn::LinearOptions, Conv2dOptions, ...): the required arguments in
// the constructor, every other setting by name, with torch's defaults.
struct LinearOptions {
    LinearOptions(std::size_t in_features, std::size_t out_features)
        : in_features_(in_features), out_features_(out_features) {}
    TAPEGRAD_OPTION(std::size_t, in_features, 0)
    TAPEGRAD_OPTION(std::size_t, out_features, 0)
    TAPEGRAD_OPTION(bool, bias, true)
};

struct Conv2dOptions {
    Conv2dOptions(std::size_t in_channels, std::size_t out_channels, std::size_t kernel_size)
        : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
    TAPEGRAD_OPTION(std::size_t, in_channels, 0)
    TAPEGRAD_OPTION(std::size_t, out_channels, 0)
    TAPEGRAD_OPTION(std::size_t, kernel_size, 0)
    TAPEGRAD_OPTION(std::size_t, stride, 1)
    TAPEGRAD_OPTION(std::size_t, padding, 0)
    TAPEGRAD_OPTION(std::size_t, dilation, 1)
    TAPEGRAD_OPTION(std::size_t, groups, 1)
    TAPEGRAD_OPTION(bool, bias, true)
};

// MaxPool2dOptions and AvgPool2dOptions: the stride is the kernel size unless set.
struct Pool2dOptions {
    explicit Pool2dOptions(std::size_t kernel_size) : kernel_size_(kernel_size), stride_(kernel_size) {}
    TAPEGRAD_OPTION(std::size_t, kernel_size, 0)
    TAPEGRAD_OPTION(std::size_t, stride, 0)
    TAPEGRAD_OPTION(std::size_t, padding, 0)
};
using MaxPool2dOptions = Pool2dOptions;
using AvgPool2dOptions = Pool2dOptions;

struct LeakyReLUOptions {
    TAPEGRAD_OPTION(double, negative_slope, 0.01)
};
struct ELUOptions {
    TAPEGRAD_OPTION(double, alpha, 1.0)
};
struct GELUOptions {
    TAPEGRAD_OPTION(std::string, approximate, "none")  // "none" or "tanh"
};
struct SoftplusOptions {
    TAPEGRAD_OPTION(double, beta, 1.0)
    TAPEGRAD_OPTION(double, threshold, 20.0)
};
struct DropoutOptions {
    DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT: implicit, as torch's
    TAPEGRAD_OPTION(double, p, 0.5)
};

struct EmbeddingOptions {
    EmbeddingOptions(std::size_t num_embeddings, std::size_t embedding_dim)
        : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}
    TAPEGRAD_OPTION(std::size_t, num_embeddings, 0)
    TAPEGRAD_OPTION(std::size_t, embedding_dim, 0)
};

struct LayerNormOptions {
    explicit LayerNormOptions(std::vector<std::size_t> normalized_shape)
        : normalized_shape_(std::move(normalized_shape)) {}
    TAPEGRAD_OPTION(std::vector<std::size_t>, normalized_shape, {})
    TAPEGRAD_OPTION(double, eps, 1e-5)
    TAPEGRAD_OPTION(bool, elementwise_affine, true)
};

struct BatchNormOptions {
    explicit BatchNormOptions(std::size_t num_features) : num_features_(num_features) {}
    TAPEGRAD_OPTION(std::size_t, num_features, 0)
    TAPEGRAD_OPTION(double, eps, 1e-5)
    TAPEGRAD_OPTION(double, momentum, 0.1)
};

class Linear : public Module {
  public:
    Linear(std::size_t in, std::size_t out);
    explicit Linear(const LinearOptions& options);
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
    Conv2D(std::size_t in_channels, std::size_t out_channels, std::size_t kernel);
    // groups must divide both channel counts.
    explicit Conv2D(const Conv2dOptions& options);
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "Conv2D"; }
    std::string extra_repr() const override;

    Tensor weight;  // [out_channels, in_channels / groups, kernel, kernel]
    Tensor bias;    // [out_channels]; empty when built without bias

  private:
    std::size_t in_, out_, kernel_, stride_, padding_, dilation_, groups_;
};

class MaxPool2D : public Module {
  public:
    explicit MaxPool2D(std::size_t kernel) : MaxPool2D(MaxPool2dOptions(kernel)) {}  // stride = kernel
    explicit MaxPool2D(const MaxPool2dOptions& options);
    Tensor forward(const Tensor& x) override;
    std::size_t kernel() const { return kernel_; }
    std::size_t stride() const { return stride_; }
    std::size_t padding() const { return padding_; }
    std::string type_name() const override { return "MaxPool2D"; }
    std::string extra_repr() const override;

  private:
    std::size_t kernel_, stride_, padding_;
};

class AvgPool2D : public Module {
  public:
    explicit AvgPool2D(std::size_t kernel) : AvgPool2D(AvgPool2dOptions(kernel)) {}  // stride = kernel
    explicit AvgPool2D(const AvgPool2dOptions& options);
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "AvgPool2D"; }
    std::string extra_repr() const override;

  private:
    std::size_t kernel_, stride_, padding_;
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

class Identity : public Module {
  public:
    Tensor forward(const Tensor& x) override { return x; }
    std::string type_name() const override { return "Identity"; }
};

class LeakyReLU : public Module {
  public:
    explicit LeakyReLU(float negative_slope = 0.01f) : slope_(negative_slope) {}
    explicit LeakyReLU(const LeakyReLUOptions& options)
        : slope_(static_cast<float>(options.negative_slope())) {}
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "LeakyReLU"; }
    std::string extra_repr() const override;

  private:
    float slope_;
};

class ELU : public Module {
  public:
    explicit ELU(float alpha = 1.0f) : alpha_(alpha) {}
    explicit ELU(const ELUOptions& options) : alpha_(static_cast<float>(options.alpha())) {}
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "ELU"; }
    std::string extra_repr() const override;

  private:
    float alpha_;
};

class GELU : public Module {
  public:
    explicit GELU(bool tanh_approximation = false) : tanh_(tanh_approximation) {}
    explicit GELU(const GELUOptions& options);  // approximate "none" or "tanh"
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "GELU"; }
    std::string extra_repr() const override;

  private:
    bool tanh_;
};

class SiLU : public Module {
  public:
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "SiLU"; }
};

class Softplus : public Module {
  public:
    Softplus() = default;
    explicit Softplus(const SoftplusOptions& options)
        : beta_(static_cast<float>(options.beta())), threshold_(static_cast<float>(options.threshold())) {}
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "Softplus"; }
    std::string extra_repr() const override;

  private:
    float beta_ = 1.0f, threshold_ = 20.0f;
};

// Zeroes a share p of the elements in training (and scales the rest by 1 / (1 - p)); the
// identity in evaluation (Module::eval()).
class Dropout : public Module {
  public:
    explicit Dropout(float p = 0.5f);
    explicit Dropout(const DropoutOptions& options) : Dropout(static_cast<float>(options.p())) {}
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "Dropout"; }
    std::string extra_repr() const override;

  private:
    float p_;
};

class Embedding : public Module {
  public:
    Embedding(std::size_t num_embeddings, std::size_t dim);
    explicit Embedding(const EmbeddingOptions& options)
        : Embedding(options.num_embeddings(), options.embedding_dim()) {}
    Tensor forward(const Tensor& indices) override;
    std::string type_name() const override { return "Embedding"; }
    std::string extra_repr() const override;

    Tensor weight;  // [num_embeddings, dim]
};

class LayerNorm : public Module {
  public:
    explicit LayerNorm(std::vector<std::size_t> normalized_shape)
        : LayerNorm(LayerNormOptions(std::move(normalized_shape))) {}
    explicit LayerNorm(const LayerNormOptions& options);
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "LayerNorm"; }
    std::string extra_repr() const override;

    Tensor weight;  // normalized_shape, ones; empty without elementwise_affine
    Tensor bias;    // normalized_shape, zeros; empty without elementwise_affine

  private:
    std::vector<std::size_t> shape_;
    float eps_;
};

class BatchNorm : public Module {
  public:
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return rank_ == 2 ? "BatchNorm1D" : "BatchNorm2D"; }
    std::string extra_repr() const override;
    // forward, then ReLU and MaxPool2D(2), as one op in training (batch_norm_relu_max_pool2d):
    // what nn::fuse runs for these three layers in a row. Elsewhere the three ops.
    Tensor forward_relu_max_pool2d(const Tensor& x);

    Tensor weight, bias;                     // [features]
    Tensor running_mean, running_var;        // buffers, [features]
    Tensor num_batches_tracked;              // buffer, one number

  protected:
    BatchNorm(std::size_t rank, std::size_t features, float eps, float momentum);

  private:
    void check_input(const Tensor& x) const;
    std::size_t rank_, features_;
    float eps_, momentum_;
};

class BatchNorm1D : public BatchNorm {
  public:
    explicit BatchNorm1D(std::size_t features) : BatchNorm1D(BatchNormOptions(features)) {}
    explicit BatchNorm1D(const BatchNormOptions& o)
        : BatchNorm(2, o.num_features(), static_cast<float>(o.eps()), static_cast<float>(o.momentum())) {}
};

class BatchNorm2D : public BatchNorm {
  public:
    explicit BatchNorm2D(std::size_t channels) : BatchNorm2D(BatchNormOptions(channels)) {}
    explicit BatchNorm2D(const BatchNormOptions& o)
        : BatchNorm(4, o.num_features(), static_cast<float>(o.eps()), static_cast<float>(o.momentum())) {}
};

// torch's spellings of the layers tapegrad named first (nn.Conv2d, nn.BatchNorm2d, ...).
using Conv2d = Conv2D;
using MaxPool2d = MaxPool2D;
using AvgPool2d = AvgPool2D;
using BatchNorm1d = BatchNorm1D;
using BatchNorm2d = BatchNorm2D;

namespace detail {
// A layer given to Sequential: a shared_ptr to a module (shared with the caller), or a module
// by value (a temporary, moved into a new shared_ptr).
template <class T, class D = std::decay_t<T>>
struct is_layer_argument
    : std::bool_constant<std::is_base_of_v<Module, D> && !std::is_lvalue_reference_v<T>> {};
template <class T, class M>
struct is_layer_argument<T, std::shared_ptr<M>> : std::is_base_of<Module, M> {};

template <class M>
std::shared_ptr<Module> share_layer(std::shared_ptr<M> module) { return module; }
template <class M>
std::shared_ptr<Module> share_layer(M&& module) {
    return std::make_shared<std::decay_t<M>>(std::move(module));
}
}  // namespace detail

// A chain of modules, built from its layers and grown with push_back:
//   nn::Sequential model{nn::Linear(784, 256), nn::ReLU(), nn::Dropout(0.2f), nn::Linear(256, 10)};
//   auto shared = std::make_shared<nn::Sequential>(
//       std::make_shared<nn::Linear>(784, 100), std::make_shared<nn::ReLU>(),
//       std::make_shared<nn::Linear>(100, 10));
// Layers given by value are moved in; layers given as shared_ptr are shared with the caller.
// (One Sequential given by value alone, nn::Sequential{nn::Sequential{...}}, is moved, not
// nested, as C++ picks the move constructor; with any other layer beside it, it nests.)
// An error inside a child names the child: "Sequential: layer 2 (Linear): linear: ...".
class Sequential : public Module {
  public:
    Sequential() = default;
    Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
    template <class... Ms,
              class = std::enable_if_t<(sizeof...(Ms) > 0) &&
                                       (detail::is_layer_argument<Ms>::value && ...)>>
    explicit Sequential(Ms&&... modules) {
        (push_back(detail::share_layer(std::forward<Ms>(modules))), ...);
    }

    void push_back(std::shared_ptr<Module> module);
    template <class M, class = std::enable_if_t<std::is_base_of_v<Module, M> &&
                                                !std::is_lvalue_reference_v<M>>>
    void push_back(M&& module) {
        push_back(detail::share_layer(std::move(module)));
    }
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
    std::string extra_repr() const override;  // names the runs of layers that run as one

    // Runs `module` in place of the `count` layers from `first` on, which stay this model's
    // children with their names (state_dict, train()/eval() and summary() still see them): how
    // nn::fuse (nn/fuse.hpp) makes layers run as one op. The tape then shows that op.
    void run_as_one(std::size_t first, std::size_t count, std::shared_ptr<Module> module);

  private:
    [[noreturn]] void throw_wrong_type(std::size_t i) const;
    struct RunAsOne {
        std::size_t first, count;
        std::shared_ptr<Module> module;
    };
    std::vector<RunAsOne> runs_as_one_;  // by first layer
};

}  // namespace tapegrad::nn
