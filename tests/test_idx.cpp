#include <cstdlib>
#include <filesystem>
#include <string>

#include "helpers.hpp"
#include <tapegrad/data/formats/idx.hpp>

using namespace tapegrad;
namespace fs = std::filesystem;

namespace {

using test::TempDir;

Bytes iota_bytes(std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7);
    return b;
}

}  // namespace

TEST_CASE("a raw IDX file round trips its dims and bytes") {
    TempDir tmp;
    const std::string path = tmp.file("small-idx2-ubyte");
    write_idx(path, {2, 3}, {0, 1, 2, 253, 254, 255});
    Bytes file = read_file(path);
    CHECK(file.size() == 4 + 8 + 6);
    CHECK(file[2] == 0x08);
    CHECK(file[3] == 2);
    CHECK(file[7] == 2);   // dims are big-endian 32-bit
    CHECK(file[11] == 3);
    IdxFile idx = read_idx(path);
    CHECK(idx.dims == std::vector<std::size_t>{2, 3});
    CHECK(idx.bytes == Bytes{0, 1, 2, 253, 254, 255});
    CHECK(idx.count() == 6);
}

TEST_CASE("a gzip IDX file round trips and is detected by its magic bytes not its name") {
    TempDir tmp;
    const Bytes data = iota_bytes(4 * 5 * 6);
    const std::string gz_without_suffix = tmp.file("images-idx3-ubyte");
    write_idx(gz_without_suffix, {4, 5, 6}, data, Compression::gzip);
    Bytes file = read_file(gz_without_suffix);
    REQUIRE(file.size() >= 2);
    CHECK(file[0] == 0x1f);
    CHECK(file[1] == 0x8b);
    IdxFile idx = read_idx(gz_without_suffix);
    CHECK(idx.dims == std::vector<std::size_t>{4, 5, 6});
    CHECK(idx.bytes == data);

    const std::string raw_with_suffix = tmp.file("labels-idx1-ubyte.gz");
    write_idx(raw_with_suffix, {3}, {7, 8, 9});
    CHECK(read_idx(raw_with_suffix).bytes == Bytes{7, 8, 9});
}

TEST_CASE("two concatenated gzip members read as one stream") {
    TempDir tmp;
    const std::string path = tmp.file("two-members-idx1-ubyte.gz");
    Bytes header = {0, 0, 8, 1, 0, 0, 0, 4};
    Bytes a = gzip(header), b = gzip(Bytes{1, 2, 3, 4});
    a.insert(a.end(), b.begin(), b.end());
    write_file(path, a);
    CHECK(read_idx(path).bytes == Bytes{1, 2, 3, 4});
}

TEST_CASE("a truncated IDX file names the file and both byte counts") {
    TempDir tmp;
    const std::string path = tmp.file("train-images-idx3-ubyte");
    Bytes file = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 28, 0, 0, 0, 28};
    file.resize(16 + 1200, 0);
    write_file(path, file);
    CHECK_THROWS_WITH_AS(read_idx(path),
                         doctest::Contains("train-images-idx3-ubyte: truncated: header says "
                                           "3 x 28 x 28 = 2352 bytes of data, file has 1200"),
                         DataError);
}

TEST_CASE("a complete gzip stream holding a truncated IDX file is reported as truncated") {
    TempDir tmp;
    const std::string path = tmp.file("train-labels-idx1-ubyte.gz");
    write_file(path, Bytes{0, 0, 8, 1, 0, 0, 0xEA, 0x60, 1, 2, 3}, Compression::gzip);
    CHECK_THROWS_WITH_AS(read_idx(path),
                         doctest::Contains("train-labels-idx1-ubyte.gz: truncated: header says "
                                           "60000 bytes of data, file has 3"),
                         DataError);
}

TEST_CASE("a header cut inside its dimensions is truncated") {
    TempDir tmp;
    const std::string path = tmp.file("short-header");
    write_file(path, Bytes{0, 0, 8, 3, 0, 0, 0, 3, 0, 0});
    CHECK_THROWS_WITH_AS(read_idx(path),
                         doctest::Contains("short-header: truncated: a header of rank 3 needs "
                                           "16 bytes, file has 10"),
                         DataError);
}

TEST_CASE("trailing bytes after the declared data are an error") {
    TempDir tmp;
    const std::string path = tmp.file("labels-idx1-ubyte");
    write_file(path, Bytes{0, 0, 8, 1, 0, 0, 0, 2, 5, 6, 7});
    CHECK_THROWS_WITH_AS(read_idx(path),
                         doctest::Contains("labels-idx1-ubyte: trailing bytes: header says 2 "
                                           "bytes of data, file has 3"),
                         DataError);
}

