// IDX, the file format of MNIST: a 4-byte magic number (0x00 0x00, an element type, a rank),
// then `rank` big-endian 32-bit dimensions, then the elements in row-major order.
//
//   train-images-idx3-ubyte   00 00 08 03   60000 28 28   then 60000*28*28 bytes
//   train-labels-idx1-ubyte   00 00 08 01   60000         then 60000 bytes
//
// Only the element type 0x08 (unsigned byte), the one MNIST uses, is read. Files may be raw or
// gzip-compressed (detected by content). Every problem is a DataError naming the file:
//   train-images-idx3-ubyte.gz: truncated: header says 60000 x 28 x 28 = 47040000 bytes of
//   data, file has 1200
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "file.hpp"

namespace tapegrad {

struct IdxFile {
    std::vector<std::size_t> dims;  // [60000, 28, 28]
    Bytes bytes;                    // product(dims) elements, row-major

    std::size_t count() const { return bytes.size(); }
};

// Reads a raw or gzip-compressed IDX file of unsigned bytes. The file must hold exactly the data
// its header declares: missing or extra bytes are errors.
IdxFile read_idx(const std::string& path);

// Writes an IDX file of unsigned bytes (type 0x08); `bytes` must hold product(dims) elements.
void write_idx(const std::string& path, const std::vector<std::size_t>& dims, const Bytes& bytes,
               Compression compression = Compression::none);

// "60000 x 28 x 28"
std::string dims_str(const std::vector<std::size_t>& dims);

}  // namespace tapegrad
