// Stopping and resuming a training run of the mnist example.
//
// --checkpoint FILE writes, after every epoch (and when Ctrl-C or SIGTERM stops the run), the
// model, the optimizer's state and where the run is: the epochs done, the loss of each batch of
// the epoch in progress, the metrics of every epoch (float64, bit for bit) and the settings that
// decide the run's numbers (as text). --resume FILE checks all of it and continues exactly.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

#include "../common/progress.hpp"
#include "options.hpp"

namespace mnist {

// Where a run is: `epochs_done` whole epochs, then `batch_losses.size()` batches of the next.
struct RunState {
    std::size_t epochs_done = 0;
    std::vector<float> batch_losses;  // loss x batch size of each batch of that epoch, in order
    std::vector<examples::EpochMetrics> history;
};

// The settings that decide a run's numbers: resuming with other ones would not continue it.
std::string run_settings(const Options& o);

// The learning-rate scheduler's state goes in too when there is one (schedule may be null).
void save_run(const std::string& path, const Options& o, const tapegrad::nn::Module& model,
              const tapegrad::optim::Optimizer& optimizer,
              const tapegrad::optim::LrScheduler* schedule, const RunState& state);

// Loads model and optimizer state from a checkpoint of save_run and returns where the run was.
// Everything in the file is checked: it comes from the user and may be from another program.
RunState resume_run(const Options& o, tapegrad::nn::Module& model,
                    tapegrad::optim::Optimizer& optimizer, tapegrad::optim::LrScheduler* schedule,
                    std::size_t batches_per_epoch);

}  // namespace mnist
