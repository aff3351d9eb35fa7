// A sweep listener told when the gradient of each of some leaves is complete: when no record still
// to run adds to it. distributed::GradReducer is one: it sends each gradient to the other
// processes while the rest of the sweep still runs.
//
// A watched leaf the sweep does not reach gets a zero gradient, so every sweep reports every
// leaf, in the same way on every process. Only sweeps that sum into grad() are reported (grad()'s
// are not), and a create_graph backward() is refused while one listens. One per thread's tape.
#pragma once

#include <cstddef>
#include <limits>
#include <vector>

#include "sweep.hpp"

namespace tapegrad {

class LeafListener : public SweepListener {
  public:
    // Listens to the calling thread's tape while it lives.
    LeafListener();
    ~LeafListener() override;
    LeafListener(const LeafListener&) = delete;
    LeafListener& operator=(const LeafListener&) = delete;

    // The leaves watched; ready(k, ...) refers to watched()[k]. Fixed while it listens.
    virtual const std::vector<Tensor>& watched() const = 0;
    // Leaf k's gradient from this sweep is complete; `dx` may be changed in place (what it holds
    // when finish() returns is what is added to grad()).
    virtual void ready(std::size_t k, Array& dx) = 0;
    // After the last ready() of the sweep, before the gradients are added to grad().
    virtual void finish() = 0;
    // The sweep threw after ready() calls began: forget them (the arrays they gave are gone).
    virtual void abandon() {}

    void started(Sweep& sweep) override;
    void before_record(Sweep& sweep, std::size_t index, const Record& r) override;
    void finished(Sweep& sweep) override;
    void failed(Sweep& sweep) override;

  private:
    static constexpr std::size_t unused = std::numeric_limits<std::size_t>::max();
    void report(Sweep& sweep, std::size_t k);

    Tape* tape_;
    bool reporting_ = false;              // the running sweep is one this listener reports
    std::vector<std::size_t> first_use_;  // per leaf: the lowest record index using it
    std::vector<std::size_t> order_;      // leaves by first use, highest first
    std::size_t next_ = 0;                // order_[0 .. next_) reported
};

}  // namespace tapegrad
