#include "scheduler.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <variant>

#include <xtensor/xadapt.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace tapegrad::optim {

namespace {

constexpr double pi = 3.14159265358979323846;

void require(bool ok, const char* who, const std::string& what) {
    if (!ok) throw std::invalid_argument(std::string(who) + ": " + what);
}

// Cosine from `start` (pct 0) to `end` (pct 1), as torch's _annealing_cos.
double anneal_cos(double start, double end, double pct) {
    return end + (start - end) / 2.0 * (std::cos(pi * pct) + 1.0);
}

}  // namespace

Scheduler::Scheduler(const char* name, Optimizer& optimizer) : name_(name), optimizer_(optimizer) {
    for (std::size_t g = 0; g < optimizer.group_count(); ++g)
        base_lrs_.push_back(optimizer.initial_lr(g));
}

void Scheduler::start() { restart(0); }

void Scheduler::restart(std::size_t epoch) {
    std::vector<double> lrs;  // all computed first: lr_at may throw (OneCycleLR past its end)
    for (const double base : base_lrs_) lrs.push_back(lr_at(epoch, base));
    epoch_ = epoch;
    last_lrs_ = lrs;
    for (std::size_t g = 0; g < lrs.size(); ++g) optimizer_.set_lr(g, static_cast<float>(lrs[g]));
}

void Scheduler::step() { restart(epoch_ + 1); }

State Scheduler::state() const {
    State out;
    out.put_int64("epoch", static_cast<std::int64_t>(epoch_));
    return out;
}

void Scheduler::load_state(const State& state) {
    const StateReader in(state, std::string(name_) + ".load_state");
    const std::int64_t epoch = in.int64("epoch");
    in.finish();
    if (epoch < 0) in.fail("the epoch is negative");
    restart(static_cast<std::size_t>(epoch));
}

StepLR::StepLR(Optimizer& optimizer, const StepLROptions& o)
    : Scheduler("StepLR", optimizer), step_size_(o.step_size()), gamma_(o.gamma()) {
    const std::size_t step_size = step_size_;
    const double gamma = gamma_;
    require(step_size > 0, name_, "step_size must be at least 1");
    require(gamma > 0.0, name_, "gamma must be positive");
    start();
}
double StepLR::lr_at(std::size_t epoch, double base_lr) const {
    return base_lr * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, const MultiStepLROptions& o)
    : Scheduler("MultiStepLR", optimizer), milestones_(o.milestones()), gamma_(o.gamma()) {
    const double gamma = gamma_;
    for (std::size_t i = 1; i < milestones_.size(); ++i)
        require(milestones_[i - 1] < milestones_[i], name_,
                "milestones must increase, but " + std::to_string(milestones_[i]) +
                    " follows " + std::to_string(milestones_[i - 1]));
    require(gamma > 0.0, name_, "gamma must be positive");
    start();
}
double MultiStepLR::lr_at(std::size_t epoch, double base_lr) const {
    const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), epoch) -
                        milestones_.begin();
    return base_lr * std::pow(gamma_, static_cast<double>(passed));
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, const ExponentialLROptions& o)
    : Scheduler("ExponentialLR", optimizer), gamma_(o.gamma()) {
    const double gamma = gamma_;
    require(gamma > 0.0, name_, "gamma must be positive");
    start();
}
double ExponentialLR::lr_at(std::size_t epoch, double base_lr) const {
    return base_lr * std::pow(gamma_, static_cast<double>(epoch));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, const CosineAnnealingLROptions& o)
    : Scheduler("CosineAnnealingLR", optimizer), t_max_(o.T_max()), eta_min_(o.eta_min()) {
    const double eta_min = eta_min_;
    require(t_max_ > 0, name_, "T_max must be at least 1");
    require(eta_min >= 0.0, name_, "eta_min must not be negative");
    start();
}
double CosineAnnealingLR::lr_at(std::size_t epoch, double base_lr) const {
    return eta_min_ + (base_lr - eta_min_) *
                          (1.0 + std::cos(pi * static_cast<double>(epoch) / static_cast<double>(t_max_))) / 2.0;
}

