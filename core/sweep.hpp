// The reverse sweep: what one backward() (or grad()) does, and who may watch it.
//
// A Sweep holds the state of one backward, as LibTorch's GraphTask does: which nodes it has
// reached, how many records it still waits for, what grad() asked to capture. Its loop
// (Sweep::run_records, quoted in docs/how_it_works.md) goes from the root's record down the tape
// and runs each record a gradient reached; core/tape.hpp's essay says why that order is enough.
//
// A SweepListener is told what a sweep does, in order; the TapeRecorder (core/inspect/trace.hpp)
// and distributed::GradReducer are listeners. Add one with Tape::add_listener.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "tensor.hpp"
#include "tensor_list.hpp"

namespace tapegrad {

class Tape;
struct Record;
class Sweep;

class SweepListener {
  public:
    virtual ~SweepListener() = default;
    // Before the first record runs; the root's gradient is seeded. May throw to refuse the
    // sweep: nothing has changed yet.
    virtual void started(Sweep&) {}
    // Record `index` of the tape is about to run (its output's gradient is complete), and has
    // just run.
    virtual void before_record(Sweep&, std::size_t /*index*/, const Record&) {}
    virtual void after_record(Sweep&, std::size_t /*index*/, const Record&) {}
    // Every record has run; the leaves' gradients are complete but not yet added to grad().
    virtual void finished(Sweep&) {}
    // The sweep threw (a record's backward, or a listener): no grad() will change.
    virtual void failed(Sweep&) {}
    // Last, whether it succeeded or not: the gradients are in grad() (or were dropped).
    virtual void ended(Sweep&) {}
};

// Whether backward() runs an op's fast path (its derivative written on arrays, Record in
// core/tape.hpp) where it has one. Off, it runs the tensor form everywhere, as create_graph does.
// On unless TAPEGRAD_FAST_PATHS leaves "derivatives" out (backend/fast_paths.hpp); the tests
// compare the two forms of every op.
void use_fast_derivatives(bool on);
bool fast_derivatives();

class Sweep {
  public:
    // The sweep from `root` on `tape`; with `captured` (grad()), the gradients of those nodes are
    // returned instead of added to grad(). run() does the work.
    Sweep(Tape& tape, const std::shared_ptr<Node>& root, const GradOptions& options,
          const std::vector<const Node*>& captured);
    Sweep(const Sweep&) = delete;
    Sweep& operator=(const Sweep&) = delete;

    // Seeds the root with `dy`, runs the records and hands the leaves their gradients. Returns
    // the captured nodes' gradients (null where none arrived).
    std::vector<std::shared_ptr<Node>> run(Array dy);

    // For listeners.
    const Tape& tape() const { return tape_; }
    std::size_t root_index() const { return end_; }  // the root's record (0 for a leaf root)
    bool root_is_leaf() const { return root_->is_leaf(); }
    bool creates_graph() const { return create_; }
    bool into_grad() const { return captured_.empty(); }
    // The gradient summed so far for `node` in this sweep, or null if none arrived.
    const Array* arriving(const Node& node) const;
    // The same, made zeros if none arrived yet (the node counts as reached from then on).
    Array& arriving_or_zeros(const std::shared_ptr<Node>& node);

    // Adds `dx` to what arrives at `node` (Tensor::accumulate_grad sends here during a sweep).
    void add(const std::shared_ptr<Node>& node, const Tensor& dx);

  private:
    void run_records();
    void run_record(std::size_t i);
    Grads derive(const Record& r, const Tensor& y, const Tensor& dy);
    void check_inputs_alive(const Record& r) const;
    void reach(const std::shared_ptr<Node>& node);
    // Whether an op output keeps its gradient for grad() (retain_grad(), or a recorder watching).
    bool keeps(const Node& n) const { return n.retains_grad || (keep_all_ && !create_); }
    void capture(const Node& node, const std::shared_ptr<Node>& g);
    void hand_over();
    void roll_back();
    void drop_released();
    template <class F>
    void tell(F&& f);

    Tape& tape_;
    std::shared_ptr<Node> root_;
    std::size_t end_ = 0;        // the root's record index
    std::size_t lowest_ = 0;     // the lowest record index reached
    std::uint64_t id_ = 0;
    bool create_, keep_graph_;
    bool keep_all_;              // a recorder watches: every output keeps its gradient
    std::size_t waiting_ = 0;    // op outputs reached whose record has not run
    std::size_t released_ = 0;   // records run and let go of
    // Leaves and outputs that keep their gradient, reached by this sweep: handed over at the end.
    std::vector<std::shared_ptr<Node>> keepers_;
    std::vector<const Node*> captured_;
    std::vector<std::shared_ptr<Node>> result_;
};

}  // namespace tapegrad
