#include "containers.hpp"

#include <stdexcept>

namespace tapegrad::nn {

void ModuleList::push_back(std::shared_ptr<Module> module) {
    if (!module) throw std::invalid_argument("ModuleList::push_back: the module is null");
    register_module(std::to_string(modules_.size()), module);
    modules_.push_back(std::move(module));
}

std::shared_ptr<Module> ModuleList::operator[](std::size_t i) const {
    if (i >= modules_.size())
        throw std::out_of_range("ModuleList: index " + std::to_string(i) + " is out of range; it has " +
                                std::to_string(modules_.size()) + " modules");
    return modules_[i];
}

void ModuleList::throw_wrong_type(const std::string& index) const {
    throw std::invalid_argument("ModuleList: module " + index + " is a " +
                                (*this)[std::stoul(index)]->type_name() + ", not the type asked for");
}

Tensor ModuleList::forward(const Tensor&) {
    throw std::logic_error("ModuleList has no forward (as torch's): call its modules, "
                           "for (const auto& m : list) x = (*m)(x);");
}

ModuleDict::ModuleDict(std::initializer_list<std::pair<std::string, std::shared_ptr<Module>>> modules) {
    for (const auto& [key, module] : modules) insert(key, module);
}

void ModuleDict::insert(const std::string& key, std::shared_ptr<Module> module) {
    if (!module) throw std::invalid_argument("ModuleDict::insert: the module for '" + key + "' is null");
    if (contains(key))
        throw std::invalid_argument("ModuleDict::insert: there is a module under '" + key +
                                    "' already");
    register_module(key, std::move(module));
}

bool ModuleDict::contains(const std::string& key) const {
    for (const auto& child : named_children())
        if (child.first == key) return true;
    return false;
}

std::vector<std::string> ModuleDict::keys() const {
    std::vector<std::string> out;
    for (const auto& child : named_children()) out.push_back(child.first);
    return out;
}

std::shared_ptr<Module> ModuleDict::operator[](const std::string& key) const {
    for (const auto& child : named_children())
        if (child.first == key) return child.second;
    std::string known;
    for (const std::string& k : keys()) known += (known.empty() ? "" : ", ") + k;
    throw std::out_of_range("ModuleDict: there is no module under '" + key + "'" +
                            (known.empty() ? std::string(" (it is empty)") : "; its keys are " + known));
}

void ModuleDict::throw_wrong_type(const std::string& key) const {
    throw std::invalid_argument("ModuleDict: the module under '" + key + "' is a " +
                                (*this)[key]->type_name() + ", not the type asked for");
}

Tensor ModuleDict::forward(const Tensor&) {
    throw std::logic_error("ModuleDict has no forward (as torch's): call its modules, "
                           "(*dict[\"name\"])(x)");
}

}  // namespace tapegrad::nn
