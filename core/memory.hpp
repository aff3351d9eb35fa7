// How tapegrad asks glibc's malloc to treat large arrays.
//
// A training step allocates and frees the same large arrays over and over (activations, their
// gradients: 6 MB each for the tutorial CNN's first layer at batch 100). By default glibc serves
// blocks that large with mmap and returns them to the kernel on free, so every step page-faults
// on fresh zeroed pages again: we measured a third of the CNN's convolution time spent in page
// faults. At start-up tapegrad raises malloc's mmap and trim thresholds (64 MB and 256 MB), so
// freed blocks are reused instead. Set TAPEGRAD_MALLOC=keep to leave malloc's settings alone.
#pragma once

namespace tapegrad {

// Applies the settings above once (called before main by the library); returns whether it did.
bool tune_malloc();

}  // namespace tapegrad
