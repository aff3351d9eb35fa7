#include "fuse.hpp"

#include <typeinfo>

#include "../ops/norm.hpp"
#include "../ops/pool.hpp"

namespace tapegrad::nn {

Tensor ReLUMaxPool2D::forward(const Tensor& x) { return relu_max_pool2d(x); }

BatchNormReLUMaxPool2D::BatchNormReLUMaxPool2D(std::shared_ptr<BatchNorm2D> norm)
    : norm_(std::move(norm)) {
    if (!norm_) throw std::invalid_argument("BatchNormReLUMaxPool2D: the BatchNorm2D is null");
}

Tensor BatchNormReLUMaxPool2D::forward(const Tensor& x) { return norm_->forward_relu_max_pool2d(x); }

namespace {

template <class M>
bool is(const std::shared_ptr<Module>& m) {
    return typeid(*m) == typeid(M);
}

bool is_pool_2x2(const std::shared_ptr<Module>& m) {
    if (!is<MaxPool2D>(m)) return false;
    const auto& pool = static_cast<const MaxPool2D&>(*m);
    return pool.kernel() == 2 && pool.stride() == 2 && pool.padding() == 0;
}

}  // namespace

std::shared_ptr<Sequential> fuse(const Sequential& model) {
    auto fused = std::make_shared<Sequential>();
    for (const auto& [name, layer] : model.named_children())
        if (is<Sequential>(layer))
            fused->push_back(fuse(static_cast<const Sequential&>(*layer)));
        else
            fused->push_back(layer);
    fused->train(model.is_training());
    auto layer = [&](std::size_t i) { return i < fused->size() ? (*fused)[i] : nullptr; };
    for (std::size_t i = 0; i < fused->size(); ++i) {
        if (is<BatchNorm2D>(layer(i)) && layer(i + 2) && is<ReLU>(layer(i + 1)) &&
            is_pool_2x2(layer(i + 2))) {
            fused->run_as_one(i, 3, std::make_shared<BatchNormReLUMaxPool2D>(
                                        std::static_pointer_cast<BatchNorm2D>(layer(i))));
            i += 2;
        } else if (is<ReLU>(layer(i)) && layer(i + 1) && is_pool_2x2(layer(i + 1))) {
            fused->run_as_one(i, 2, std::make_shared<ReLUMaxPool2D>());
            i += 1;
        }
    }
    return fused;
}

}  // namespace tapegrad::nn
