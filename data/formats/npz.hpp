// Named arrays in a NumPy .npz file: the generic layer under nn::save and nn::load,
// public so that other state (an optimizer's moments, a step count) can share a file with the
// model, for instance under names starting with "optimizer.".
//
// The file is a ZIP archive with one entry per array, named by the array's name + ".npy" and
// holding the array in .npy format (data/formats/npy.hpp). The entries are STORED (not compressed), each
// with its CRC-32; there is no ZIP64, so a file holds at most 65534 arrays and 4 GiB. Python
// reads it with numpy.load(path)[name].
//
// Writing is atomic (write_file_atomic, data/formats/file.hpp): a crash leaves the old file or
// the new one, never half of one.
//
// load_arrays reads the whole file and checks it (ZIP structure, the CRC-32 of every entry,
// every .npy header, dtype, shape and size) before it returns, so a truncated or corrupted file
// is an error naming the file. It also reads what numpy.savez writes (including the ZIP64 extra
// fields numpy adds) and numpy.savez_compressed (deflate entries, through zlib).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "../../core/tensor.hpp"
#include "npy.hpp"

namespace tapegrad {

using NamedArrays = std::vector<std::pair<std::string, Array>>;        // float32 only
using NamedTypedArrays = std::vector<std::pair<std::string, TypedArray>>;  // any of four dtypes

// Writes the arrays, in the given order. Names must be non-empty and unique; an array may have
// any shape, including 0-d and empty ones. Throws std::invalid_argument for bad names (before
// touching the disk) and DataError naming `path` if writing fails.
void save_npz(const std::string& path, const NamedTypedArrays& arrays);
// Every array of the file in the archive's order, names without ".npy". Throws
// std::runtime_error naming `path` if the file cannot be read, is truncated or corrupted, or
// holds a dtype other than float32, float64, int64 and uint8.
NamedTypedArrays load_npz(const std::string& path);

// The same for float32 arrays only (a model's parameters, an optimizer's state): load_arrays
// refuses another dtype, naming the entry.
void save_arrays(const std::string& path, const NamedArrays& arrays);
NamedArrays load_arrays(const std::string& path);

// The array named `name` (a state_dict's sd["fc.weight"]); std::invalid_argument naming it, and
// the names there are, when there is none.
const Array& array_named(const NamedArrays& arrays, const std::string& name);
const TypedArray& array_named(const NamedTypedArrays& arrays, const std::string& name);
// The same as a Tensor: float32 as it is, float64, int64 and uint8 converted when every value is
// exact in float32, as class indices and labels are (y = tensor_named(load_npz(path), "y") for
// an int64 torch tensor saved with numpy.savez); otherwise std::invalid_argument naming the
// array and the first value that would change.
Tensor tensor_named(const NamedTypedArrays& arrays, const std::string& name);


}  // namespace tapegrad
