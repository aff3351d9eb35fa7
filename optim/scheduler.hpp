// Learning-rate schedulers, as torch.optim.lr_scheduler. A scheduler sets its optimizer's
// learning rate from the number of step() calls so far, `epoch` (0 when it is made: making a
// scheduler already sets the rate for epoch 0). base is the optimizer's learning rate when its
// first scheduler was made (Optimizer::initial_lr, torch's initial_lr), so that schedulers made
// one after another for SequentialLR share it.
//
//   StepLR(step_size, gamma = 0.1)         base * gamma^floor(epoch / step_size)
//   MultiStepLR(milestones, gamma = 0.1)   base * gamma^(milestones <= epoch)
//   ExponentialLR(gamma)                   base * gamma^epoch
//   CosineAnnealingLR(t_max, eta_min = 0)  eta_min + (base - eta_min) (1 + cos(pi epoch / t_max)) / 2
//   LinearLR(start = 1/3, end = 1, total_iters = 5)
//                                          base * (start + (end - start) min(epoch, total) / total)
//   OneCycleLR(max_lr, total_steps, pct_start = 0.3, div_factor = 25, final_div_factor = 1e4)
//       from max_lr / div_factor up to max_lr over the first pct_start of the steps, then down to
//       max_lr / (div_factor * final_div_factor), both halves cosine (torch's defaults; the
//       momentum is not cycled: torch's cycle_momentum = False)
//   SequentialLR(schedulers, milestones)  the first scheduler until the first milestone, then the
//       next one, started again from its epoch 0, and so on
//   ReduceLROnPlateau(mode, factor = 0.1, patience = 10, threshold = 1e-4 (relative), cooldown,
//       min_lr): step(metric) multiplies the rate by factor after `patience` epochs without an
//       improvement of the metric, as torch's
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

class StepLR : public Scheduler {
  public:
    StepLR(Optimizer& optimizer, std::size_t step_size, double gamma = 0.1);

  private:
    double lr_at(std::size_t epoch, double base_lr) const override;
    std::size_t step_size_;
    double gamma_;
};

class MultiStepLR : public Scheduler {
  public:
    MultiStepLR(Optimizer& optimizer, std::vector<std::size_t> milestones, double gamma = 0.1);

  private:
    double lr_at(std::size_t epoch, double base_lr) const override;
    std::vector<std::size_t> milestones_;
    double gamma_;
};

class ExponentialLR : public Scheduler {
  public:
    ExponentialLR(Optimizer& optimizer, double gamma);

  private:
    double lr_at(std::size_t epoch, double base_lr) const override;
    double gamma_;
};

class CosineAnnealingLR : public Scheduler {
  public:
    CosineAnnealingLR(Optimizer& optimizer, std::size_t t_max, double eta_min = 0.0);

  private:
    double lr_at(std::size_t epoch, double base_lr) const override;
    std::size_t t_max_;
    double eta_min_;
};

class LinearLR : public Scheduler {
  public:
    LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3.0, double end_factor = 1.0,
             std::size_t total_iters = 5);

  private:
    double lr_at(std::size_t epoch, double base_lr) const override;
    double start_, end_;
    std::size_t total_;
};

// Steps once per batch: step() may be called total_steps times, as torch's, the last one
// leaving the cosine a little past its end; once more is an error.
class OneCycleLR : public Scheduler {
  public:
    OneCycleLR(Optimizer& optimizer, double max_lr, std::size_t total_steps,
               double pct_start = 0.3, double div_factor = 25.0,
               double final_div_factor = 1e4);

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

class ReduceLROnPlateau : public LrScheduler {
  public:
    enum class Mode { min, max };
    ReduceLROnPlateau(Optimizer& optimizer, Mode mode = Mode::min, double factor = 0.1,
                      std::size_t patience = 10, double threshold = 1e-4,
                      std::size_t cooldown = 0, double min_lr = 0.0);
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
    double factor_, threshold_, min_lr_;
    std::size_t patience_, cooldown_;
    double best_;
    std::size_t bad_epochs_ = 0, cooldown_left_ = 0;
    std::vector<double> last_lrs_;
};

}  // namespace tapegrad::optim
