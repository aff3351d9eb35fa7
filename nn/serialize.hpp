// Saving and loading a model's parameters, as a NumPy .npz file that Python reads directly:
//
//   nn::save(*model, "model.npz");                   // C++
//   numpy.load("model.npz")["0.weight"]              # Python: float32 array [out, in]
//   nn::load(*model, "model.npz");                   // C++, into a model of the same structure
//
// One array per parameter, named by its dotted path from named_parameters(). The file format
// and the atomic write are described in data/formats/npz.hpp (the archive) and data/formats/npy.hpp (each array).
//
// Loading is all or nothing: the file is read and checked completely, then compared with the
// model; if any name or shape differs, the error lists every difference and the model is
// unchanged. Parameter handles stay valid (values are copied in place), so an optimizer built
// before load() keeps working.
//
// To keep other state in the same file, combine the arrays yourself:
//
//   NamedArrays arrays = nn::parameter_arrays(*model);
//   for (auto& [name, a] : optimizer_state) arrays.emplace_back("optimizer." + name, a);
//   save_arrays("checkpoint.npz", arrays);
//   ...
//   NamedArrays model_part;   // load_arrays("checkpoint.npz") without the "optimizer." names
//   nn::assign_parameters(*model, model_part, "'checkpoint.npz'");
#pragma once

#include <string>

#include "module.hpp"
#include "../data/formats/npy.hpp"
#include "../data/formats/npz.hpp"

namespace tapegrad::nn {

// save_arrays(path, parameter_arrays(module)).
void save(const Module& module, const std::string& path);
// assign_parameters(module, float32_arrays(load_npz(path), ...), ...). Besides float32 it reads
// float64, int64 and uint8 arrays whose every value converts exactly (as a PyTorch state_dict
// saved with numpy.savez holds: num_batches_tracked is int64; model.double()'s weights are
// float64); otherwise it names each array that would change and loads nothing.
void load(Module& module, const std::string& path);

// The arrays as float32, if every value of every array converts exactly; otherwise throws
// std::runtime_error naming each array that does not (its dtype, how many values, the first).
NamedArrays float32_arrays(const NamedTypedArrays& arrays, const std::string& source = "the arrays");

// The model's parameters, then its buffers, as named copies (named_parameters() and
// named_buffers() order): what save() writes and load() reads, as a PyTorch state_dict.
NamedArrays parameter_arrays(const Module& module);

// Copies the arrays into the parameters and buffers of the same names. If names or shapes
// differ, throws std::runtime_error listing every missing name, unexpected name and shape
// difference (with both shapes) and changes nothing. `source` says where the arrays came from
// in that message.
void assign_parameters(Module& module, const NamedArrays& arrays,
                       const std::string& source = "the arrays");

}  // namespace tapegrad::nn
