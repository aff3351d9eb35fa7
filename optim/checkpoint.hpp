// Checkpoints: a model's parameters, its optimizer's state and a few numbers of your own (the
// epoch, say) in one NumPy .npz file, so that training stops and resumes exactly.
//
//   optim::save_checkpoint("run.npz", *model, sgd, {{"epoch", xt::xarray<std::int64_t>{3}}});
//   NamedTypedArrays extra = optim::load_checkpoint("run.npz", *model, sgd);   // the epoch
//
// Entries are named model.<parameter>, optimizer.<state entry>, scheduler.<state entry> and
// extra.<name>, with random.generator, the state of ops/random.hpp's generator (restored on
// load, so that dropout draws what an uninterrupted run would have drawn); numpy.load reads
// them all. The extra arrays may be float32, float64, int64 or uint8 (text_array() in
// data/formats/npy.hpp keeps a string), so doubles and counters keep every bit. The write is atomic (data/formats/npz.hpp). Loading checks everything first: if the file does
// not fit the model or the optimizer, the error says what differs and neither is changed.
#pragma once

#include <string>

#include "../nn/module.hpp"
#include "optimizer.hpp"
#include "scheduler.hpp"

namespace tapegrad::optim {

void save_checkpoint(const std::string& path, const nn::Module& model, const Optimizer& optimizer,
                     const NamedTypedArrays& extra = {});
// With a learning-rate scheduler's state too (scheduler.<entry>).
void save_checkpoint(const std::string& path, const nn::Module& model, const Optimizer& optimizer,
                     const LrScheduler& scheduler, const NamedTypedArrays& extra = {});

// Returns the extra arrays, without their prefix. A scheduler's entries in the file are skipped.
NamedTypedArrays load_checkpoint(const std::string& path, nn::Module& model, Optimizer& optimizer);
// With the scheduler's state, which the file must hold; the model, the optimizer and the
// scheduler all change, or none does.
NamedTypedArrays load_checkpoint(const std::string& path, nn::Module& model, Optimizer& optimizer,
                                 LrScheduler& scheduler);

}  // namespace tapegrad::optim
