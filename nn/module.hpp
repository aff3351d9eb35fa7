// Modules: a model is a tree of modules, each holding parameters registered by name.
//
//   struct Net : nn::Module {
//       std::shared_ptr<nn::Linear> fc1 = register_module("fc1", nn::Linear(4, 8));
//       std::shared_ptr<nn::Linear> fc2 = register_module("fc2", nn::Linear(8, 2));
//       Tensor forward(const Tensor& x) override { return (*fc2)(relu((*fc1)(x))); }
//   };
//
// named_parameters() walks the tree in registration order, a module's own parameters before its
// children's, and names each parameter by its dotted path: "fc1.weight", "0.bias", "2.0.weight".
// named_buffers() does the same for buffers ("1.running_mean"). Both are the keys of saved files
// (nn/serialize.hpp), as in a PyTorch state_dict. Modules live in std::shared_ptr and
// are not copyable: a copy would silently share or silently not share the parameters.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"

namespace tapegrad::nn {

class Module {
  public:
    Module() = default;
    virtual ~Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;
    // A temporary layer may be moved into its owner (Sequential{nn::Linear(4, 2), ...},
    // register_module("fc", nn::Linear(4, 2))); the moved-from module is left empty.
    Module(Module&&) = default;
    Module& operator=(Module&&) = delete;

    // x -> y. Call a module with operator(), not forward(), so summary() can see the call.
    virtual Tensor forward(const Tensor& x) = 0;
    Tensor operator()(const Tensor& x);
    // Whether summary() is recording the calls on this thread (every layer must then be called).
    static bool recording_calls();

    // For printing: the layer's name ("Linear") and its settings ("in=784, out=10, bias=true").
    virtual std::string type_name() const { return "Module"; }
    virtual std::string extra_repr() const { return {}; }

    // A new parameter of this module, requires_grad = true; the returned handle shares its value
    // and gradient with the registered one. Names are non-empty, contain no '.', and are unique
    // among this module's parameters and children.
    Tensor register_parameter(std::string name, Array value);

    // A buffer: state that is saved and loaded with the parameters but is not trained (no
    // gradient), such as BatchNorm's running statistics. Same naming rules; returns the handle.
    Tensor register_buffer(std::string name, Array value);

    // Adds a child module under `name` (same rules as parameter names) and returns it. The
    // module is a shared_ptr or a temporary, moved into one:
    //   auto fc = register_module("fc", nn::Linear(4, 2));   // std::shared_ptr<nn::Linear>
    template <class M>
    std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
        add_child(std::move(name), module);
        return module;
    }
    template <class M, class = std::enable_if_t<std::is_base_of_v<Module, M> &&
                                                !std::is_lvalue_reference_v<M>>>
    std::shared_ptr<M> register_module(std::string name, M&& module) {
        return register_module(std::move(name), std::make_shared<M>(std::move(module)));
    }

    // Every parameter of the tree, each once (a parameter shared by two modules is listed under
    // its first name), in registration order: own parameters first, then each child's.
    std::vector<Tensor> parameters() const;
    std::vector<std::pair<std::string, Tensor>> named_parameters() const;
    // The number of scalars in parameters().
    std::size_t parameter_count() const;
    // Every buffer of the tree, named and ordered as the parameters are.
    std::vector<std::pair<std::string, Tensor>> named_buffers() const;
    const std::vector<std::pair<std::string, Tensor>>& own_buffers() const { return buffers_; }

    std::vector<std::shared_ptr<Module>> children() const;
    const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
        return children_;
    }
    // This module's own parameters, without its children's.
    const std::vector<std::pair<std::string, Tensor>>& own_parameters() const {
        return parameters_;
    }

    // Sets every parameter's gradient to zero.
    void zero_grad() const;

    // Training or evaluation mode, for this module and all its descendants (layers such as
    // dropout behave differently in each). Modules start in training mode.
    void train(bool on = true);
    void eval() { train(false); }
    bool is_training() const { return training_; }

    // Runs the model once under NoGrad on zeros of `input_shape` and prints one line per layer
    // called (its dotted name, type, output shape and parameter count), then the totals.
    void summary(std::ostream& out, const Shape& input_shape);
    std::string summary(const Shape& input_shape);

  private:
    void add_child(std::string name, std::shared_ptr<Module> module);
    void check_new_name(const std::string& name, const char* what) const;

    std::vector<std::pair<std::string, Tensor>> parameters_;
    std::vector<std::pair<std::string, Tensor>> buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
    bool training_ = true;
};

// The structure without shapes, as PyTorch's repr:
//   Sequential(
//     (0): Linear(in=784, out=10, bias=true)
//     (1): ReLU()
//   )
std::ostream& operator<<(std::ostream& out, const Module& module);

// summary() as a free function, for symmetry with operator<<.
void summary(std::ostream& out, Module& module, const Shape& input_shape);

}  // namespace tapegrad::nn
