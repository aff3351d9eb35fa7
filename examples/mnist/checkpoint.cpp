#include "checkpoint.hpp"

#include <iostream>
#include <map>
#include <sstream>

#include "../common/training.hpp"

namespace mnist {

using namespace tapegrad;
using examples::EpochMetrics;

namespace {

// The columns of extra.history, one row per epoch.
constexpr std::size_t history_columns = 6;

}  // namespace

std::string run_settings(const Options& o) {
    using examples::shortest;
    std::ostringstream s;
    s << "--model " << o.model << " --loss " << o.loss << " --optimizer " << o.optimizer
      << " --lr " << shortest(o.lr) << " --momentum " << shortest(o.momentum) << " --schedule "
      << o.schedule << " --epochs " << o.epochs << " --batch-size " << o.batch_size << " --seed "
      << o.seed << " --limit " << o.limit;
    // Later options only when set, so that checkpoints written before them still resume.
    if (o.warmup) s << " --warmup " << o.warmup;
    if (o.clip_grad_norm > 0.0f) s << " --clip-grad-norm " << shortest(o.clip_grad_norm);
    return s.str();
}

void save_run(const std::string& path, const Options& o, const nn::Module& model,
              const optim::Optimizer& optimizer, const optim::LrScheduler* schedule,
              const RunState& state) {
    xt::xarray<double> history =
        xt::xarray<double>::from_shape({state.history.size(), history_columns});
    for (std::size_t e = 0; e < state.history.size(); ++e) {
        const EpochMetrics& m = state.history[e];
        const double row[history_columns] = {static_cast<double>(m.epoch), m.train_loss,
                                             m.test_loss, m.test_accuracy, m.seconds,
                                             m.images_per_second};
        std::copy(row, row + history_columns, &history(e, 0));
    }
    Array losses = Array::from_shape({state.batch_losses.size()});
    std::copy(state.batch_losses.begin(), state.batch_losses.end(), losses.begin());
    const NamedTypedArrays extra{
        {"epoch", xt::xarray<std::int64_t>{static_cast<std::int64_t>(state.epochs_done)}},
        {"batch_losses", losses},
        {"history", history},
        {"settings", text_array(run_settings(o))}};
    if (schedule) optim::save_checkpoint(path, model, optimizer, *schedule, extra);
    else optim::save_checkpoint(path, model, optimizer, extra);
}

RunState resume_run(const Options& o, nn::Module& model, optim::Optimizer& optimizer,
                    optim::LrScheduler* schedule, std::size_t batches_per_epoch) {
    const NamedTypedArrays extra = schedule
                                       ? optim::load_checkpoint(o.resume, model, optimizer, *schedule)
                                       : optim::load_checkpoint(o.resume, model, optimizer);
    auto bad = [&](const std::string& what) {
        return std::runtime_error("--resume: '" + o.resume + "' " + what);
    };
    std::map<std::string, TypedArray> found(extra.begin(), extra.end());
    for (const char* name : {"epoch", "batch_losses", "history", "settings"})
        if (!found.count(name))
            throw bad(std::string("has no extra.") + name +
                      ": it is not a checkpoint written by mnist --checkpoint");
    // Each entry must have the dtype save_run gave it.
    auto get = [&](const char* name, auto type) -> const decltype(type)& {
        const auto* a = std::get_if<decltype(type)>(&found[name]);
        if (!a)
            throw bad(std::string("is corrupted: extra.") + name + " is " +
                      dtype_name(dtype_of(found[name])));
        return *a;
    };
    const std::string settings = array_text(found["settings"], "extra.settings");
    if (settings != run_settings(o))
        throw bad("was written by a run with other settings; resume with the same ones:\n"
                  "  checkpoint: " + settings + "\n  this run:   " + run_settings(o));

    RunState state;
    const auto& epoch = get("epoch", xt::xarray<std::int64_t>());
    if (epoch.size() != 1 || epoch(0) < 0 || epoch(0) > static_cast<std::int64_t>(o.epochs))
        throw bad("is corrupted: extra.epoch is not one number from 0 to --epochs");
    state.epochs_done = static_cast<std::size_t>(epoch(0));
    const Array& losses = get("batch_losses", Array());
    if (losses.dimension() != 1 || losses.size() >= batches_per_epoch ||
        (state.epochs_done == o.epochs && losses.size() > 0))
        throw bad("is corrupted: extra.batch_losses has shape " + shape_str(losses.shape()));
    state.batch_losses.assign(losses.begin(), losses.end());
    const auto& history = get("history", xt::xarray<double>());
    if (history.dimension() != 2 || history.shape()[1] != history_columns ||
        history.shape()[0] != state.epochs_done)
        throw bad("is corrupted: extra.history has shape " + shape_str(history.shape()) +
                  " for " + std::to_string(state.epochs_done) + " epochs");
    for (std::size_t e = 0; e < state.epochs_done; ++e) {
        if (history(e, 0) != static_cast<double>(e + 1))
            throw bad("is corrupted: extra.history has no row for epoch " + std::to_string(e + 1));
        EpochMetrics m;
        m.epoch = e + 1;
        m.train_loss = history(e, 1);
        m.test_loss = history(e, 2);
        m.test_accuracy = history(e, 3);
        m.seconds = history(e, 4);
        m.images_per_second = history(e, 5);
        state.history.push_back(m);
    }
    std::cout << "resumed from " << o.resume << " after " << state.epochs_done << " epochs and "
              << state.batch_losses.size() << " batches\n";
    return state;
}

}  // namespace mnist
