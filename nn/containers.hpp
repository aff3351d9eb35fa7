// Containers of modules, as torch's nn.ModuleList and nn.ModuleDict: they own and register their
// modules, so that the parameters are the model's (named "blocks.0.weight", "heads.digit.bias",
// in the state_dict as torch's), and have no forward of their own: the model that holds one calls
// its modules as it wants.
//
//   struct Net : nn::Module {
//       std::shared_ptr<nn::ModuleList> blocks = register_module("blocks", nn::ModuleList());
//       std::shared_ptr<nn::ModuleDict> heads = register_module("heads", nn::ModuleDict());
//       Net() {
//           for (int i = 0; i < 3; ++i) blocks->push_back(nn::Linear(8, 8));
//           heads->insert("digit", nn::Linear(8, 10));
//       }
//       Tensor forward(const Tensor& x) override {
//           Tensor h = x;
//           for (const auto& block : *blocks) h = relu((*block)(h));
//           return (*heads->at<nn::Linear>("digit"))(h);
//       }
//   };
//
// Where they differ from torch: inserting a key a ModuleDict has is an error (torch replaces
// the module), and there is no slicing, insert-at or pop.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "layers.hpp"  // detail::share_layer

namespace tapegrad::nn {

class ModuleList : public Module {
  public:
    ModuleList() = default;
    template <class... Ms,
              class = std::enable_if_t<(sizeof...(Ms) > 0) &&
                                       (detail::is_layer_argument<Ms>::value && ...)>>
    explicit ModuleList(Ms&&... modules) {
        (push_back(detail::share_layer(std::forward<Ms>(modules))), ...);
    }

    // Appends a module, named by its index ("0", "1", ...).
    void push_back(std::shared_ptr<Module> module);
    template <class M, class = std::enable_if_t<std::is_base_of_v<Module, M> &&
                                                !std::is_lvalue_reference_v<M>>>
    void push_back(M&& module) {
        push_back(detail::share_layer(std::move(module)));
    }

    std::size_t size() const { return modules_.size(); }
    bool empty() const { return modules_.empty(); }
    // The i-th module; at<M>(i) also casts it to its type (throws if it is another type).
    std::shared_ptr<Module> operator[](std::size_t i) const;
    template <class M>
    std::shared_ptr<M> at(std::size_t i) const {
        auto m = std::dynamic_pointer_cast<M>((*this)[i]);
        if (!m) throw_wrong_type(std::to_string(i));
        return m;
    }
    // for (const std::shared_ptr<nn::Module>& m : list)
    std::vector<std::shared_ptr<Module>>::const_iterator begin() const { return modules_.begin(); }
    std::vector<std::shared_ptr<Module>>::const_iterator end() const { return modules_.end(); }

    // A ModuleList has no forward: an error that says to call its modules.
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "ModuleList"; }

  private:
    [[noreturn]] void throw_wrong_type(const std::string& index) const;
    std::vector<std::shared_ptr<Module>> modules_;
};

class ModuleDict : public Module {
  public:
    ModuleDict() = default;
    ModuleDict(std::initializer_list<std::pair<std::string, std::shared_ptr<Module>>> modules);

    // Adds a module under `key` (non-empty, no '.', not there yet), in insertion order.
    void insert(const std::string& key, std::shared_ptr<Module> module);
    template <class M, class = std::enable_if_t<std::is_base_of_v<Module, M> &&
                                                !std::is_lvalue_reference_v<M>>>
    void insert(const std::string& key, M&& module) {
        insert(key, detail::share_layer(std::move(module)));
    }

    std::size_t size() const { return named_children().size(); }
    bool empty() const { return named_children().empty(); }
    bool contains(const std::string& key) const;
    std::vector<std::string> keys() const;
    // The module under `key` (an error naming the keys there are when it is missing); at<M> also
    // casts it to its type.
    std::shared_ptr<Module> operator[](const std::string& key) const;
    template <class M>
    std::shared_ptr<M> at(const std::string& key) const {
        auto m = std::dynamic_pointer_cast<M>((*this)[key]);
        if (!m) throw_wrong_type(key);
        return m;
    }
    // for (const auto& [key, module] : dict), in insertion order
    auto begin() const { return named_children().begin(); }
    auto end() const { return named_children().end(); }

    // A ModuleDict has no forward: an error that says to call its modules.
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "ModuleDict"; }

  private:
    [[noreturn]] void throw_wrong_type(const std::string& key) const;
};

}  // namespace tapegrad::nn
