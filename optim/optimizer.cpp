#include "optimizer.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace tapegrad::optim {

Optimizer::Optimizer(const char* name, std::vector<Tensor> params, float lr)
    : name_(name), params_(std::move(params)), lr_(lr) {
    if (params_.empty())
        throw std::invalid_argument(std::string(name_) + ": the parameter list is empty");
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Tensor& p = params_[i];
        if (!p.defined())
            throw std::invalid_argument(std::string(name_) + ": parameter " + std::to_string(i) +
                                        " is an empty Tensor");
        if (!p.is_leaf())
            throw std::invalid_argument(std::string(name_) + ": parameter " + std::to_string(i) +
                                        " is the output of an op, not a leaf; optimize the "
                                        "tensors it was computed from");
        for (std::size_t j = 0; j < i; ++j)
            if (params_[j].node() == p.node())
                throw std::invalid_argument(std::string(name_) + ": parameter " +
                                            std::to_string(i) + " is the same tensor as "
                                            "parameter " + std::to_string(j) +
                                            "; it would be updated twice per step");
    }
    check_non_negative("the learning rate", lr);
}

void Optimizer::zero_grad() {
    for (const Tensor& p : params_) p.zero_grad();
}

void Optimizer::set_lr(float lr) {
    check_non_negative("the learning rate", lr);
    lr_ = lr;
}

void Optimizer::check_non_negative(const char* what, float value) const {
    if (!(value >= 0.0f))
        throw std::invalid_argument(std::string(name_) + ": " + what + " must be >= 0, but it is " +
                                    number_str(value));
}

std::string Optimizer::number_str(float value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

Array Optimizer::scalar(float value) { return Array{value}; }

float Optimizer::read_scalar(const std::string& name, const Array& value) const {
    if (value.size() != 1)
        throw std::invalid_argument(std::string(name_) + ".load_state: '" + name +
                                    "' must hold one number, but its shape is " +
                                    shape_str(value.shape()));
    return *value.begin();
}

std::pair<std::string, std::size_t> Optimizer::parse_param_entry(
    const std::string& name) const {
    const std::size_t dot = name.rfind('.');
    const std::string prefix = std::string(name_) + ".load_state: '" + name + "'";
    std::size_t index = 0;
    bool digits = dot != std::string::npos && dot + 1 < name.size();
    for (std::size_t i = dot + 1; digits && i < name.size(); ++i) {
        if (name[i] < '0' || name[i] > '9' || i - dot > 9) digits = false;
        else index = index * 10 + static_cast<std::size_t>(name[i] - '0');
    }
    if (!digits)
        throw std::invalid_argument(prefix + " is not a known entry (expected a name such as '" +
                                    "exp_avg.0', ending in a parameter index)");
    if (index >= params_.size())
        throw std::invalid_argument(prefix + " is for parameter " + std::to_string(index) +
                                    ", but this optimizer has " +
                                    std::to_string(params_.size()) + " parameters");
    return {name.substr(0, dot), index};
}

void Optimizer::check_param_shape(const std::string& name, std::size_t index,
                                  const Array& value) const {
    const Shape expected = params_[index].shape();
    if (Shape(value.shape().begin(), value.shape().end()) != expected)
        throw std::invalid_argument(std::string(name_) + ".load_state: '" + name +
                                    "' has shape " + shape_str(value.shape()) + ", but parameter " +
                                    std::to_string(index) + " has shape " + shape_str(expected));
}

}  // namespace tapegrad::optim
