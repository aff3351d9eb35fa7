#include "state.hpp"

#include <stdexcept>

namespace tapegrad::optim {

State::State(const NamedArrays& entries) {
    for (const auto& [name, value] : entries) entries_.emplace_back(name, value);
}

void State::put(const std::string& name, TypedArray value) {
    entries_.emplace_back(name, std::move(value));
}
void State::put(const std::string& name, float value) { put(name, Array{value}); }
void State::put_float64(const std::string& name, double value) {
    put(name, xt::xarray<double>(value));
}
void State::put_int64(const std::string& name, std::int64_t value) {
    put(name, xt::xarray<std::int64_t>(value));
}

const Array* State::find(const std::string& name) const {
    for (const auto& [key, value] : entries_)
        if (key == name) return std::get_if<Array>(&value);
    return nullptr;
}

namespace {

std::string described(const TypedArray& value) {
    return std::string(dtype_name(dtype_of(value))) + " " + shape_str(shape_of(value));
}

}  // namespace

StateReader::StateReader(const State& state, std::string who, std::size_t params)
    : who_(std::move(who)), params_(params) {
    for (const auto& [name, value] : state) {
        if (!entries_.emplace(name, &value).second) fail("'" + name + "' appears twice");
        order_.push_back(name);
    }
}

void StateReader::fail(const std::string& what) const {
    throw std::invalid_argument(who_ + ": " + what);
}

const TypedArray* StateReader::take(const std::string& name) const {
    if (asked_.insert(name).second) known_.push_back(name);
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : it->second;
}

bool StateReader::has(const std::string& name) const { return take(name) != nullptr; }

float StateReader::float32(const std::string& name, float otherwise) const {
    const TypedArray* value = take(name);
    if (!value) return otherwise;
    const Array* a = std::get_if<Array>(value);
    if (!a || a->size() != 1)
        fail("'" + name + "' must hold one number (float32), but it is " + described(*value));
    return *a->begin();
}

const Array* StateReader::float32s(const std::string& name) const {
    const TypedArray* value = take(name);
    if (!value) return nullptr;
    const Array* a = std::get_if<Array>(value);
    if (!a) fail("'" + name + "' must be float32, but it is " + described(*value));
    return a;
}

template <class T>
const xt::xarray<T>& StateReader::one_of(const std::string& name, const char* dtype) const {
    const TypedArray* value = take(name);
    if (!value) fail("the state has no '" + name + "'");
    const auto* a = std::get_if<xt::xarray<T>>(value);
    if (!a) fail("'" + name + "' must be " + dtype + ", but it is " + described(*value));
    return *a;
}

std::int64_t StateReader::int64(const std::string& name) const {
    const auto& a = one_of<std::int64_t>(name, "one int64 number");
    if (a.size() != 1) fail("'" + name + "' must be one int64 number, but it is " + described(a));
    return *a.begin();
}

double StateReader::float64(const std::string& name) const {
    const auto& a = one_of<double>(name, "one float64 number");
    if (a.size() != 1) fail("'" + name + "' must be one float64 number, but it is " + described(a));
    return *a.begin();
}

const xt::xarray<double>& StateReader::float64s(const std::string& name, std::size_t count) const {
    const std::string want = "float64 [" + std::to_string(count) + "]";
    const auto& a = one_of<double>(name, want.c_str());
    if (a.dimension() != 1 || a.size() != count)
        fail("'" + name + "' must be " + want + ", but it is " + described(a));
    return a;
}

const TypedArray* StateReader::per_param_entry(const std::string& kind, std::size_t i) const {
    if (asked_.insert(kind + ".<i>").second) known_.push_back(kind + ".<i>");
    const std::string name = kind + "." + std::to_string(i);
    auto it = entries_.find(name);
    if (it == entries_.end()) return nullptr;
    asked_.insert(name);
    return it->second;
}

const Array* StateReader::per_param(const std::string& kind, std::size_t i,
                                    const Shape& shape) const {
    const TypedArray* value = per_param_entry(kind, i);
    if (!value) return nullptr;
    const std::string name = kind + "." + std::to_string(i);
    const Array* a = std::get_if<Array>(value);
    if (!a) fail("'" + name + "' must be float32, but it is " + described(*value));
    if (Shape(a->shape().begin(), a->shape().end()) != shape)
        fail("'" + name + "' has shape " + shape_str(a->shape()) + ", but parameter " +
             std::to_string(i) + " has shape " + shape_str(shape));
    return a;
}

bool StateReader::per_param_number(const std::string& kind, std::size_t i, float& value) const {
    const TypedArray* entry = per_param_entry(kind, i);
    if (!entry) return false;
    const Array* a = std::get_if<Array>(entry);
    if (!a || a->size() != 1)
        fail("'" + kind + "." + std::to_string(i) + "' must hold one number (float32), but it is " +
             described(*entry));
    value = *a->begin();
    return true;
}

void StateReader::finish() const {
    for (const std::string& name : order_) {
        if (asked_.count(name)) continue;
        // "kind.i" of a known kind, for a parameter this optimizer does not have.
        const std::size_t dot = name.rfind('.');
        if (dot != std::string::npos && asked_.count(name.substr(0, dot) + ".<i>")) {
            const std::string index = name.substr(dot + 1);
            if (!index.empty() && index.size() < 10 &&
                index.find_first_not_of("0123456789") == std::string::npos)
                fail("'" + name + "' is for parameter " + index + ", but this optimizer has " +
                     std::to_string(params_) + " parameters");
        }
        std::string known;
        for (std::size_t k = 0; k < known_.size(); ++k)
            known += (k == 0 ? "" : k + 1 == known_.size() ? " and " : ", ") + known_[k];
        fail("'" + name + "' is not a known entry; the known ones are " + known);
    }
}

}  // namespace tapegrad::optim
