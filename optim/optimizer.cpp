#include "optimizer.hpp"

#include <algorithm>
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

float Optimizer::initial_lr() {
    if (initial_lr_ < 0.0f) initial_lr_ = lr_;
    return initial_lr_;
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

Optimizer::SavedState Optimizer::split_state(const NamedArrays& state,
                                             const std::vector<std::string>& hyper,
                                             const std::vector<std::string>& per_param,
                                             const std::vector<std::string>& scalar_kinds) const {
    const std::string who = std::string(name_) + ".load_state: ";
    auto unknown = [&](const std::string& name) {
        std::string known;
        for (const std::string& h : hyper) known += h + ", ";
        known += "param_count";
        for (std::size_t k = 0; k < per_param.size(); ++k)
            known += (k + 1 == per_param.size() ? " and " : ", ") + per_param[k] + ".<i>";
        return std::invalid_argument(who + "'" + name + "' is not a known entry; " + name_ +
                                     " saves " + known);
    };
    auto contains = [](const std::vector<std::string>& names, const std::string& name) {
        return std::find(names.begin(), names.end(), name) != names.end();
    };
    SavedState saved;
    std::map<std::string, int> seen;
    for (const auto& [name, value] : state) {
        if (seen[name]++) throw std::invalid_argument(who + "'" + name + "' appears twice");
        if (contains(hyper, name)) {
            saved.hyper[name] = &value;
            continue;
        }
        if (name == "param_count") {
            const float count = read_scalar(name, value);
            if (count != static_cast<float>(params_.size()))
                throw std::invalid_argument(who + "the state is for " + number_str(count) +
                                            " parameters, but this optimizer has " +
                                            std::to_string(params_.size()));
            continue;
        }
        // KIND.<i>: the index must name a parameter.
        const std::size_t dot = name.rfind('.');
        std::size_t index = 0;
        bool digits = dot != std::string::npos && dot + 1 < name.size();
        for (std::size_t i = dot + 1; digits && i < name.size(); ++i) {
            if (name[i] < '0' || name[i] > '9' || i - dot > 9) digits = false;
            else index = index * 10 + static_cast<std::size_t>(name[i] - '0');
        }
        if (!digits || !contains(per_param, name.substr(0, dot))) throw unknown(name);
        if (index >= params_.size())
            throw std::invalid_argument(who + "'" + name + "' is for parameter " +
                                        std::to_string(index) + ", but this optimizer has " +
                                        std::to_string(params_.size()) + " parameters");
        const std::string kind = name.substr(0, dot);
        if (contains(scalar_kinds, kind)) {
            read_scalar(name, value);
        } else {
            const Shape expected = params_[index].shape();
            if (Shape(value.shape().begin(), value.shape().end()) != expected)
                throw std::invalid_argument(who + "'" + name + "' has shape " +
                                            shape_str(value.shape()) + ", but parameter " +
                                            std::to_string(index) + " has shape " +
                                            shape_str(expected));
        }
        saved.per_param[kind][index] = &value;
    }
    return saved;
}

float Optimizer::hyper_or(const SavedState& saved, const std::string& name,
                          float otherwise) const {
    auto it = saved.hyper.find(name);
    return it == saved.hyper.end() ? otherwise : read_scalar(name, *it->second);
}

}  // namespace tapegrad::optim