TEST_CASE("a wrong magic number is an error naming the bytes") {
    TempDir tmp;
    const std::string path = tmp.file("not-idx.png");
    write_file(path, Bytes{0x89, 'P', 'N', 'G', 0, 0, 0, 1, 9});
    CHECK_THROWS_WITH_AS(read_idx(path),
                         doctest::Contains("not-idx.png: bad magic number 0x89 0x50 0x4E 0x47"),
                         DataError);
}

TEST_CASE("an unknown type byte is a bad magic number") {
    TempDir tmp;
    const std::string path = tmp.file("type07");
    write_file(path, Bytes{0, 0, 7, 1, 0, 0, 0, 1, 9});
    CHECK_THROWS_WITH_AS(read_idx(path),
                         doctest::Contains("type07: bad magic number 0x00 0x00 0x07 0x01: type "
                                           "byte 0x07 is not an IDX element type"),
                         DataError);
}

TEST_CASE("an IDX element type other than unsigned byte is refused by name") {
    TempDir tmp;
    const std::string path = tmp.file("floats-idx1");
    write_file(path, Bytes{0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0});
    CHECK_THROWS_WITH_AS(read_idx(path),
                         doctest::Contains("floats-idx1: element type 0x0D (float) is not "
                                           "supported"),
                         DataError);
}

TEST_CASE("rank 0 is an error") {
    TempDir tmp;
    const std::string path = tmp.file("rank0");
    write_file(path, Bytes{0, 0, 8, 0, 42});
    CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains("rank0: rank 0 in the magic number"),
                         DataError);
}

TEST_CASE("a zero dimension is an error") {
    TempDir tmp;
    const std::string path = tmp.file("zero-dim");
    write_file(path, Bytes{0, 0, 8, 2, 0, 0, 0, 5, 0, 0, 0, 0});
    CHECK_THROWS_WITH_AS(read_idx(path),
                         doctest::Contains("zero-dim: dimension 1 is 0 (dims 5 x 0)"), DataError);
}

TEST_CASE("an empty file is an error") {
    TempDir tmp;
    const std::string path = tmp.file("empty-idx1-ubyte");
    write_file(path, Bytes{});
    CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains("empty-idx1-ubyte: empty file"),
                         DataError);
}

TEST_CASE("a missing file is an error naming the path") {
    TempDir tmp;
    const std::string path = tmp.file("nowhere-idx1-ubyte");
    CHECK_THROWS_WITH_AS(read_idx(path),
                         doctest::Contains("nowhere-idx1-ubyte: cannot open: No such file"),
                         DataError);
}

TEST_CASE("a gzip stream cut short is an error") {
    TempDir tmp;
    const std::string whole = tmp.file("whole.gz");
    write_idx(whole, {10, 10}, iota_bytes(100), Compression::gzip);
    Bytes gz = read_file(whole);
    REQUIRE(gz.size() > 20);
    gz.resize(gz.size() - 10);  // drops the CRC and length trailer and some data
    const std::string cut = tmp.file("cut-idx2-ubyte.gz");
    write_file(cut, gz);
    CHECK_THROWS_WITH_AS(read_idx(cut),
                         doctest::Contains("cut-idx2-ubyte.gz: gzip stream cut short"),
                         DataError);
}

TEST_CASE("a gzip file whose checksum does not match is corrupt") {
    TempDir tmp;
    const std::string path = tmp.file("bad-crc.gz");
    write_idx(path, {4}, {1, 2, 3, 4}, Compression::gzip);
    Bytes gz = read_file(path);
    gz[gz.size() - 8] ^= 0xFF;  // first byte of the CRC-32 trailer
    write_file(path, gz);
    CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains("bad-crc.gz: corrupt gzip data"),
                         DataError);
}

TEST_CASE("junk after a gzip stream is an error") {
    TempDir tmp;
    const std::string path = tmp.file("junk.gz");
    Bytes gz = gzip(Bytes{0, 0, 8, 1, 0, 0, 0, 1, 9});
    gz.push_back('x');
    gz.push_back('y');
    write_file(path, gz);
    CHECK_THROWS_WITH_AS(read_idx(path),
                         doctest::Contains("junk.gz: 2 bytes after the end of the gzip stream"),
                         DataError);
}

TEST_CASE("write_idx refuses bytes that do not match the dims") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(write_idx(tmp.file("x"), {2, 2}, {1, 2, 3}),
                         doctest::Contains("dims 2 x 2 hold 4 elements but 3 bytes were given"),
                         DataError);
}
