// Where make_node (core/tensor.hpp) gets its memory: a per-thread cache of freed node blocks.
//
// A chain of scalar ops makes and frees one node per op, and malloc's slow path for blocks of a
// node's size costs more than the op itself. Only make_node uses this cache, so every block has
// the same size. Tested in tests/test_runtime.cpp.
#pragma once

#include <cstddef>

namespace tapegrad::detail {

// How many freed node blocks wait in the calling thread's cache (0 when the cache is off, as
// under AddressSanitizer).
std::size_t cached_node_blocks();

}  // namespace tapegrad::detail
