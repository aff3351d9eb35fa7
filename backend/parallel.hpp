// Threads: how many tapegrad uses, and a parallel loop over a range.
//
// tapegrad runs its own loops (convolution, pooling) on a small pool of threads and lets
// OpenBLAS use its threads for whole-batch products. set_num_threads(n) sets both; the default
// is the number of cores. Work is split into fixed contiguous ranges, one per thread, and
// partial results are combined in thread order, so a result depends on the thread count but
// never on timing: the same seed and thread count give bit-identical runs.
#pragma once

#include <cstddef>
#include <functional>

namespace tapegrad {

void set_num_threads(int threads);  // also OpenBLAS's; values below 1 mean 1
int num_threads();

// Calls body(begin, end, t) for the contiguous ranges t = 0 .. parts-1 that split [0, n), with
// parts = min(num_threads(), n / min_per_part) (at least 1), on parts threads at once (the caller
// runs t = 0). min_per_part keeps small jobs on one thread: waking a worker costs tens of
// microseconds. Inside, OpenBLAS is single-threaded, so a body may call sgemm without
// oversubscribing the cores. Nested calls run serially. An exception thrown by a body is rethrown
// here after every part has finished.
void parallel_for(std::size_t n,
                  const std::function<void(std::size_t begin, std::size_t end, int t)>& body,
                  std::size_t min_per_part = 1);

// For loops of a few operations per float (relu, pooling): below 32K floats per thread the wake-up
// costs more than the thread saves.
constexpr std::size_t min_floats_per_thread = std::size_t{1} << 15;

// The number of parts parallel_for(n, ..., min_per_part) splits [0, n) into: at least 1, even
// for n = 0, when no part runs.
int parallel_parts(std::size_t n, std::size_t min_per_part = 1);

}  // namespace tapegrad
