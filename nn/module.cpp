#include "module.hpp"

#include <algorithm>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include <xtensor/xbuilder.hpp>

#include "../core/tape.hpp"

namespace tapegrad::nn {

namespace {

// While summary() runs, every module call on this thread is noted here, in call order: that is
// how the summary sees the layers inside any module, not only inside a Sequential.
struct Call {
    const Module* module;
    Shape output;
};
thread_local std::vector<Call>* active_calls = nullptr;
thread_local CallWatcher* call_watcher = nullptr;  // the innermost
constexpr std::size_t not_noted = static_cast<std::size_t>(-1);

// The parameters (or the buffers) of a tree, each once, by dotted path.
void collect(const Module& m, const std::string& prefix, bool buffers,
             std::vector<std::pair<std::string, Tensor>>& out,
             std::unordered_set<const Node*>& seen) {
    for (const auto& [name, p] : buffers ? m.own_buffers() : m.own_parameters())
        if (seen.insert(p.node().get()).second) out.emplace_back(prefix + name, p);
    for (const auto& [name, child] : m.named_children())
        collect(*child, prefix + name + ".", buffers, out, seen);
}

void collect_modules(const Module& m, const std::string& path,
                     std::unordered_map<const Module*, std::string>& names) {
    names.emplace(&m, path);  // the first path wins for a module registered twice
    for (const auto& [name, child] : m.named_children())
        collect_modules(*child, path.empty() ? name : path + "." + name, names);
}

bool contains(const Module& tree, const Module* m) {
    if (&tree == m) return true;
    for (const auto& [name, child] : tree.named_children())
        if (contains(*child, m)) return true;
    return false;
}

std::size_t own_count(const Module& m) {
    std::size_t n = 0;
    for (const auto& [name, p] : m.own_parameters()) n += p.size();
    return n;
}

void print(std::ostream& out, const Module& m, const std::string& indent) {
    out << m.type_name() << '(' << m.extra_repr();
    if (m.named_children().empty()) {
        out << ')';
        return;
    }
    const std::string inner = indent + "  ";
    if (!m.extra_repr().empty()) out << ',';
    out << '\n';
    for (const auto& [name, child] : m.named_children()) {
        out << inner << '(' << name << "): ";
        print(out, *child, inner);
        out << '\n';
    }
    out << indent << ')';
}

}  // namespace

CallWatcher::CallWatcher() : previous_(call_watcher) { call_watcher = this; }
CallWatcher::~CallWatcher() { call_watcher = previous_; }

bool Module::recording_calls() { return active_calls != nullptr || call_watcher != nullptr; }

Tensor Module::operator()(const Tensor& x) {
    return call([&] { return forward(x); });
}

Tensor Module::forward(const Tensor&) {
    throw std::logic_error(type_name() + ": this module has no forward of one tensor; call it "
                           "with the arguments its forward takes, model(x, ...)");
}

std::size_t Module::begin_call() {
    if (!active_calls) return not_noted;
    active_calls->push_back({this, {}});
    return active_calls->size() - 1;
}

void Module::end_call(std::size_t call, const Tensor& output) {
    if (active_calls && call != not_noted && output.defined()) (*active_calls)[call].output = output.shape();
    if (call_watcher) call_watcher->called(*this, output);
}

void Module::check_new_name(const std::string& name, const char* what) const {
    if (name.empty() || name.find('.') != std::string::npos)
        throw std::invalid_argument(std::string("register_") + what + ": the name '" + name +
                                    "' is not allowed: names must be non-empty and contain no "
                                    "'.' (dots separate the levels of a path like 'fc1.weight')");
    auto taken = [&](const auto& list) {
        return std::any_of(list.begin(), list.end(),
                           [&](const auto& entry) { return entry.first == name; });
    };
    if (taken(parameters_) || taken(buffers_) || taken(children_))
        throw std::invalid_argument(std::string("register_") + what + ": " + type_name() +
                                    " already has a parameter, buffer or module named '" + name +
                                    "'; pick another name");
}

Tensor Module::register_parameter(std::string name, Array value) {
    check_new_name(name, "parameter");
    Tensor p(std::move(value), true);
    parameters_.emplace_back(std::move(name), p);
    return p;
}

Tensor Module::register_buffer(std::string name, Array value) {
    check_new_name(name, "buffer");
    Tensor b(std::move(value), false);
    buffers_.emplace_back(std::move(name), b);
    return b;
}

void Module::add_child(std::string name, std::shared_ptr<Module> module) {
    check_new_name(name, "module");
    if (!module)
        throw std::invalid_argument("register_module: the module for '" + name + "' is null");
    if (contains(*module, this))
        throw std::invalid_argument("register_module: '" + name + "' would contain its own "
                                    "parent; a module tree cannot have cycles");
    children_.emplace_back(std::move(name), std::move(module));
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
    std::vector<std::pair<std::string, Tensor>> out;
    std::unordered_set<const Node*> seen;
    collect(*this, "", false, out, seen);
    return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
    std::vector<std::pair<std::string, Tensor>> out;
    std::unordered_set<const Node*> seen;
    collect(*this, "", true, out, seen);
    return out;
}

std::vector<Tensor> Module::parameters() const {
    std::vector<Tensor> out;
    for (auto& [name, p] : named_parameters()) out.push_back(p);
    return out;
}

std::size_t Module::parameter_count() const {
    std::size_t n = 0;
    for (const Tensor& p : parameters()) n += p.size();
    return n;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
    std::vector<std::shared_ptr<Module>> out;
    for (const auto& [name, child] : children_) out.push_back(child);
    return out;
}

void Module::zero_grad() const {
    for (const Tensor& p : parameters()) p.zero_grad();
}

void Module::train(bool on) {
    training_ = on;
    for (auto& [name, child] : children_) child->train(on);
}

void Module::summary(std::ostream& out, const Shape& input_shape) {
    print_summary(out, [&] { (*this)(Tensor(xt::zeros<float>(input_shape))); }, shape_str(input_shape));
}

void Module::summary(std::ostream& out, const std::function<void()>& run) {
    print_summary(out, run, "(the example inputs)");
}

void Module::print_summary(std::ostream& out, const std::function<void()>& run,
                           const std::string& input) {
    std::vector<Call> calls;
    {
        NoGrad no_grad;
        std::vector<Call>* outer = active_calls;
        active_calls = &calls;
        try {
            run();
        } catch (...) {
            active_calls = outer;
            throw;
        }
        active_calls = outer;
    }

    std::unordered_map<const Module*, std::string> names;
    collect_modules(*this, "", names);

    // A line for every layer that was called: modules without children, and any module that
    // holds parameters of its own. The root appears only when it is such a layer itself.
    struct Line {
        std::string name, shape, params;
    };
    std::vector<Line> lines{{"input", input, ""}};
    for (const Call& call : calls) {
        const Module& m = *call.module;
        if (!m.named_children().empty() && m.own_parameters().empty()) continue;
        auto found = names.find(&m);
        const std::string path = found == names.end() ? "?" : found->second;
        lines.push_back({(path.empty() ? "" : path + " ") + "(" + m.type_name() + ")",
                         shape_str(call.output), std::to_string(own_count(m))});
    }

    std::size_t name_w = std::string("Layer (type)").size(), shape_w = 12, param_w = 6;
    for (const Line& l : lines) {
        name_w = std::max(name_w, l.name.size());
        shape_w = std::max(shape_w, l.shape.size());
        param_w = std::max(param_w, l.params.size());
    }
    const std::string rule(name_w + shape_w + param_w + 4, '-');
    auto row = [&](const std::string& a, const std::string& b, const std::string& c) {
        std::ostringstream line;
        line << std::left << std::setw(static_cast<int>(name_w)) << a << "  "
             << std::setw(static_cast<int>(shape_w)) << b << "  " << std::right
             << std::setw(static_cast<int>(param_w)) << c;
        std::string text = line.str();
        text.erase(text.find_last_not_of(' ') + 1);
        out << text << '\n';
    };
    row("Layer (type)", "Output shape", "Params");
    out << rule << '\n';
    for (const Line& l : lines) row(l.name, l.shape, l.params);
    out << rule << '\n';
    std::size_t trainable = 0;
    for (const Tensor& p : parameters())
        if (p.requires_grad()) trainable += p.size();
    out << "Total params: " << parameter_count() << '\n'
        << "Trainable params: " << trainable << '\n';
    std::size_t buffered = 0;
    for (const auto& [name, b] : named_buffers()) buffered += b.size();
    if (buffered) out << "Buffers: " << buffered << " values (saved with the parameters)\n";
}

std::string Module::summary(const Shape& input_shape) {
    std::ostringstream out;
    summary(out, input_shape);
    return out.str();
}

std::ostream& operator<<(std::ostream& out, const Module& module) {
    print(out, module, "");
    return out;
}

void summary(std::ostream& out, Module& module, const Shape& input_shape) {
    module.summary(out, input_shape);
}

}  // namespace tapegrad::nn
