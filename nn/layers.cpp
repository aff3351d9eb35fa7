#include "layers.hpp"

#include <algorithm>
#include <stdexcept>

#include "../ops/activation.hpp"
#include "../ops/conv.hpp"
#include "../ops/index.hpp"
#include "../ops/norm.hpp"
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

Linear::Linear(std::size_t in, std::size_t out) : Linear(LinearOptions(in, out)) {}

Linear::Linear(const LinearOptions& options)
    : in_(options.in_features()), out_(options.out_features()) {
    const std::size_t in = in_, out = out_;
    const bool bias = options.bias();
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

Conv2D::Conv2D(std::size_t in_channels, std::size_t out_channels, std::size_t kernel)
    : Conv2D(Conv2dOptions(in_channels, out_channels, kernel)) {}

Conv2D::Conv2D(const Conv2dOptions& o)
    : in_(o.in_channels()), out_(o.out_channels()), kernel_(o.kernel_size()), stride_(o.stride()),
      padding_(o.padding()), dilation_(o.dilation()), groups_(o.groups()) {
    const std::size_t in_channels = in_, out_channels = out_, kernel = kernel_, stride = stride_,
                      dilation = dilation_, groups = groups_;
    const bool bias = o.bias();
    if (in_channels == 0 || out_channels == 0 || kernel == 0 || stride == 0 || dilation == 0 ||
        groups == 0)
        throw std::invalid_argument(
            "Conv2D: in_channels, out_channels, kernel, stride, dilation and groups must be at "
            "least 1, got in=" + std::to_string(in_channels) + ", out=" +
            std::to_string(out_channels) + ", kernel=" + std::to_string(kernel) + ", stride=" +
            std::to_string(stride) + ", dilation=" + std::to_string(dilation) + ", groups=" +
            std::to_string(groups));
    if (in_channels % groups != 0 || out_channels % groups != 0)
        throw std::invalid_argument("Conv2D: groups = " + std::to_string(groups) +
                                    " must divide both in_channels (" +
                                    std::to_string(in_channels) + ") and out_channels (" +
                                    std::to_string(out_channels) + ")");
    weight = register_parameter(
        "weight", Array::from_shape({out_channels, in_channels / groups, kernel, kernel}));
    if (bias) this->bias = register_parameter("bias", Array::from_shape({out_channels}));
    reset(weight, this->bias);
}

Tensor Conv2D::forward(const Tensor& x) {
    return conv2d(x, weight, bias, stride_, padding_, dilation_, groups_);
}

std::string Conv2D::extra_repr() const {
    return "in=" + std::to_string(in_) + ", out=" + std::to_string(out_) +
           ", kernel=" + std::to_string(kernel_) + ", stride=" + std::to_string(stride_) +
           ", padding=" + std::to_string(padding_) +
           (dilation_ != 1 ? ", dilation=" + std::to_string(dilation_) : std::string()) +
           (groups_ != 1 ? ", groups=" + std::to_string(groups_) : std::string()) +
           ", bias=" + yes_no(bias.defined());
}

namespace {

std::string pool_repr(std::size_t kernel, std::size_t stride, std::size_t padding) {
    return "kernel=" + std::to_string(kernel) + ", stride=" + std::to_string(stride) +
           (padding ? ", padding=" + std::to_string(padding) : std::string());
}

void check_pool(const char* layer, std::size_t kernel, std::size_t stride, std::size_t padding) {
    if (kernel == 0 || stride == 0)
        throw std::invalid_argument(std::string(layer) +
                                    ": kernel and stride must be at least 1, got " +
                                    pool_repr(kernel, stride, padding));
}

}  // namespace

MaxPool2D::MaxPool2D(const MaxPool2dOptions& o)
    : kernel_(o.kernel_size()), stride_(o.stride()), padding_(o.padding()) {
    check_pool("MaxPool2D", kernel_, stride_, padding_);
}

Tensor MaxPool2D::forward(const Tensor& x) { return max_pool2d(x, kernel_, stride_, padding_); }
std::string MaxPool2D::extra_repr() const { return pool_repr(kernel_, stride_, padding_); }

AvgPool2D::AvgPool2D(const AvgPool2dOptions& o)
    : kernel_(o.kernel_size()), stride_(o.stride()), padding_(o.padding()) {
    check_pool("AvgPool2D", kernel_, stride_, padding_);
}

Tensor AvgPool2D::forward(const Tensor& x) { return avg_pool2d(x, kernel_, stride_, padding_); }
std::string AvgPool2D::extra_repr() const { return pool_repr(kernel_, stride_, padding_); }

Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, slope_); }
std::string LeakyReLU::extra_repr() const { return "negative_slope=" + std::to_string(slope_); }
Tensor ELU::forward(const Tensor& x) { return elu(x, alpha_); }
std::string ELU::extra_repr() const { return "alpha=" + std::to_string(alpha_); }
GELU::GELU(const GELUOptions& options) : tanh_(options.approximate() == "tanh") {
    if (options.approximate() != "none" && options.approximate() != "tanh")
        throw std::invalid_argument("GELU: approximate must be \"none\" or \"tanh\", got \"" +
                                    options.approximate() + "\"");
}
Tensor GELU::forward(const Tensor& x) {
    return gelu(x, tanh_ ? GeluApproximation::tanh : GeluApproximation::none);
}
std::string GELU::extra_repr() const { return tanh_ ? "approximate=tanh" : ""; }
Tensor SiLU::forward(const Tensor& x) { return silu(x); }
Tensor Softplus::forward(const Tensor& x) { return softplus(x, beta_, threshold_); }
std::string Softplus::extra_repr() const {
    return "beta=" + std::to_string(beta_) + ", threshold=" + std::to_string(threshold_);
}

