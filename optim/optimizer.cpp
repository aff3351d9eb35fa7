#include "optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace tapegrad::optim {

Optimizer::Optimizer(const char* name, ParamGroups params, float lr) : name_(name) {
    check_non_negative("the learning rate", lr);
    for (const ParamGroup& g : params.groups()) {
        const std::size_t index = groups_.size();
        const std::string which = "group " + std::to_string(index);
        if (g.lr) check_non_negative((which + "'s learning rate").c_str(), *g.lr);
        if (g.weight_decay) check_non_negative((which + "'s weight_decay").c_str(), *g.weight_decay);
        if (g.params.empty() && params.groups().size() > 1)
            throw std::invalid_argument(std::string(name_) + ": parameter " + which + " is empty");
        groups_.push_back({g.lr.value_or(lr), g.weight_decay, -1.0f});
        for (const Tensor& p : g.params) {
            params_.push_back(p);
            group_of_.push_back(index);
        }
    }
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
}

std::vector<ParamGroup> decay_groups(const std::vector<Tensor>& params) {
    ParamGroup decay({}), no_decay({}, std::nullopt, 0.0f);
    for (const Tensor& p : params) (p.dim() >= 2 ? decay : no_decay).params.push_back(p);
    std::vector<ParamGroup> groups;
    for (ParamGroup* g : {&decay, &no_decay})
        if (!g->params.empty()) groups.push_back(std::move(*g));
    return groups;
}

void Optimizer::zero_grad(bool set_to_none) {
    for (const Tensor& p : params_) {
        if (set_to_none) p.clear_grad();
        else p.zero_grad();
    }
}

void Optimizer::set_lr(float lr) {
    check_non_negative("the learning rate", lr);
    for (Group& g : groups_) g.lr = lr;
}

float Optimizer::lr(std::size_t group) const {
    if (group >= groups_.size())
        throw std::out_of_range(std::string(name_) + ": there is no parameter group " +
                                std::to_string(group) + "; there are " +
                                std::to_string(groups_.size()));
    return groups_[group].lr;
}

void Optimizer::set_lr(std::size_t group, float lr) {
    this->lr(group);  // checks the group
    check_non_negative("the learning rate", lr);
    groups_[group].lr = lr;
}

float Optimizer::initial_lr(std::size_t group) {
    this->lr(group);
    Group& g = groups_[group];
    if (g.initial_lr < 0.0f) g.initial_lr = g.lr;
    return g.initial_lr;
}

NamedArrays Optimizer::base_state(NamedArrays settings) const {
    NamedArrays out{{"lr", scalar(groups_[0].lr)}};
    if (groups_.size() > 1) {
        out.emplace_back("group_count", scalar(static_cast<float>(groups_.size())));
        for (std::size_t g = 1; g < groups_.size(); ++g)
            out.emplace_back("group" + std::to_string(g) + ".lr", scalar(groups_[g].lr));
    }
    for (auto& entry : settings) out.push_back(std::move(entry));
    out.emplace_back("param_count", scalar(static_cast<float>(params_.size())));
    return out;
}

std::vector<float> Optimizer::group_lrs(const SavedState& saved) const {
    std::vector<float> lrs;
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        const std::string name = g == 0 ? "lr" : "group" + std::to_string(g) + ".lr";
        lrs.push_back(hyper_or(saved, name, groups_[g].lr));
        check_non_negative(name.c_str(), lrs.back());
    }
    return lrs;
}

void Optimizer::set_group_lrs(const std::vector<float>& lrs) {
    for (std::size_t g = 0; g < groups_.size(); ++g) groups_[g].lr = lrs[g];
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
    auto is_group_lr = [&](const std::string& name) {
        for (std::size_t g = 1; g < groups_.size(); ++g)
            if (name == "group" + std::to_string(g) + ".lr") return true;
        return false;
    };
    SavedState saved;
    bool saw_group_count = false;
    std::map<std::string, int> seen;
    for (const auto& [name, value] : state) {
        if (seen[name]++) throw std::invalid_argument(who + "'" + name + "' appears twice");
        if (contains(hyper, name) || is_group_lr(name)) {
            saved.hyper[name] = &value;
            continue;
        }
        if (name == "group_count") {
            saw_group_count = true;
            const float count = read_scalar(name, value);
            if (count != static_cast<float>(groups_.size()))
                throw std::invalid_argument(who + "the state is for " + number_str(count) +
                                            " parameter groups, but this optimizer has " +
                                            std::to_string(groups_.size()));
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
    if (!saw_group_count && groups_.size() > 1)
        throw std::invalid_argument(who + "the state is for 1 parameter group, but this "
                                    "optimizer has " + std::to_string(groups_.size()));
    return saved;
}

float Optimizer::hyper_or(const SavedState& saved, const std::string& name,
                          float otherwise) const {
    auto it = saved.hyper.find(name);
    return it == saved.hyper.end() ? otherwise : read_scalar(name, *it->second);
}

}  // namespace tapegrad::optim
