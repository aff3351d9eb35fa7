// Learning-rate schedulers, as torch.optim.lr_scheduler. A scheduler sets its optimizer's
// learning rate from the number of step() calls so far, `epoch` (0 when it is made: making a
// scheduler already sets the rate for epoch 0). base is the optimizer's learning rate when its
// first scheduler was made (Optimizer::initial_lr, torch's initial_lr), so that schedulers made
// one after another for SequentialLR share it.
//
// Each takes its optimizer and an options struct with torch's names and defaults; the required
// settings go to the options' constructor, and a lone one converts: StepLR(sgd, 30) or
// StepLR(sgd, StepLROptions(30).gamma(0.5)).
//
//   StepLR(step_size, gamma = 0.1)         base * gamma^floor(epoch / step_size)
//   MultiStepLR(milestones, gamma = 0.1)   base * gamma^(milestones <= epoch)
//   ExponentialLR(gamma)                   base * gamma^epoch
//   CosineAnnealingLR(T_max, eta_min = 0)  eta_min + (base - eta_min) (1 + cos(pi epoch / T_max)) / 2
//   LinearLR(start_factor = 1/3, end_factor = 1, total_iters = 5)
//                                          base * (start + (end - start) min(epoch, total) / total)
//   OneCycleLR(max_lr, total_steps, pct_start = 0.3, div_factor = 25, final_div_factor = 1e4)
//       from max_lr / div_factor up to max_lr over the first pct_start of the steps, then down to
//       max_lr / (div_factor * final_div_factor), both halves cosine (torch's defaults; the
//       momentum is not cycled: torch's cycle_momentum = False)
//   SequentialLR(schedulers, milestones)  the first scheduler until the first milestone, then the
//       next one, started again from its epoch 0, and so on
//   ReduceLROnPlateau(mode = min, factor = 0.1, patience = 10, threshold = 1e-4, threshold_mode
//       = rel, cooldown = 0, min_lr = 0, eps = 1e-8): step(metric) multiplies the rate by factor
//       after `patience` epochs without an improvement of the metric, as torch's: better than
//       best (1 - threshold) with rel, best - threshold with abs (for max: above best (1 +
//       threshold), best + threshold); then `cooldown` epochs without counting; a change of the
//       rate smaller than eps is skipped
//
// The rates are computed in double, in closed form (torch chains most of them step by step; the
// two agree to 1e-12 over the first hundred epochs), and given to the optimizer as a float.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "optimizer.hpp"

namespace tapegrad::optim {

// What every scheduler can save and load, for checkpoints (optim/checkpoint.hpp): the epoch of
// a Scheduler; ReduceLROnPlateau's best metric, counters and rates. load_state checks every
// entry before it changes anything and sets the optimizer's rates to the loaded ones.
class LrScheduler {
  public:
    virtual ~LrScheduler() = default;
    virtual State state() const = 0;
    virtual void load_state(const State& state) = 0;
};

class Scheduler : public LrScheduler {
  public:
    // The next epoch: epoch + 1, and the optimizer's rate for it.
    void step();
    // The rate step() set last (or the constructor): the first group's, and every group's.
    double last_lr() const { return last_lrs_[0]; }
    const std::vector<double>& last_lrs() const { return last_lrs_; }
    // The rate at `epoch` for a group whose rate was base_lr when the first scheduler was made.
    virtual double lr_at(std::size_t epoch, double base_lr) const = 0;
    std::size_t epoch() const { return epoch_; }
    const Optimizer& optimizer() const { return optimizer_; }
    const char* name() const { return name_; }
    // {"epoch": int64}: the rates follow from it.
    State state() const override;
    void load_state(const State& state) override;
    // Starts again at `epoch` (SequentialLR starts each scheduler again at 0).
    void restart(std::size_t epoch = 0);

  protected:
    Scheduler(const char* name, Optimizer& optimizer);
    // Call last in each constructor: sets the rate of epoch 0.
    void start();

    const char* name_;
    Optimizer& optimizer_;
    std::vector<double> base_lrs_;  // one per parameter group

