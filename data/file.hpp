// What every data reader shares: the exception it throws, and whole-file reading and writing
// with optional gzip (zlib). A gzip file is recognised by its first two bytes, 1f 8b, never by
// its name, so "train-images-idx3-ubyte" may be compressed and "x.gz" may be raw.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace tapegrad {

// Every error of the data layer. The message starts with the file's path and says what is wrong:
// "digit.pgm: image is 32x32, expected 28x28".
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

// Writes (replacing) the file, gzip-compressed when asked.
void write_file(const std::string& path, const Bytes& bytes,
                Compression compression = Compression::none);

}  // namespace tapegrad
