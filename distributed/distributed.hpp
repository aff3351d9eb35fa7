// Data-parallel training over several processes, on one machine or many, through MPI.
//
// Every process (rank) holds the whole model. Each step, every rank takes its contiguous shard of
// the same global batch (data/dataloader.hpp: DataLoader::Epoch::shard), runs forward and
// backward on it, and a GradReducer sums the ranks' gradients, each weighted by its shard's share
// of the batch, so that every rank ends the step with the gradient of the mean loss over the
// whole global batch, bit for bit the same on every rank. The optimizers then take the same step
// everywhere. So training on k processes follows the path of training on one:
//
//   distributed::Session session(argc, argv);                      // MPI_Init .. MPI_Finalize
//   auto model = make_model();
//   distributed::broadcast_parameters(session, *model);            // rank 0's initial weights everywhere
//   distributed::GradReducer reducer(session, model->parameters());
//   for (...) {
//       const Shard shard = shard_of(batch_size, session.rank(), session.size());
//       reducer.set_weight(shard.weight);
//       optimizer.zero_grad();
//       if (shard.size() > 0) loss_on(shard).backward();      // gradients leave during backward
//       else reducer.reduce_zeros();                          // an empty shard still takes part
//       optimizer.step();
//   }
//
// The reducer sends gradients in buckets while backward() still runs: the tape tells it
// (a LeafListener, core/leaf_listener.hpp) as soon as a parameter's gradient is complete, and a bucket
// starts once all its parameters are complete and every earlier bucket has started, so buckets
// start in the same order on every rank whatever the control flow. Parameters a step did not use
// take part with zeros.
//
// Built without MPI (TAPEGRAD_WITH_MPI off, or no MPI found), a Session cannot be made: its
// constructor says how to install MPI; available() tells beforehand. Only distributed/*.cpp includes
// <mpi.h>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../core/leaf_listener.hpp"
#include "../core/tape.hpp"
#include "../nn/module.hpp"
#include "../optim/optimizer.hpp"

namespace tapegrad::distributed {

// Whether this build of tapegrad has MPI.
bool available();
// What to install and how to rebuild, for messages ("apt-get install libopenmpi-dev ...").
std::string how_to_get_mpi();

// An error every rank detects together (different models, ranks that diverged): every rank
// throws it at the same point, so the job can end normally on all of them. Any other exception
// on one rank should end the whole job (Session::abort).
class CollectiveError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class Session {
  public:
    // MPI_Init_thread with MPI_THREAD_FUNNELED (only the thread that made the Session calls MPI;
    // tapegrad's own worker threads never do), unless MPI is already initialised; then a
    // duplicate of MPI_COMM_WORLD whose errors are returned and thrown as exceptions, not fatal.
    Session(int& argc, char**& argv);
    ~Session();  // frees the communicator; MPI_Finalize if this Session called MPI_Init
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    int rank() const;
    int size() const;
    // The ranks on this host, and this rank's place among them.
    int local_rank() const;
    int local_size() const;
    // Threads for this rank: the cores it may use (its CPU affinity), shared by the ranks of
    // this host when they are not bound to cores of their own; at least 1.
    std::size_t default_threads() const;

    void barrier() const;
    // True on every rank when `flag` is true on any (one small all-reduce): stops that all
    // ranks agree on.
    bool any(bool flag) const;
    // `value` from every rank, in rank order.
    std::vector<std::uint64_t> all_gather(std::uint64_t value) const;
    std::vector<double> all_gather(double value) const;
    // `values` (the same count on every rank) from every rank: rank 0's, then rank 1's, ...
    std::vector<double> all_gather(const std::vector<double>& values) const;
    // Rank root's bytes, on every rank.
    std::string broadcast(std::string bytes, int root = 0) const;
    // In place: `count` floats from rank root.
    void broadcast(float* data, std::size_t count, int root = 0) const;

    // Ends every process of the job now (MPI_Abort), after printing "rank r: message" to
    // stderr. For an error on one rank, which would otherwise leave the others waiting.
    [[noreturn]] void abort(const std::string& message, int code = 1) const;

    // How long a wait for the other ranks may last before this rank ends the job as hung
    // (default 300 s, or $TAPEGRAD_DIST_TIMEOUT seconds).
    void set_timeout(double seconds);
    double timeout() const;
    // Seconds this rank has spent waiting for communication to finish, in all.
    double wait_seconds() const;

    struct Impl;
    Impl& impl() const { return *impl_; }