LinearLR::LinearLR(Optimizer& optimizer, const LinearLROptions& o)
    : Scheduler("LinearLR", optimizer), start_(o.start_factor()), end_(o.end_factor()),
      total_(o.total_iters()) {
    const double start_factor = start_, end_factor = end_;
    const std::size_t total_iters = total_;
    require(start_factor > 0.0 && start_factor <= 1.0, name_,
            "start_factor must be in (0, 1], as torch's");
    require(end_factor >= 0.0 && end_factor <= 1.0, name_, "end_factor must be in [0, 1]");
    require(total_iters > 0, name_, "total_iters must be at least 1");
    start();
}
double LinearLR::lr_at(std::size_t epoch, double base_lr) const {
    const double done = static_cast<double>(std::min(epoch, total_)) / static_cast<double>(total_);
    return base_lr * (start_ + (end_ - start_) * done);
}

OneCycleLR::OneCycleLR(Optimizer& optimizer, const OneCycleLROptions& o)
    : Scheduler("OneCycleLR", optimizer),
      max_lr_(o.max_lr()),
      initial_lr_(o.max_lr() / o.div_factor()),
      min_lr_(o.max_lr() / o.div_factor() / o.final_div_factor()),
      warmup_end_(o.pct_start() * static_cast<double>(o.total_steps()) - 1.0),
      total_(o.total_steps()) {
    const double max_lr = o.max_lr(), pct_start = o.pct_start(), div_factor = o.div_factor(),
                 final_div_factor = o.final_div_factor();
    const std::size_t total_steps = o.total_steps();
    require(max_lr > 0.0, name_, "max_lr must be positive");
    require(total_steps > 1, name_, "total_steps must be at least 2");
    require(pct_start > 0.0 && pct_start < 1.0, name_, "pct_start must be in (0, 1)");
    require(div_factor > 0.0 && final_div_factor > 0.0, name_,
            "div_factor and final_div_factor must be positive");
    start();
}
double OneCycleLR::lr_at(std::size_t epoch, double /*base_lr: max_lr sets every group*/) const {
    // As torch: step total_steps is the last (the annealing's fraction then passes 1), so that a
    // loop calling step() after each of its total_steps batches ends without an error.
    if (epoch > total_)
        throw std::invalid_argument("OneCycleLR: step " + std::to_string(epoch) +
                                    " is past total_steps = " + std::to_string(total_) +
                                    " (the cycle is over)");
    const double t = static_cast<double>(epoch);
    const double end = static_cast<double>(total_) - 1.0;
    if (t <= warmup_end_) return anneal_cos(initial_lr_, max_lr_, t / warmup_end_);
    return anneal_cos(max_lr_, min_lr_, (t - warmup_end_) / (end - warmup_end_));
}

