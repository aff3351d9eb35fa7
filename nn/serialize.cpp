#include "serialize.hpp"

#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>
#include <type_traits>
#include <variant>
#include <set>
#include <stdexcept>

namespace tapegrad::nn {

namespace {

Shape shape_of(const Array& a) { return Shape(a.shape().begin(), a.shape().end()); }

}  // namespace

namespace {

// What a saved model holds: the parameters, then the buffers.
std::vector<std::pair<std::string, Tensor>> saved_tensors(const Module& module) {
    auto all = module.named_parameters();
    for (auto& entry : module.named_buffers()) all.push_back(std::move(entry));
    return all;
}

}  // namespace

NamedArrays parameter_arrays(const Module& module) {
    NamedArrays out;
    for (const auto& [name, p] : saved_tensors(module)) out.emplace_back(name, p.value());
    return out;
}

void assign_parameters(Module& module, const NamedArrays& arrays, const std::string& source) {
    const auto params = saved_tensors(module);
    std::map<std::string, const Array*> given;
    std::vector<std::string> problems;
    for (const auto& [name, array] : arrays)
        if (!given.emplace(name, &array).second)
            problems.push_back("'" + name + "' appears more than once");

    std::set<std::string> wanted;
    std::vector<Array> values;  // copied first, so the assignment below cannot fail half-way
    for (const auto& [name, p] : params) {
        wanted.insert(name);
        const auto found = given.find(name);
        if (found == given.end()) {
            problems.push_back("missing from " + source + ": '" + name + "' " +
                               shape_str(p.shape()));
            continue;
        }
        const Shape have = shape_of(*found->second), want = p.shape();
        if (have != want)
            problems.push_back("shape differs for '" + name + "': " + shape_str(have) +
                               " in " + source + ", " + shape_str(want) + " in the model");
        else
            values.push_back(*found->second);
    }
    for (const auto& [name, array] : arrays)
        if (!wanted.count(name))
            problems.push_back("not in the model: '" + name + "' " + shape_str(array.shape()));
    if (!problems.empty()) {
        std::string msg = "load: " + source + " does not match the model (" +
                          std::to_string(problems.size()) +
                          (problems.size() == 1 ? " problem" : " problems") +
                          "); the model is unchanged:";
        for (const std::string& p : problems) msg += "\n  " + p;
        throw std::runtime_error(msg);
    }
    for (std::size_t i = 0; i < params.size(); ++i)
        params[i].second.mutable_value() = std::move(values[i]);
}

void save(const Module& module, const std::string& path) {
    save_arrays(path, parameter_arrays(module));
}

namespace {

// How many values of `a` do not survive the trip to float32 and back, and the first of them.
template <class T>
std::size_t inexact(const xt::xarray<T>& a, double& first) {
    std::size_t count = 0;
    for (const T v : a) {
        const float f = static_cast<float>(v);
        const bool exact = std::isnan(static_cast<double>(v)) ||
                           static_cast<double>(f) == static_cast<double>(v);
        if (!exact && count++ == 0) first = static_cast<double>(v);
    }
    return count;
}

}  // namespace

NamedArrays float32_arrays(const NamedTypedArrays& arrays, const std::string& source) {
    NamedArrays out;
    std::vector<std::string> problems;
    for (const auto& [name, typed] : arrays) {
        double first = 0.0;
        std::size_t bad = 0;
        Array a = std::visit(
            [&](const auto& x) -> Array {
                using T = typename std::decay_t<decltype(x)>::value_type;
                if constexpr (!std::is_same_v<T, float>) bad = inexact(x, first);
                return xt::cast<float>(x);
            },
            typed);
        if (bad > 0) {
            std::ostringstream msg;
            msg << "'" << name << "' is " << dtype_name(dtype_of(typed)) << " and " << bad
                << " of its " << a.size() << " values have no exact float32 (the first is "
                << std::setprecision(17) << first << ")";
            problems.push_back(msg.str());
        } else {
            out.emplace_back(name, std::move(a));
        }
    }
    if (!problems.empty()) {
        std::string msg = "load: " + source + " holds arrays that would change in float32; " +
                          "convert them before saving (in PyTorch: model.float()):";
        for (const std::string& p : problems) msg += "\n  " + p;
        throw std::runtime_error(msg);
    }
    return out;
}

void load(Module& module, const std::string& path) {
    const std::string source = "'" + path + "'";
    assign_parameters(module, float32_arrays(load_npz(path), source), source);
}

}  // namespace tapegrad::nn
