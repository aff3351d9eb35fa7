// PGM grey images, binary (P5) and plain ASCII (P2), maxval 1 to 255, '#' comments in the
// header. For feeding your own drawing to a trained MNIST model (examples/mnist --predict):
// MNIST digits are white ink (1.0) on black (0.0), 28x28; invert a dark-on-light drawing first.
//
//   PgmImage img = read_pgm("digit.pgm", 28, 28);   // throws unless the image is 28x28
//   img.pixels                                      // [28, 28] floats in [0, 1]
//
// Errors name the file and the problem: "digit.pgm: image is 32x32, expected 28x28".
#pragma once

#include <cstddef>
#include <string>

#include "../../core/tensor.hpp"
#include "file.hpp"

namespace tapegrad {

struct PgmImage {
    std::size_t width = 0;
    std::size_t height = 0;
    Array pixels;  // [height, width], value / maxval, so in [0, 1]
};

PgmImage read_pgm(const std::string& path);
// As above, and the image must be width x height.
PgmImage read_pgm(const std::string& path, std::size_t width, std::size_t height);

enum class PgmFormat { binary, ascii };  // P5, P2

// Writes `pixels` [height, width] (values clamped to [0, 1]) with maxval 255.
void write_pgm(const std::string& path, const Array& pixels,
               PgmFormat format = PgmFormat::binary);

}  // namespace tapegrad
