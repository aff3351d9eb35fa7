#include "leaf_listener.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "tape.hpp"

namespace tapegrad {

LeafListener::LeafListener() : tape_(&Tape::current()) {
    for (SweepListener* l : tape_->listeners())
        if (dynamic_cast<LeafListener*>(l))
            throw std::logic_error("another leaf listener (a GradReducer?) already watches this "
                                   "thread's backward()");
    tape_->add_listener(this);
}

LeafListener::~LeafListener() { tape_->remove_listener(this); }

// The last record to add to a leaf's gradient is the earliest one (lowest index) at or below the
// root's that takes it as an input, so the sweep is done with it once it moves below that index.
void LeafListener::started(Sweep& sweep) {
    reporting_ = sweep.into_grad();
    if (!reporting_) return;
    if (sweep.creates_graph())
        throw std::logic_error("backward: create_graph is not supported while a gradient "
                               "listener (such as distributed::GradReducer) watches this thread's "
                               "sweeps; use grad() for the inner gradients");
    const std::vector<Tensor>& leaves = watched();
    std::unordered_map<const Node*, std::size_t> index;
    for (std::size_t k = 0; k < leaves.size(); ++k) index.emplace(leaves[k].node().get(), k);
    first_use_.assign(leaves.size(), unused);
    for (std::size_t i = 0; !sweep.root_is_leaf() && i <= sweep.root_index(); ++i) {
        const Record& r = sweep.tape()[i];
        for (std::size_t j = 0; j < r.inputs.size(); ++j) {
            auto it = index.find(r.inputs[j].node().get());
            if (it != index.end() && first_use_[it->second] == unused) first_use_[it->second] = i;
        }
    }
    order_.resize(leaves.size());
    for (std::size_t k = 0; k < leaves.size(); ++k) order_[k] = k;
    std::stable_sort(order_.begin(), order_.end(), [this](std::size_t a, std::size_t b) {
        return first_use_[a] + 1 > first_use_[b] + 1;  // unused (the largest) + 1 wraps to 0
    });
    next_ = 0;
}

// Record `index` is about to run: every leaf first used above it is complete.
void LeafListener::before_record(Sweep& sweep, std::size_t index, const Record&) {
    while (reporting_ && next_ < order_.size() && first_use_[order_[next_]] != unused &&
           first_use_[order_[next_]] > index)
        report(sweep, order_[next_++]);
}

void LeafListener::finished(Sweep& sweep) {
    if (!reporting_) return;
    while (next_ < order_.size()) report(sweep, order_[next_++]);
    finish();
}

void LeafListener::failed(Sweep&) {
    if (reporting_ && next_ > 0) abandon();
    reporting_ = false;
}

void LeafListener::report(Sweep& sweep, std::size_t k) {
    ready(k, sweep.arriving_or_zeros(watched()[k].node()));  // not reached: zeros
}

}  // namespace tapegrad
