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
// parts = min(num_threads(), n), on parts threads at once (the caller runs t = 0). Inside, OpenBLAS
// is single-threaded, so a body may call sgemm without oversubscribing the cores. Nested calls
// run serially. An exception thrown by a body is rethrown here after every part has finished.
void parallel_for(std::size_t n,
                  const std::function<void(std::size_t begin, std::size_t end, int t)>& body);

// The number of parts parallel_for(n, ...) will use.
int parallel_parts(std::size_t n);

}  // namespace tapegrad
