// Regressions for what the fuzzers (fuzz/) and the sanitizer build (scripts/sanitize.sh) found
// in the readers and writers. Each test holds the input that failed, reduced by hand. Under the
// sanitizer build they also check that no undefined behaviour is left on the path.
#include <cstdlib>
#include <filesystem>
#include <string>

#include "helpers.hpp"

using namespace tapegrad;
namespace fs = std::filesystem;

namespace {

using test::TempDir;

}  // namespace

// fuzz_pgm: width x height = 2^32 x 2^32 wrapped around to 0 pixels, which "matched" the empty
// raster; xtensor then overflowed computing the strides of a [2^32, 2^32] array.
TEST_CASE("a PGM header whose width times height overflows is refused before allocating") {
    TempDir dir;
    for (const char* magic : {"P2", "P5"}) {
        const std::string path =
            dir.write("huge.pgm", std::string(magic) + "\n4294967296 4294967296\n255\n");
        CHECK_THROWS_WITH_AS(read_pgm(path),
                             doctest::Contains("image is 4294967296x4294967296: too many pixels"),
                             DataError);
    }
    const std::string path = dir.write("wide.pgm", "P5\n65536 65536\n255\n");
    CHECK_THROWS_WITH_AS(read_pgm(path), doctest::Contains("too many pixels"), DataError);
}

// fuzz_seeds, under UBSan: an empty array made by Array::from_shape has no storage, and
// to_npy passed its null data() to memcpy (undefined even for 0 bytes).
TEST_CASE("an empty array without storage round trips through npy") {
    const Array empty = Array::from_shape({0, 3});
    const std::string npy = to_npy(empty);
    CHECK(npy.size() == 128);  // the header only
    const Array back = from_npy(npy);
    CHECK(back.shape() == empty.shape());
}