  private:
    std::unique_ptr<Impl> impl_;
};

// A path to rank root's file `path` that this rank can read, with no shared file system: rank
// root reads it and sends its bytes; the others write them to `path` + ".rank<r>" and return
// that (the caller removes it once read). Rank root gets `path` back.
std::string local_copy(const Session& session, const std::string& path, int root = 0);

// Sends every parameter and buffer of `module` from rank `root` to the others. First checks that
// every rank has the same names and shapes, in the same order; if not, every rank throws a
// CollectiveError naming the first difference ("rank 1 has fc.weight [10, 30], rank 0 [10, 20]").
void broadcast_parameters(const Session& session, nn::Module& module, int root = 0);

// A 64-bit FNV-1a hash of the names, shapes and values of the module's parameters and buffers,
// and of the optimizer's state (when given): equal on every rank while they train in step.
std::uint64_t state_hash(const nn::Module& module, const optim::Optimizer* optimizer = nullptr);

// Throws a CollectiveError on every rank ("ranks diverged: ...") unless all ranks have the same
// state_hash: before rank 0 writes a checkpoint for all.
void check_same_state(const Session& session, const nn::Module& module,
                      const optim::Optimizer* optimizer = nullptr);

// How the ranks' gradients are summed.
enum class SumOrder {
    // Every rank gathers every rank's bucket and adds them in rank order 0, 1, ..., p-1: the same
    // bits on every rank, whatever the MPI library or the bucket layout, and reproducible. Sends
    // p times the data of an all-reduce; right for the small models here.
    ordered,
    // MPI_Iallreduce with MPI_SUM: the MPI library's algorithm and order (ring, recursive
    // doubling, ...). Less traffic for large models; the bits may depend on the MPI build.
    allreduce,
};

struct ReducerOptions {
    std::size_t bucket_bytes = 256 * 1024;  // a bucket starts when this much is complete
    SumOrder sum_order = SumOrder::ordered;
};

// Sums the gradients of `params` over the ranks during every backward() on this thread (it
// watches the thread's tape while it lives). Each rank's gradient is multiplied by its weight
// first, so that with weights that sum to 1 the result is the global mean. Every rank must run
// the same number of backward() calls (or reduce_zeros()) while a reducer lives, each a
// collective step; the parameters, their order and their shapes must agree on every rank
// (broadcast_parameters checks that). Parameters that do not require a gradient are refused.
class GradReducer : public LeafListener {
  public:
    GradReducer(const Session& session, std::vector<Tensor> params, ReducerOptions options = {});
    ~GradReducer() override;
    GradReducer(const GradReducer&) = delete;
    GradReducer& operator=(const GradReducer&) = delete;

    // This rank's weight for the next steps: its share of the global batch (default 1 / size).
    void set_weight(double weight);
    double weight() const { return weight_; }

    // A step in which this rank has nothing to backpropagate (an empty shard): takes part with
    // zero gradients, and adds the reduced sum to every parameter's grad(), as backward() would.
    void reduce_zeros();

    // The buckets: parameter indices of each, in the order they start (the parameters in
    // reverse, as backward usually completes them).
    const std::vector<std::vector<std::size_t>>& buckets() const { return buckets_; }
    // Seconds spent in finish() waiting for the last buckets, summed over steps.
    double wait_seconds() const { return wait_seconds_; }

    // LeafListener (core/leaf_listener.hpp): called during each sweep.
    const std::vector<Tensor>& watched() const override { return params_; }
    void ready(std::size_t k, Array& dx) override;
    void finish() override;
    // A backward() that threw: waits for the buckets already sent (the other ranks, if they
    // did not fail too, then wait for the rest until the timeout ends the job), then is ready
    // for the next step.
    void abandon() override;

    struct Pending;  // a bucket in flight (distributed/reducer.cpp)

  private:
    void start_ready_buckets();
    void reset();  // no step in flight

    const Session& session_;
    std::vector<Tensor> params_;
    ReducerOptions options_;
    double weight_;
    std::vector<std::vector<std::size_t>> buckets_;
    std::vector<std::size_t> bucket_of_;  // per parameter
    std::vector<Array*> grads_;           // per parameter, this sweep's gradient once ready
    std::vector<std::size_t> missing_;    // per bucket: parameters not yet ready
    std::size_t next_bucket_ = 0;         // the next bucket to start
    std::vector<std::unique_ptr<Pending>> pending_;
    double wait_seconds_ = 0;
};

}  // namespace tapegrad::distributed

namespace tapegrad {
// The namespace's name before the folder was renamed from dist/: kept for one release.
namespace dist = distributed;
}  // namespace tapegrad
