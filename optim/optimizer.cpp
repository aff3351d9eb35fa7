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

State Optimizer::state() const {
    State out;
    out.put("lr", groups_[0].lr);
    if (groups_.size() > 1) {
        out.put("group_count", static_cast<float>(groups_.size()));
        for (std::size_t g = 1; g < groups_.size(); ++g)
            out.put("group" + std::to_string(g) + ".lr", groups_[g].lr);
    }
    save_settings(out);
    out.put("param_count", static_cast<float>(params_.size()));
    save_slots(out);
    return out;
}

void Optimizer::load_state(const State& state) {
    const StateReader in(state, std::string(name_) + ".load_state", params_.size());
    const float groups = in.float32("group_count", 1.0f);
    if (groups != static_cast<float>(groups_.size()))
        in.fail("the state is for " + number_str(groups) + " parameter group" +
                (groups == 1.0f ? "" : "s") + ", but this optimizer has " +
                std::to_string(groups_.size()));
    const float params = in.float32("param_count", static_cast<float>(params_.size()));
    if (params != static_cast<float>(params_.size()))
        in.fail("the state is for " + number_str(params) + " parameters, but this optimizer has " +
                std::to_string(params_.size()));
    std::vector<float> lrs;
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        const std::string name = g == 0 ? "lr" : "group" + std::to_string(g) + ".lr";
        lrs.push_back(in.float32(name, groups_[g].lr));
        check_non_negative(name.c_str(), lrs.back());
    }
    const std::function<void()> set_own = read_state(in);
    in.finish();
    for (std::size_t g = 0; g < groups_.size(); ++g) groups_[g].lr = lrs[g];
    set_own();
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

}  // namespace tapegrad::optim