Dropout::Dropout(float p) : p_(p) {
    if (!(p >= 0.0f && p <= 1.0f))
        throw std::invalid_argument("Dropout: p must be in [0, 1], got " + std::to_string(p));
}
Tensor Dropout::forward(const Tensor& x) { return dropout(x, p_, is_training()); }
std::string Dropout::extra_repr() const { return "p=" + std::to_string(p_); }

Embedding::Embedding(std::size_t num_embeddings, std::size_t dim) {
    if (num_embeddings == 0 || dim == 0)
        throw std::invalid_argument("Embedding: num_embeddings and dim must be at least 1, got " +
                                    std::to_string(num_embeddings) + " and " +
                                    std::to_string(dim));
    weight = register_parameter("weight", normal_array({num_embeddings, dim}, 0.0f, 1.0f));
}
Tensor Embedding::forward(const Tensor& indices) { return embedding(indices, weight); }
std::string Embedding::extra_repr() const {
    return "num_embeddings=" + std::to_string(weight.shape()[0]) +
           ", dim=" + std::to_string(weight.shape()[1]);
}

Tensor Flatten::forward(const Tensor& x) { return flatten(x); }
Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor Softmax::forward(const Tensor& x) { return softmax(x, axis_); }
std::string Softmax::extra_repr() const { return "axis=" + std::to_string(axis_); }

LayerNorm::LayerNorm(const LayerNormOptions& options)
    : shape_(options.normalized_shape()), eps_(static_cast<float>(options.eps())) {
    const float eps = eps_;
    const bool elementwise_affine = options.elementwise_affine();
    if (shape_.empty())
        throw std::invalid_argument("LayerNorm: normalized_shape is empty; give the sizes of the "
                                    "last axes to normalize over");
    if (!(eps > 0.0f)) throw std::invalid_argument("LayerNorm: eps must be positive");
    if (elementwise_affine) {
        const Shape s(shape_.begin(), shape_.end());
        weight = register_parameter("weight", xt::ones<float>(s));
        bias = register_parameter("bias", xt::zeros<float>(s));
    }
}
Tensor LayerNorm::forward(const Tensor& x) { return layer_norm(x, shape_, weight, bias, eps_); }
std::string LayerNorm::extra_repr() const {
    return "normalized_shape=" + shape_str(Shape(shape_.begin(), shape_.end())) +
           ", eps=" + std::to_string(eps_) + ", elementwise_affine=" + yes_no(weight.defined());
}

