// What the examples print while they train: a progress bar on a terminal (batch, loss, images/s,
// time left), plain lines when the output goes to a file or a pipe; and the per-epoch metrics
// CSV.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace examples {

class Progress {
  public:
    // `label` starts the line ("epoch 3/10"); `total` batches of `batch_size` images.
    Progress(std::string label, std::size_t total, std::size_t batch_size);
    void update(std::size_t done, float loss);  // after batch `done` (1-based)
    void finish();                              // clears the bar on a terminal
    double seconds() const;

  private:
    std::string label_;
    std::size_t total_, batch_size_;
    bool terminal_;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

struct EpochMetrics {
    std::size_t epoch = 0;
    double train_loss = 0, test_loss = 0, test_accuracy = 0, seconds = 0, images_per_second = 0;
};

// Writes `epoch,train_loss,test_loss,test_accuracy,seconds,images_per_second` and one row per
// epoch to `path`, rewriting the whole file atomically after every epoch (a crash leaves the
// previous complete file).
void write_metrics(const std::string& path, const std::vector<EpochMetrics>& rows);

// "1m 05s", "12.3s"
std::string format_seconds(double seconds);

}  // namespace examples
