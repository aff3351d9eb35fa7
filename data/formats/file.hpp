// What every file format shares: the exception it throws, whole-file reading (with optional
// gzip), the one atomic writer, and the byte helpers the binary formats use.
//
// A gzip file is recognised by its first two bytes, 1f 8b, never by its name, so
// "train-images-idx3-ubyte" may be compressed and "x.gz" may be raw.
//
// Every file tapegrad writes goes through write_file_atomic: the bytes go to a temporary file
// beside the target (path + ".tmp-XXXXXX"), which is written, flushed to disk (fsync) and
// closed, then renamed over the target, and the folder is flushed too. A crash at any moment
// leaves the old file or the new one, never half of one; if anything fails the temporary file
// is removed and an existing file is left as it was. A replaced file keeps its permissions; a
// new one gets rw-r--r--.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tapegrad {

// Every error of the file formats and the data sets. The message names the file and says what
// is wrong: "digit.pgm: image is 32x32, expected 28x28".
class DataError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

using Bytes = std::vector<std::uint8_t>;

enum class Compression { none, gzip };

// The file's bytes, exactly as stored.
Bytes read_file(const std::string& path);

// The file's bytes, decompressed when they start with the gzip magic. A gzip stream that is cut
// short, corrupt, or followed by bytes that are not another gzip member is an error.
Bytes read_file_maybe_gzip(const std::string& path);

bool is_gzip(const Bytes& bytes);

// `path` only names the file in error messages.
Bytes gunzip(const std::string& path, const Bytes& compressed);
Bytes gzip(const Bytes& raw);

// Writes (replacing) the file atomically, as described above. `who` starts the error message:
// "save_arrays: cannot write 'run.npz': flushing to disk (fsync) failed (...)".
void write_file_atomic(const std::string& path, std::string_view bytes,
                       const std::string& who = "write_file");

// write_file_atomic, gzip-compressed when asked.
void write_file(const std::string& path, const Bytes& bytes,
                Compression compression = Compression::none);

// ---- bytes ---------------------------------------------------------------------------------
// Unsigned integers of n bytes at p, little-endian (ZIP, .npy) and big-endian (IDX). The
// caller checks that n bytes are there.
std::uint64_t load_le(const void* p, int n);
std::uint64_t load_be(const void* p, int n);

// Whitespace as the C locale has it (space, \t, \n, \r, \v, \f), for text formats.
inline bool is_space(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

// "0x0000ABCD": v in hexadecimal, with at least `digits` digits.
std::string hex(std::uint64_t v, int digits);

}  // namespace tapegrad