BatchNorm::BatchNorm(std::size_t rank, std::size_t features, float eps, float momentum)
    : rank_(rank), features_(features), eps_(eps), momentum_(momentum) {
    const char* name = rank == 2 ? "BatchNorm1D" : "BatchNorm2D";
    if (features == 0)
        throw std::invalid_argument(std::string(name) + ": the number of features must be at least 1");
    if (!(eps > 0.0f)) throw std::invalid_argument(std::string(name) + ": eps must be positive");
    if (!(momentum >= 0.0f && momentum <= 1.0f))
        throw std::invalid_argument(std::string(name) + ": momentum must be in [0, 1], got " +
                                    std::to_string(momentum));
    weight = register_parameter("weight", xt::ones<float>({features}));
    bias = register_parameter("bias", xt::zeros<float>({features}));
    running_mean = register_buffer("running_mean", xt::zeros<float>({features}));
    running_var = register_buffer("running_var", xt::ones<float>({features}));
    num_batches_tracked = register_buffer("num_batches_tracked", Array::from_shape({}));
    num_batches_tracked.mutable_value().fill(0.0f);
}

void BatchNorm::check_input(const Tensor& x) const {
    if (x.dim() != rank_ || x.shape()[1] != features_)
        throw std::invalid_argument(type_name() + ": x must be " +
                                    (rank_ == 2 ? "[N, " : "[N, ") + std::to_string(features_) +
                                    (rank_ == 2 ? "]" : ", H, W]") + ", but its shape is " +
                                    shape_str(x.shape()));
}

Tensor BatchNorm::forward(const Tensor& x) {
    check_input(x);
    if (is_training()) num_batches_tracked.mutable_value() += 1.0f;
    return batch_norm(x, running_mean, running_var, weight, bias, is_training(), momentum_, eps_);
}

Tensor BatchNorm::forward_relu_max_pool2d(const Tensor& x) {
    if (!is_training() || rank_ != 4) return relu_max_pool2d(forward(x));
    check_input(x);
    num_batches_tracked.mutable_value() += 1.0f;
    return batch_norm_relu_max_pool2d(x, running_mean, running_var, weight, bias, momentum_, eps_);
}

std::string BatchNorm::extra_repr() const {
    return std::to_string(features_) + ", eps=" + std::to_string(eps_) +
           ", momentum=" + std::to_string(momentum_);
}

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

void Sequential::run_as_one(std::size_t first, std::size_t count, std::shared_ptr<Module> module) {
    if (count == 0 || first + count > size() || !module)
        throw std::invalid_argument("Sequential::run_as_one: layers " + std::to_string(first) +
                                    " to " + std::to_string(first + count) +
                                    " are not a run of this model's " + std::to_string(size()) +
                                    " layers, or the module is null");
    for (const RunAsOne& run : runs_as_one_)
        if (first < run.first + run.count && run.first < first + count)
            throw std::invalid_argument("Sequential::run_as_one: layers " + std::to_string(first) +
                                        " to " + std::to_string(first + count - 1) +
                                        " overlap a run that already runs as one");
    auto at = std::find_if(runs_as_one_.begin(), runs_as_one_.end(),
                           [first](const RunAsOne& run) { return run.first > first; });
    runs_as_one_.insert(at, {first, count, std::move(module)});
}

std::string Sequential::extra_repr() const {
    std::string text;
    for (const RunAsOne& run : runs_as_one_)
        text += (text.empty() ? "fused: " : ", ") + std::to_string(run.first) + "-" +
                std::to_string(run.first + run.count - 1) + " as " + run.module->type_name();
    return text;
}

// Each layer in turn; a run given to run_as_one as its one module, except while summary()
// lists the layers one by one (the numbers are the same).
Tensor Sequential::forward(const Tensor& x) {
    Tensor y = x;
    auto run = runs_as_one_.begin();
    for (std::size_t i = 0; i < size();) {
        Module* layer = named_children()[i].second.get();
        std::size_t count = 1;
        if (run != runs_as_one_.end() && run->first == i) {
            if (!Module::recording_calls()) layer = run->module.get(), count = run->count;
            ++run;
        }
        try {
            y = (*layer)(y);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument("Sequential: layer " + std::to_string(i) + " (" +
                                        layer->type_name() + "): " + e.what());
        }
        i += count;
    }
    return y;
}

}  // namespace tapegrad::nn
