// read_pgm on arbitrary bytes (P5 and P2). On success the pixels are [height, width], in [0, 1].
#include <tapegrad/data/formats/pgm.hpp>

#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write_input(data, size, ".pgm");
    tapegrad::PgmImage img;
    if (!fuzz::expect_clean([&] { img = tapegrad::read_pgm(path); })) return 0;
    if (img.pixels.dimension() != 2 || img.pixels.shape()[0] != img.height ||
        img.pixels.shape()[1] != img.width || img.width == 0 || img.height == 0 ||
        img.pixels.size() / img.width != img.height)  // width x height must not overflow
        fuzz::broken("pixels " + tapegrad::shape_str(img.pixels.shape()) + " for a " +
                     std::to_string(img.width) + "x" + std::to_string(img.height) + " image");
    for (float v : img.pixels)
        if (!(v >= 0.0f && v <= 1.0f)) fuzz::broken("a pixel outside [0, 1]");
    return 0;
}
