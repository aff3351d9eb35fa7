// How a training program can ask glibc's malloc to treat large arrays.
//
// A training step allocates and frees the same large arrays over and over (activations, their
// gradients: 6 MB each for the tutorial CNN's first layer at batch 100). By default glibc serves
// blocks that large with mmap and returns them to the kernel on free, so every step page-faults
// on fresh zeroed pages again. tune_malloc() raises malloc's mmap and trim thresholds (64 MB and
// 256 MB), so freed blocks are reused instead; the price is that the process keeps up to 256 MB
// of freed memory instead of returning it.
//
// The library never calls it by itself: malloc's settings belong to the program. The bundled
// examples and the benchmark call it first thing in main(); so may yours. With the environment
// variable TAPEGRAD_MALLOC=keep it does nothing.
#pragma once

namespace tapegrad {

// Applies the settings above; returns whether it did (false with TAPEGRAD_MALLOC=keep, or where
// malloc is not glibc's).
bool tune_malloc();

}  // namespace tapegrad
