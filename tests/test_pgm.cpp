#include <cstdlib>
#include <filesystem>
#include <string>

#include "helpers.hpp"
#include <tapegrad/data/formats/pgm.hpp>

using namespace tapegrad;
namespace fs = std::filesystem;

namespace {

using test::TempDir;

// [3, 4] with pixel (r, c) = (20 r + 5 c) / 255, exactly representable after a round trip.
Array ramp() {
    Array a = Array::from_shape({3, 4});
    for (std::size_t r = 0; r < 3; ++r)
        for (std::size_t c = 0; c < 4; ++c) a(r, c) = static_cast<float>(20 * r + 5 * c) / 255.0f;
    a(2, 3) = 1.0f;
    return a;
}

}  // namespace

TEST_CASE("a P5 image round trips") {
    TempDir tmp;
    write_pgm(tmp.file("ramp.pgm"), ramp(), PgmFormat::binary);
    Bytes file = read_file(tmp.file("ramp.pgm"));
    CHECK(std::string(file.begin(), file.begin() + 2) == "P5");
    CHECK(file.size() == std::string("P5\n4 3\n255\n").size() + 12);
    PgmImage img = read_pgm(tmp.file("ramp.pgm"));
    CHECK(img.width == 4);
    CHECK(img.height == 3);
    CHECK(shape_str(img.pixels.shape()) == "[3, 4]");
    CHECK(img.pixels == ramp());
    CHECK(img.pixels(2, 3) == 1.0f);
    CHECK(img.pixels(1, 2) == 30.0f / 255.0f);
}

TEST_CASE("a P2 image round trips") {
    TempDir tmp;
    write_pgm(tmp.file("ramp.pgm"), ramp(), PgmFormat::ascii);
    Bytes file = read_file(tmp.file("ramp.pgm"));
    CHECK(std::string(file.begin(), file.begin() + 2) == "P2");
    PgmImage img = read_pgm(tmp.file("ramp.pgm"), 4, 3);
    CHECK(img.pixels == ramp());
}

TEST_CASE("a P2 header with comments and a small maxval scales to 0 to 1") {
    TempDir tmp;
    const std::string path =
        tmp.write("tiny.pgm", "P2\n# made by hand\n3 # width\n2\n15\n0 5 15\n# middle\n15 10 3\n");
    PgmImage img = read_pgm(path);
    CHECK(img.width == 3);
    CHECK(img.height == 2);
    CHECK(img.pixels(0, 0) == 0.0f);
    CHECK(img.pixels(0, 1) == doctest::Approx(1.0 / 3.0));
    CHECK(img.pixels(0, 2) == 1.0f);
    CHECK(img.pixels(1, 1) == doctest::Approx(10.0 / 15.0));
    CHECK(img.pixels(1, 2) == doctest::Approx(0.2));
}

TEST_CASE("a P5 header with a comment reads the raster after one whitespace byte") {
    TempDir tmp;
    std::string text = "P5 # binary\n2 1\n255\n";
    text += '\n';  // pixel 0 is byte 10, which happens to be a newline
    text += static_cast<char>(255);
    PgmImage img = read_pgm(tmp.write("nl.pgm", text));
    CHECK(img.pixels(0, 0) == doctest::Approx(10.0 / 255.0));
    CHECK(img.pixels(0, 1) == 1.0f);
}

TEST_CASE("a PGM of the wrong size names both sizes") {
    TempDir tmp;
    write_pgm(tmp.file("digit.pgm"), Array::from_shape({32, 32}));
    CHECK_THROWS_WITH_AS(read_pgm(tmp.file("digit.pgm"), 28, 28),
                         doctest::Contains("digit.pgm: image is 32x32, expected 28x28"),
                         DataError);
    write_pgm(tmp.file("wide.pgm"), Array::from_shape({2, 3}));
    CHECK_THROWS_WITH_AS(read_pgm(tmp.file("wide.pgm"), 28, 28),
                         doctest::Contains("wide.pgm: image is 3x2, expected 28x28"), DataError);
}

TEST_CASE("a PGM with a bad magic is an error") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_pgm(tmp.write("color.ppm", "P6\n1 1\n255\nabc")),
                         doctest::Contains("color.ppm: bad magic \"P6\": a PGM image starts with "
                                           "P5 (binary) or P2 (ASCII)"),
                         DataError);
    CHECK_THROWS_WITH_AS(read_pgm(tmp.write("png.pgm", "\x89PNG")),
                         doctest::Contains("png.pgm: bad magic \"\\x89P\""), DataError);
}

TEST_CASE("a truncated P5 raster is an error") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_pgm(tmp.write("cut.pgm", "P5\n28 28\n255\n" + std::string(100, 'x'))),
                         doctest::Contains("cut.pgm: truncated: header says 28x28 = 784 pixels, "
                                           "file has 100 bytes of pixel data"),
                         DataError);
}

TEST_CASE("a truncated P2 raster is an error") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_pgm(tmp.write("cut2.pgm", "P2\n2 2\n255\n1 2 3\n")),
                         doctest::Contains("cut2.pgm: truncated: header says 2x2 = 4 pixels, "
                                           "file has 3"),
                         DataError);
}

TEST_CASE("a truncated PGM header is an error") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_pgm(tmp.write("head.pgm", "P5\n28 28\n")),
                         doctest::Contains("head.pgm: truncated: the header ends before the "
                                           "maxval"),
                         DataError);
}

TEST_CASE("trailing bytes after a P5 raster are an error") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_pgm(tmp.write("long.pgm", "P5\n2 1\n255\nabc")),
                         doctest::Contains("long.pgm: trailing bytes: header says 2x1 = 2 "
                                           "pixels, file has 3 bytes of pixel data"),
                         DataError);
}

TEST_CASE("a maxval above 255 is refused") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_pgm(tmp.write("deep.pgm", "P2\n1 1\n65535\n7\n")),
                         doctest::Contains("deep.pgm: maxval 65535 is not supported"),
                         DataError);
}

TEST_CASE("a P2 pixel above the maxval is an error") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_pgm(tmp.write("hot.pgm", "P2\n2 1\n15\n3 16\n")),
                         doctest::Contains("hot.pgm: pixel 1 is 16, above the maxval 15"),
                         DataError);
}

TEST_CASE("a non-number in a PGM header is an error") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_pgm(tmp.write("word.pgm", "P2\nwide 2\n255\n")),
                         doctest::Contains("word.pgm: expected the width, found \"wide\""),
                         DataError);
}

TEST_CASE("an empty PGM file is an error") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_pgm(tmp.write("empty.pgm", "")),
                         doctest::Contains("empty.pgm: empty file"), DataError);
}
