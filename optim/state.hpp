// What an optimizer or a scheduler saves to continue a run exactly, and how it reads it back.
//
// A State is a list of named, typed arrays: the optimizer.* and scheduler.* entries of a
// checkpoint (optim/checkpoint.hpp). Optimizers save float32: each setting as one number, and
// per parameter i a moment or buffer named "kind.i"; schedulers save int64 counters and float64
// rates. StateReader reads one back inside load_state: each entry is checked when it is asked
// for, with an error naming it, and finish() refuses any entry nobody asked for, so a state is
// taken whole or not at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "../data/formats/npz.hpp"

namespace tapegrad::optim {

class State {
  public:
    using Entry = std::pair<std::string, TypedArray>;
    State() = default;
    State(NamedTypedArrays entries) : entries_(std::move(entries)) {}  // NOLINT: a file's entries
    State(const NamedArrays& entries);                                 // NOLINT: float32 entries
    State(std::initializer_list<Entry> entries) : entries_(entries) {}

    void put(const std::string& name, TypedArray value);
    void put(const std::string& name, float value);                 // one float32 number
    void put_float64(const std::string& name, double value);        // one float64 number
    void put_int64(const std::string& name, std::int64_t value);    // one int64 number

    std::size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }
    NamedTypedArrays::const_iterator begin() const { return entries_.begin(); }
    NamedTypedArrays::const_iterator end() const { return entries_.end(); }
    const Entry& back() const { return entries_.back(); }
    const NamedTypedArrays& entries() const { return entries_; }
    // The float32 array `name` (null when there is none, or it has another dtype).
    const Array* find(const std::string& name) const;

  private:
    NamedTypedArrays entries_;
};

class StateReader {
  public:
    // `who` starts every error ("Adam.load_state"); per-parameter entries may name parameters
    // 0 .. params - 1. Refuses a name given twice.
    StateReader(const State& state, std::string who, std::size_t params = 0);

    bool has(const std::string& name) const;
    // One float32 number, or `otherwise` when the state has no `name`.
    float float32(const std::string& name, float otherwise) const;
    // A float32 array of any shape, or null when the state has no `name`.
    const Array* float32s(const std::string& name) const;
    // One number of this dtype, which the state must have.
    std::int64_t int64(const std::string& name) const;
    double float64(const std::string& name) const;
    // A float64 vector of `count` numbers, which the state must have.
    const xt::xarray<double>& float64s(const std::string& name, std::size_t count) const;
    // Parameter i's float32 array "kind.i" of `shape` (null when absent); the number variant
    // reads a one-number entry (a step count) and returns whether it was there.
    const Array* per_param(const std::string& kind, std::size_t i, const Shape& shape) const;
    bool per_param_number(const std::string& kind, std::size_t i, float& value) const;

    // Refuses the first entry nothing asked for, naming the entries that are known.
    void finish() const;
    [[noreturn]] void fail(const std::string& what) const;  // "<who>: <what>"

  private:
    const TypedArray* take(const std::string& name) const;  // marks it known; null if absent
    // "kind.i", marking the kind known (as "kind.<i>") and the entry read; null if absent.
    const TypedArray* per_param_entry(const std::string& kind, std::size_t i) const;
    template <class T>
    const xt::xarray<T>& one_of(const std::string& name, const char* dtype) const;

    std::string who_;
    std::size_t params_;
    std::map<std::string, const TypedArray*> entries_;
    std::vector<std::string> order_;          // the entries' names as saved
    mutable std::set<std::string> asked_;     // names asked for (kinds as "kind.<i>")
    mutable std::vector<std::string> known_;  // the same, in the order asked
};

}  // namespace tapegrad::optim
