// One array as the bytes of a NumPy .npy file, and back.
//
// to_npy writes format 1.0: the magic "\x93NUMPY", the version bytes 1 0, the header length as
// 2 little-endian bytes, then the header, a Python dict literal such as
//     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and ended by a newline so that the data starts at a multiple of 64 bytes,
// then the numbers: little-endian float32 in C (row-major) order. The bytes are exactly those of
// numpy.save for the same float32 array.
//
// from_npy reads versions 1.0, 2.0 and 3.0 with dtype '<f4' or '>f4', in C or Fortran order.
// Other dtypes are rejected with a message saying how to convert them; a header that does not
// parse, or data whose size does not match the shape, is an error. `what` starts each message
// (load_arrays passes the file and entry name).
#pragma once

#include <string>
#include <string_view>

#include "../core/tensor.hpp"

namespace tapegrad::nn {

std::string to_npy(const Array& array);
Array from_npy(std::string_view bytes, const std::string& what = "npy data");

}  // namespace tapegrad::nn
