// The run around a training loop, so that the loop itself reads as the epochs and batches it is:
// stopping on Ctrl-C or SIGTERM with a checkpoint, checkpoints after epochs, the stop on a loss
// that is not finite, and, with an MPI session, each process's part of every batch and the
// batch's loss agreed by all of them.
//     examples::RunControl run(session, model, optimizer, settings, save);
//     for (batch ...) {
//         const auto mine = run.part(indices);          // all of it when training alone
//         Tensor loss = ...;                             // undefined for an empty part
//         const float value = run.step(loss, {epoch, b + 1, batches});   // the whole batch's loss
//         if (b + 1 < batches && run.asked_to_stop()) run.stop("in epoch 3 after batch 7/60");
//     }
//     run.end_epoch(epoch);
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <tapegrad/distributed/distributed.hpp>
#include <tapegrad/tapegrad.hpp>

namespace examples {

// Ctrl-C (SIGINT) or SIGTERM: the handler only sets a flag, all a signal handler may safely do;
// RunControl looks at it after every batch, writes a checkpoint and stops. A second Ctrl-C ends
// the program at once.
void catch_stop_signals();
int stop_signal();  // the signal that asked to stop, or 0

// Thrown when a run stops on a signal, after the checkpoint is written; `signal` is that signal
// (programs exit with 128 + signal).
struct Stopped : std::runtime_error {
    Stopped(const std::string& what, int signal_) : std::runtime_error(what), signal(signal_) {}
    int signal;
};

struct RunSettings {
    std::string program;     // names the program in messages: "mnist"
    std::string tag;         // starts each printed line ("" or "a) ")
    float lr = 0.0f;         // named by the message of a diverging loss
    bool keep_going_on_nan = false;
    float clip_grad_norm = 0.0f;  // 0: no clipping
    std::string checkpoint;  // written after every epoch ("" : none) and on a stop
};

// When the point in the run matters (messages): epoch, batch (from 1) and batches in the epoch.
struct Step {
    std::size_t epoch, batch, batches;
};

class RunControl {
  public:
    // `save(path)` writes the run's checkpoint; RunControl calls it on the leading process, after
    // checking that every process holds the same state. `session` is null when training alone.
    RunControl(tapegrad::distributed::Session* session, tapegrad::nn::Module& model,
               tapegrad::optim::Optimizer& optimizer, RunSettings settings,
               std::function<void(const std::string& path)> save);
    ~RunControl();

    bool lead() const;  // this process prints and writes files

    // This process's contiguous part of a batch of the whole job (all of it when alone).
    std::vector<std::size_t> part(const std::vector<std::size_t>& batch);

    // The step: the batch's mean loss summed over the processes' parts (with any stop signal
    // they received) and checked, then backward of this process's `loss` (undefined for an empty
    // part), clipping and the optimizer's step. Returns the batch's loss.
    float step(const tapegrad::Tensor& loss, const Step& at);

    // Whether any process was asked to stop, as of the last step: every process decides the same.
    bool asked_to_stop() { return asked_to_stop(gathered_); }
    // Stops the run: a checkpoint, then Stopped. `where` goes in the message.
    [[noreturn]] void stop(const std::string& where);

    // After an epoch: the warning on losses that were not finite, the checkpoint, a stop asked
    // for since the last step.
    void end_epoch(std::size_t epoch, std::size_t batches);

    // With a session: how long each process waited for the others' gradients (rank order).
    std::vector<double> wait_seconds() const;

  private:
    void save(const std::string& path);
    bool asked_to_stop(std::vector<double> gathered);

    tapegrad::distributed::Session* session_;
    tapegrad::nn::Module& model_;
    tapegrad::optim::Optimizer& optimizer_;
    RunSettings settings_;
    std::function<void(const std::string&)> save_;
    // Sums the processes' gradients during every backward(), weighted by their shares of the batch.
    std::unique_ptr<tapegrad::distributed::GradReducer> reducer_;
    double weight_ = 1.0;                  // this process's share of the current batch
    std::vector<double> gathered_;         // each process's (loss share, signal) of the last step
    std::size_t non_finite_ = 0;           // batches of this epoch whose loss was not finite
    int stopped_by_ = 0;
};

}  // namespace examples