  private:
    std::size_t epoch_ = 0;
    std::vector<double> last_lrs_;
};

struct StepLROptions {
    StepLROptions(std::size_t step_size) : step_size_(step_size) {}  // NOLINT: implicit
    TAPEGRAD_OPTION(std::size_t, step_size, 0)
    TAPEGRAD_OPTION(double, gamma, 0.1)
};
struct MultiStepLROptions {
    MultiStepLROptions(std::vector<std::size_t> milestones)  // NOLINT: implicit
        : milestones_(std::move(milestones)) {}
    TAPEGRAD_OPTION(std::vector<std::size_t>, milestones, {})
    TAPEGRAD_OPTION(double, gamma, 0.1)
};
struct ExponentialLROptions {
    ExponentialLROptions(double gamma) : gamma_(gamma) {}  // NOLINT: implicit
    TAPEGRAD_OPTION(double, gamma, 0.1)
};
struct CosineAnnealingLROptions {
    CosineAnnealingLROptions(std::size_t T_max) : T_max_(T_max) {}  // NOLINT: implicit, torch's name
    TAPEGRAD_OPTION(std::size_t, T_max, 0)
    TAPEGRAD_OPTION(double, eta_min, 0.0)
};
struct LinearLROptions {
    TAPEGRAD_OPTION(double, start_factor, 1.0 / 3.0)
    TAPEGRAD_OPTION(double, end_factor, 1.0)
    TAPEGRAD_OPTION(std::size_t, total_iters, 5)
};
struct OneCycleLROptions {
    OneCycleLROptions(double max_lr, std::size_t total_steps)
        : max_lr_(max_lr), total_steps_(total_steps) {}
    TAPEGRAD_OPTION(double, max_lr, 0.0)
    TAPEGRAD_OPTION(std::size_t, total_steps, 0)
    TAPEGRAD_OPTION(double, pct_start, 0.3)
    TAPEGRAD_OPTION(double, div_factor, 25.0)
    TAPEGRAD_OPTION(double, final_div_factor, 1e4)
};

class StepLR : public Scheduler {
  public:
    StepLR(Optimizer& optimizer, const StepLROptions& options);

  private:
    double lr_at(std::size_t epoch, double base_lr) const override;
    std::size_t step_size_;
    double gamma_;
};

class MultiStepLR : public Scheduler {
  public:
    MultiStepLR(Optimizer& optimizer, const MultiStepLROptions& options);

  private:
    double lr_at(std::size_t epoch, double base_lr) const override;
    std::vector<std::size_t> milestones_;
    double gamma_;
};

class ExponentialLR : public Scheduler {
  public:
    ExponentialLR(Optimizer& optimizer, const ExponentialLROptions& options);

  private:
    double lr_at(std::size_t epoch, double base_lr) const override;
    double gamma_;
};

class CosineAnnealingLR : public Scheduler {
  public:
    CosineAnnealingLR(Optimizer& optimizer, const CosineAnnealingLROptions& options);

  private:
    double lr_at(std::size_t epoch, double base_lr) const override;
    std::size_t t_max_;
    double eta_min_;
};

class LinearLR : public Scheduler {
  public:
    explicit LinearLR(Optimizer& optimizer, const LinearLROptions& options = {});

  private:
    double lr_at(std::size_t epoch, double base_lr) const override;
    double start_, end_;
    std::size_t total_;
};

// Steps once per batch: step() may be called total_steps times, as torch's, the last one
// leaving the cosine a little past its end; once more is an error.
class OneCycleLR : public Scheduler {
  public:
    OneCycleLR(Optimizer& optimizer, const OneCycleLROptions& options);

  private:
    double lr_at(std::size_t epoch, double base_lr) const override;
    double max_lr_, initial_lr_, min_lr_;
    double warmup_end_;  // the last step of the rising half: pct_start * total_steps - 1
    std::size_t total_;
};

class SequentialLR : public Scheduler {
  public:
    SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<Scheduler>> schedulers,
                 std::vector<std::size_t> milestones);

  private:
    double lr_at(std::size_t epoch, double base_lr) const override;
    std::vector<std::shared_ptr<Scheduler>> schedulers_;
    std::vector<std::size_t> milestones_;
};

struct ReduceLROnPlateauOptions {
    enum class Mode { min, max };
    enum class ThresholdMode { rel, abs };
    TAPEGRAD_OPTION(Mode, mode, Mode::min)
    TAPEGRAD_OPTION(double, factor, 0.1)
    TAPEGRAD_OPTION(std::size_t, patience, 10)
    TAPEGRAD_OPTION(double, threshold, 1e-4)
    TAPEGRAD_OPTION(ThresholdMode, threshold_mode, ThresholdMode::rel)
    TAPEGRAD_OPTION(std::size_t, cooldown, 0)
    TAPEGRAD_OPTION(double, min_lr, 0.0)
    TAPEGRAD_OPTION(double, eps, 1e-8)
};

class ReduceLROnPlateau : public LrScheduler {
  public:
    using Mode = ReduceLROnPlateauOptions::Mode;
    using ThresholdMode = ReduceLROnPlateauOptions::ThresholdMode;
    explicit ReduceLROnPlateau(Optimizer& optimizer, const ReduceLROnPlateauOptions& options = {});
    // One epoch's metric (a validation loss with Mode::min).
    void step(double metric);
    double last_lr() const { return last_lrs_[0]; }
    const std::vector<double>& last_lrs() const { return last_lrs_; }
    // best (float64), bad_epochs and cooldown_left (int64), last_lrs (float64, one per group).
    State state() const override;
    void load_state(const State& state) override;

  private:
    Optimizer& optimizer_;
    Mode mode_;
    ThresholdMode threshold_mode_;
    double factor_, threshold_, min_lr_, eps_;
    std::size_t patience_, cooldown_;
    double best_;
    std::size_t bad_epochs_ = 0, cooldown_left_ = 0;
    std::vector<double> last_lrs_;
};

}  // namespace tapegrad::optim
