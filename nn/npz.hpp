// Named float32 arrays in a NumPy .npz file: the generic layer under nn::save and nn::load,
// public so that other state (an optimizer's moments, a step count) can share a file with the
// model, for instance under names starting with "optimizer.".
//
// The file is a ZIP archive with one entry per array, named by the array's name + ".npy" and
// holding the array in .npy format (nn/npy.hpp). The entries are STORED (not compressed), each
// with its CRC-32; there is no ZIP64, so a file holds at most 65534 arrays and 4 GiB. Python
// reads it with numpy.load(path)[name].
//
// save_arrays is atomic: the bytes go to a temporary file beside the target
// (path + ".tmp-XXXXXX"), which is written, flushed to disk (fsync) and closed, then renamed
// over the target. If anything fails the temporary file is removed and an existing file at
// `path` is left as it was. A replaced file keeps its permissions; a new one gets rw-r--r--.
//
// load_arrays reads the whole file and checks it (ZIP structure, the CRC-32 of every entry,
// every .npy header, dtype, shape and size) before it returns, so a truncated or corrupted file
// is an error naming the file. It also reads what numpy.savez writes (including the ZIP64 extra
// fields numpy adds) and numpy.savez_compressed (deflate entries, through zlib).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"

namespace tapegrad::nn {

using NamedArrays = std::vector<std::pair<std::string, Array>>;

// Writes the arrays, in the given order. Names must be non-empty and unique; an array may have
// any shape, including 0-d and empty ones. Throws std::invalid_argument for bad names (before
// touching the disk) and std::runtime_error naming `path` if writing fails.
void save_arrays(const std::string& path, const NamedArrays& arrays);

// Every array of the file in the archive's order, names without ".npy". Throws
// std::runtime_error naming `path` if the file cannot be read, is truncated or corrupted, or
// holds anything other than float32 .npy arrays.
NamedArrays load_arrays(const std::string& path);

}  // namespace tapegrad::nn
