#include "run_control.hpp"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <iostream>

#include "training.hpp"

namespace examples {

using namespace tapegrad;

namespace {

std::atomic<int> stop_requested{0};
void on_stop_signal(int signal) { stop_requested = signal; }

}  // namespace

void catch_stop_signals() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the program at once
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

int stop_signal() { return stop_requested; }

RunControl::RunControl(distributed::Session* session, nn::Module& model,
                       optim::Optimizer& optimizer, RunSettings settings,
                       std::function<void(const std::string&)> save)
    : session_(session), model_(model), optimizer_(optimizer), settings_(std::move(settings)),
      save_(std::move(save)) {
    if (session_)
        reducer_ = std::make_unique<distributed::GradReducer>(*session_, model_.parameters());
}

RunControl::~RunControl() = default;

bool RunControl::lead() const { return !session_ || session_->rank() == 0; }

std::vector<std::size_t> RunControl::part(const std::vector<std::size_t>& batch) {
    const Shard shard = session_ ? shard_of(batch.size(), static_cast<std::size_t>(session_->rank()),
                                            static_cast<std::size_t>(session_->size()))
                                 : Shard{0, batch.size(), 1.0};
    weight_ = shard.weight;
    return {batch.begin() + static_cast<std::ptrdiff_t>(shard.begin),
            batch.begin() + static_cast<std::ptrdiff_t>(shard.end)};
}

float RunControl::step(const Tensor& loss, const Step& at) {
    float value = loss.defined() ? loss.item() : 0.0f;
    gathered_.clear();
    if (session_) {  // one small all-gather: each process's share of the loss, and its signal
        reducer_->set_weight(weight_);
        gathered_ = session_->all_gather(
            std::vector<double>{weight_ * value, static_cast<double>(stop_signal())});
        double sum = 0;
        for (std::size_t r = 0; r < gathered_.size(); r += 2) sum += gathered_[r];
        value = static_cast<float>(sum);
    }
    bool finite = true;
    try {
        finite = check_loss(value, "the loss", at.epoch, at.batch, at.batches, settings_.lr,
                            settings_.keep_going_on_nan);
    } catch (const std::runtime_error& e) {
        if (!session_) throw;
        throw distributed::CollectiveError(e.what());  // every process has the same loss: all stop
    }
    if (!finite && non_finite_++ == 0)
        std::cout << settings_.tag << "warning: the loss is " << format_number(value)
                  << " at epoch " << at.epoch << ", batch " << at.batch
                  << "; training goes on (--keep-going-on-nan)" << std::endl;
    optimizer_.zero_grad();
    if (loss.defined()) loss.backward();
    else reducer_->reduce_zeros();  // an empty part still takes part
    if (settings_.clip_grad_norm > 0.0f)
        optim::clip_grad_norm(optimizer_.params(), settings_.clip_grad_norm, 2.0,
                              !settings_.keep_going_on_nan);
    optimizer_.step();
    return value;
}

// Distributed, only the signals gathered with a step count: one arriving since is for the next
// check, so that every process decides the same.
bool RunControl::asked_to_stop(std::vector<double> gathered) {
    int signal = session_ ? 0 : stop_signal();
    if (session_ && gathered.empty())
        gathered = session_->all_gather(std::vector<double>{0.0, static_cast<double>(stop_signal())});
    for (std::size_t r = 1; r < gathered.size(); r += 2)
        signal = std::max(signal, static_cast<int>(gathered[r]));
    stopped_by_ = signal;
    return signal != 0;
}

void RunControl::end_epoch(std::size_t epoch, std::size_t batches) {
    if (non_finite_)
        std::cout << settings_.tag << "warning: " << non_finite_ << " of " << batches
                  << " batches of epoch " << epoch << " had a loss that is not finite\n";
    non_finite_ = 0;
    if (!settings_.checkpoint.empty()) save(settings_.checkpoint);
    if (asked_to_stop({})) stop("after epoch " + std::to_string(epoch));
}

std::vector<double> RunControl::wait_seconds() const {
    return session_ ? session_->all_gather(reducer_->wait_seconds()) : std::vector<double>{};
}

// Every process saves the same state; the leading one writes it, once all agree.
void RunControl::save(const std::string& path) {
    if (session_) distributed::check_same_state(*session_, model_, &optimizer_);
    if (lead()) save_(path);
    if (session_) session_->barrier();
}

// Stopped by a signal: the checkpoint goes to the run's checkpoint, else beside the program's work.
void RunControl::stop(const std::string& where) {
    const std::string path = settings_.checkpoint.empty() ? settings_.program + "-interrupted.npz"
                                                          : settings_.checkpoint;
    save(path);
    const bool ctrl_c = stopped_by_ == SIGINT;
    throw Stopped(std::string("stopped by ") + (ctrl_c ? "Ctrl-C (SIGINT)" : "SIGTERM") + " " +
                      where + ": saved a checkpoint to " + path + "; continue with --resume " +
                      path + (settings_.checkpoint.empty() ? "" : " --checkpoint " + path),
                  stopped_by_);
}

}  // namespace examples