SequentialLR::SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<Scheduler>> schedulers,
                           std::vector<std::size_t> milestones)
    : Scheduler("SequentialLR", optimizer),
      schedulers_(std::move(schedulers)),
      milestones_(std::move(milestones)) {
    require(!schedulers_.empty(), name_, "the list of schedulers is empty");
    for (std::size_t i = 0; i < schedulers_.size(); ++i) {
        require(schedulers_[i] != nullptr, name_, "scheduler " + std::to_string(i) + " is null");
        require(&schedulers_[i]->optimizer() == &optimizer, name_,
                "scheduler " + std::to_string(i) + " (" + schedulers_[i]->name() +
                    ") was made for another optimizer");
    }
    require(milestones_.size() + 1 == schedulers_.size(), name_,
            "needs one milestone fewer than schedulers: " + std::to_string(schedulers_.size()) +
                " schedulers, " + std::to_string(milestones_.size()) + " milestones");
    for (std::size_t i = 1; i < milestones_.size(); ++i)
        require(milestones_[i - 1] < milestones_[i], name_, "milestones must increase");
    start();
}
double SequentialLR::lr_at(std::size_t epoch, double base_lr) const {
    // The scheduler of this epoch, at its own epoch counted from its milestone.
    const std::size_t k = static_cast<std::size_t>(
        std::upper_bound(milestones_.begin(), milestones_.end(), epoch) - milestones_.begin());
    const std::size_t since = k == 0 ? epoch : epoch - milestones_[k - 1];
    return schedulers_[k]->lr_at(since, base_lr);
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, const ReduceLROnPlateauOptions& o)
    : optimizer_(optimizer),
      mode_(o.mode()),
      threshold_mode_(o.threshold_mode()),
      factor_(o.factor()),
      threshold_(o.threshold()),
      min_lr_(o.min_lr()),
      eps_(o.eps()),
      patience_(o.patience()),
      cooldown_(o.cooldown()),
      best_(o.mode() == Mode::min ? std::numeric_limits<double>::infinity()
                                  : -std::numeric_limits<double>::infinity()),
      last_lrs_() {
    const double factor = factor_, threshold = threshold_;
    for (std::size_t g = 0; g < optimizer.group_count(); ++g) last_lrs_.push_back(optimizer.lr(g));
    require(factor > 0.0 && factor < 1.0, "ReduceLROnPlateau", "factor must be in (0, 1)");
    require(threshold >= 0.0, "ReduceLROnPlateau", "threshold must not be negative");
    require(min_lr_ >= 0.0, "ReduceLROnPlateau", "min_lr must not be negative");
    require(eps_ >= 0.0, "ReduceLROnPlateau", "eps must not be negative");
}

void ReduceLROnPlateau::step(double metric) {
    if (!std::isfinite(metric))
        throw std::invalid_argument("ReduceLROnPlateau: the metric is " + std::to_string(metric) +
                                    "; it must be finite");
    const bool rel = threshold_mode_ == ThresholdMode::rel;
    const bool better = mode_ == Mode::min
                            ? metric < (rel ? best_ * (1.0 - threshold_) : best_ - threshold_)
                            : metric > (rel ? best_ * (1.0 + threshold_) : best_ + threshold_);
    if (better) {
        best_ = metric;
        bad_epochs_ = 0;
    } else {
        ++bad_epochs_;
    }
    if (cooldown_left_ > 0) {
        --cooldown_left_;
        bad_epochs_ = 0;
    }
    if (bad_epochs_ > patience_) {
        for (std::size_t g = 0; g < last_lrs_.size(); ++g) {
            const double lowered = std::max(last_lrs_[g] * factor_, min_lr_);
            if (last_lrs_[g] - lowered > eps_) {  // smaller changes are skipped
                last_lrs_[g] = lowered;
                optimizer_.set_lr(g, static_cast<float>(lowered));
            }
        }
        cooldown_left_ = cooldown_;
        bad_epochs_ = 0;
    }
}

State ReduceLROnPlateau::state() const {
    State out;
    out.put_float64("best", best_);
    out.put_int64("bad_epochs", static_cast<std::int64_t>(bad_epochs_));
    out.put_int64("cooldown_left", static_cast<std::int64_t>(cooldown_left_));
    out.put("last_lrs", xt::xarray<double>(xt::adapt(last_lrs_, {last_lrs_.size()})));
    return out;
}

void ReduceLROnPlateau::load_state(const State& state) {
    const StateReader in(state, "ReduceLROnPlateau.load_state");
    const double best = in.float64("best");
    const std::int64_t bad = in.int64("bad_epochs");
    const std::int64_t cooldown = in.int64("cooldown_left");
    const xt::xarray<double>& lrs = in.float64s("last_lrs", last_lrs_.size());
    in.finish();
    if (bad < 0 || cooldown < 0) in.fail("a counter is negative");
    for (const double lr : lrs)
        if (!(lr >= 0.0)) in.fail("a rate in 'last_lrs' is negative");
    best_ = best;
    bad_epochs_ = static_cast<std::size_t>(bad);
    cooldown_left_ = static_cast<std::size_t>(cooldown);
    for (std::size_t g = 0; g < last_lrs_.size(); ++g) {
        last_lrs_[g] = lrs(g);
        optimizer_.set_lr(g, static_cast<float>(last_lrs_[g]));
    }
}

}  // namespace tapegrad::optim
