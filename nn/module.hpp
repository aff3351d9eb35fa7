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
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"

namespace tapegrad::nn {

// The tensor of a module's result that summary() shows the shape of: a Tensor, the first of a
// pair or tuple, a struct's `output`. A type of another form gets an overload beside it.
inline const Tensor& summary_output(const Tensor& t) { return t; }
template <class A, class B>
const Tensor& summary_output(const std::pair<A, B>& p) { return summary_output(p.first); }
template <class... T>
const Tensor& summary_output(const std::tuple<T...>& t) { return summary_output(std::get<0>(t)); }
template <class S>
auto summary_output(const S& s) -> decltype(summary_output(s.output)) { return summary_output(s.output); }

class Module;

// Sees every module call of the calling thread while it lives: module m's call has returned
// `output` (its main tensor, as summary() shows it). Watchers nest; the innermost one sees the
// calls. The gradient audit (nn/audit.hpp) reads activations through one.
class CallWatcher {
  public:
    CallWatcher();
    virtual ~CallWatcher();
    CallWatcher(const CallWatcher&) = delete;
    CallWatcher& operator=(const CallWatcher&) = delete;
    virtual void called(const Module& m, const Tensor& output) = 0;

  private:
    CallWatcher* previous_;
};

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
    // A module whose forward takes other arguments or returns more than one tensor defines that
    // forward instead, with TAPEGRAD_FORWARD_CALLS() for model(x, mask) (below); this one then
    // says so if called.
    virtual Tensor forward(const Tensor& x);
    Tensor operator()(const Tensor& x);
    // Runs f() as a call of this module (what operator() does, for any forward): summary()
    // lists it, with the shape of the result's main tensor (a Tensor, the first of a tuple or
    // pair, or a struct's `output`).
    template <class F>
    auto call(F&& f) -> decltype(f()) {
        if (!recording_calls()) return f();
        const std::size_t i = begin_call();
        auto result = f();
        end_call(i, summary_output(result));
        return result;
    }
    // Whether summary() or a CallWatcher is noting the calls on this thread (every layer must
    // then be called).
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
    // The same for any forward: `run` calls the model on example inputs (under NoGrad),
    //   vae.summary(std::cout, [&] { vae(x, eps); });
    void summary(std::ostream& out, const std::function<void()>& run);

  private:
    void print_summary(std::ostream& out, const std::function<void()>& run, const std::string& input);
    std::size_t begin_call();
    void end_call(std::size_t call, const Tensor& output);
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

// In a module whose forward has its own arguments or results, makes model(args...) call that
// forward as Module::call does:
//   struct VAE : nn::Module {
//       TAPEGRAD_FORWARD_CALLS()
//       std::tuple<Tensor, Tensor, Tensor> forward(const Tensor& x, const Tensor& eps);
//   };
//   auto [reconstruction, mu, logvar] = vae(x, eps);
#define TAPEGRAD_FORWARD_CALLS()                                                   \
    template <class... Args>                                                        \
    decltype(auto) operator()(Args&&... args) {                                     \
        return this->call([&] { return this->forward(std::forward<Args>(args)...); }); \
    }

// summary() as a free function, for symmetry with operator<<.
void summary(std::ostream& out, Module& module, const Shape& input_shape);

}  // namespace tapegrad::nn
