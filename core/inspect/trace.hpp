// Seeing the tape: a recorder that keeps what backward() releases, and the tape as text.
//
// backward() frees each record as soon as it has used it, so the memory of one training step
// does not carry into the next. To look at a computation after the sweep, start a TapeRecorder
// first: while it lives, backward() copies a small summary of every record it releases (op,
// shapes, the numbers of small tensors, what the closure added to each input's gradient) and,
// once the sweep is over, the gradient of every tensor involved.
//
//     TapeRecorder recorder;                  // tracing on, for this thread's tape
//     recorder.name(w, "w");                  // optional: names read better than leaf1, #3
//     Tensor loss = squared_loss(sigmoid(w * x), target);
//     print_tape();                           // forward: index, op, input shapes, output shape
//     loss.backward();
//     print_tape();                           // and now each gradient's norm
//     for (const TracedRecord& r : recorder.records()) ...   // or read the numbers
//
// A listing reads
//
//     #0  p = mul(w, x)  [1] [1] -> [1]  = 1.5  |grad| out 0.07  in 0.105 -
//
// record #0 multiplied w by x (both of shape [1]) into p = 1.5; after the sweep |dL/dp| = 0.07,
// |dL/dw| = 0.105 (0.07 times x = 1.5) and x has no gradient ("-": it does not require one).
// Inputs are called by the name given to name(), else #k (the output of record k), else leaf1,
// leaf2, ... (leaves numbered in order of first use). The listing prints the value of one-element
// outputs only; TracedTensor holds the numbers of every tensor of up to
// TraceOptions::max_elements elements.
//
// Without a recorder nothing is kept and backward() pays one branch per record. A recorder
// traces the tape of the thread that created it; recorders nest (the innermost one records).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../sweep.hpp"
#include "../tape.hpp"
#include "../tensor.hpp"

namespace tapegrad {

namespace detail {
struct PendingRecord;  // a record as the sweep saw it (core/inspect/trace.cpp)
}

// What the trace holds where it kept no numbers: an array of shape [0] (a default-constructed
// xarray is not empty: it is a 0-d scalar of one element).
inline Array not_kept() { return Array::from_shape({0}); }

struct TraceOptions {
    // Tensors with at most this many elements keep their value, gradient and the gradient each
    // record sent them; larger ones keep their shape and gradient norm only.
    std::size_t max_elements = 16;
};

// What the trace keeps of one tensor as a record saw it.
struct TracedTensor {
    std::string label;           // its name, else #k (the output of record k), else leafN
    std::string name;            // given with TapeRecorder::name, else ""
    std::uint64_t creator = 0;   // seq of the record that produced it; 0 for a leaf
    std::size_t leaf = 0;        // leaves: 1, 2, ... in order of first use in the listing
    Shape shape;
    bool requires_grad = false;
    Array value = not_kept();    // when it has at most max_elements elements
    bool has_grad = false;       // whether a gradient reached it
    double grad_norm = 0.0;      // sqrt(sum of squares) of its gradient after the sweep
    Array grad = not_kept();     // after the sweep, when small
    int same_as = -1;            // an input slot: the earlier slot of the same record holding
                                 // the same tensor (as in b * b), else -1
    std::uintptr_t id = 0;       // tells tensors apart within one sweep's records (the address
                                 // of its node, which those records hold: not a handle to it)
};

// What the trace keeps of one record.
struct TracedRecord {
    std::size_t index = 0;       // position on the tape, as print_tape() showed it before
    std::uint64_t seq = 0;       // position in the thread's history (unique)
    std::string op;
    std::vector<TracedTensor> inputs;
    TracedTensor output;
    bool reached = false;        // false: backward() has not run it (a snapshot of the tape)
    // What this record's closure added to each input's gradient (dx), when the input is small
    // and requires a gradient; else not_kept(). For an input repeated in the same record
    // (same_as), the first slot holds the sum and the repeated slot is not_kept().
    std::vector<Array> dx;
    std::size_t sweep = 0;       // which backward() under this recorder: 1, 2, ... (0: a
                                 // snapshot of records backward() has not run yet)
};

// RAII: traces backward() on the calling thread's tape while it lives: a listener of its sweeps
// (core/sweep.hpp).
class TapeRecorder : public SweepListener {
  public:
    explicit TapeRecorder(TraceOptions options = {});
    ~TapeRecorder() override;
    TapeRecorder(const TapeRecorder&) = delete;
    TapeRecorder& operator=(const TapeRecorder&) = delete;

    // Names a tensor for listings and graphs ("w1", "loss"). Any tensor: a leaf or an output.
    void name(const Tensor& t, std::string name);
    // The name given to this node here, else by the recorder this one nests in, else "".
    std::string name_of(const Node& node) const;

    // Every record a backward() ran since the recorder started (or since clear()), in
    // forward order within each sweep, sweeps in order.
    const std::vector<TracedRecord>& records() const { return records_; }
    // The records of the most recent sweep.
    std::vector<TracedRecord> last_sweep() const;
    std::size_t sweeps() const { return sweeps_; }
    void clear();

    const TraceOptions& options() const { return options_; }

    // SweepListener: what each sweep does, noted while this recorder is the tape's innermost.
    void before_record(Sweep& sweep, std::size_t index, const Record& r) override;
    void after_record(Sweep& sweep, std::size_t index, const Record& r) override;
    void failed(Sweep& sweep) override;
    void ended(Sweep& sweep) override;

  private:
    bool recording() const;
    detail::PendingRecord& begin(std::size_t index, const Record& r, bool reached);

    TraceOptions options_;
    Tape* tape_;
    TapeRecorder* previous_;
    std::vector<detail::PendingRecord> pending_;  // held until the sweep has ended
    std::vector<Array> before_;                   // the current record's inputs' gradients
    std::vector<bool> watched_;                   // ... for the inputs whose dx it keeps
    std::vector<TracedRecord> records_;
    std::size_t sweeps_ = 0;
    std::unordered_map<const Node*, std::pair<std::weak_ptr<Node>, std::string>> names_;
};

// The records still on a tape (forward passes not yet run backward), as a trace without
// gradients (unless one was seeded). Names come from the tape's recorder, if it has one.
std::vector<TracedRecord> snapshot(const Tape& tape, const TraceOptions& options = {});

// One line per record: index, [name =] op(inputs), input shapes -> output shape, the value of
// one-element outputs, and, once backward has run, the gradient norms of output and inputs.
void print_records(std::ostream& out, const std::vector<TracedRecord>& records);

}  // namespace tapegrad
