// One array as the bytes of a NumPy .npy file, and back.
//
// to_npy writes format 1.0: the magic "\x93NUMPY", the version bytes 1 0, the header length as
// 2 little-endian bytes, then the header, a Python dict literal such as
//     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and ended by a newline so that the data starts at a multiple of 64 bytes,
// then the numbers, little-endian, in C (row-major) order. The bytes are exactly those of
// numpy.save for the same array.
//
// Four dtypes, the ones a model and its training state need: float32 ('<f4', Array, what every
// tensor holds), float64 ('<f8': times, losses and metrics kept bit for bit), int64 ('<i8':
// counters, indices) and uint8 ('|u1': text and raw bytes).
//
// from_npy reads versions 1.0, 2.0 and 3.0 of those dtypes, either byte order, in C or Fortran
// order. Other dtypes are rejected with a message saying how to convert them; a header that does
// not parse, or data whose size does not match the shape, is an error. `what` starts each
// message (load_arrays passes the file and entry name).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "../../core/tensor.hpp"

namespace tapegrad {

enum class DType { float32, float64, int64, uint8 };

// An array of one of the four dtypes. Array (float32) comes first, so a TypedArray made from an
// Array holds float32.
using TypedArray = std::variant<Array, xt::xarray<double>, xt::xarray<std::int64_t>,
                                xt::xarray<std::uint8_t>>;

DType dtype_of(const TypedArray& array);
const char* dtype_name(DType dtype);  // "float32", "float64", "int64", "uint8"
Shape shape_of(const TypedArray& array);

// uint8 arrays of text, and back: how a checkpoint keeps a string.
TypedArray text_array(std::string_view text);
std::string array_text(const TypedArray& array, const std::string& what);

std::string to_npy(const TypedArray& array);
std::string to_npy(const Array& array);  // float32, without copying it into a TypedArray

// Any of the four dtypes.
TypedArray from_npy_typed(std::string_view bytes, const std::string& what = "npy data");
// float32 only: another dtype is an error naming it and saying how to convert it.
Array from_npy(std::string_view bytes, const std::string& what = "npy data");


}  // namespace tapegrad
