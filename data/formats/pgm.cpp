#include "pgm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace tapegrad {

namespace {

// Reads whitespace-separated unsigned numbers, skipping '#' comments to the end of the line.
class Reader {
  public:
    Reader(const std::string& path, const Bytes& bytes, std::size_t pos)
        : path_(path), bytes_(bytes), pos_(pos) {}

    void skip_space_and_comments() {
        while (pos_ < bytes_.size()) {
            if (bytes_[pos_] == '#') {
                while (pos_ < bytes_.size() && bytes_[pos_] != '\n') ++pos_;
            } else if (is_space(bytes_[pos_])) {
                ++pos_;
            } else {
                return;
            }
        }
    }

    bool at_end() {
        skip_space_and_comments();
        return pos_ >= bytes_.size();
    }

    // `what` names the number in errors: "the width", "pixel 7".
    std::size_t number(const std::string& what, const std::string& if_missing) {
        if (at_end()) throw DataError(path_ + ": truncated: " + if_missing);
        if (bytes_[pos_] < '0' || bytes_[pos_] > '9') {
            std::size_t end = pos_;
            while (end < bytes_.size() && !is_space(bytes_[end]) && end - pos_ < 20) ++end;
            throw DataError(path_ + ": expected " + what + ", found \"" +
                            std::string(bytes_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                        bytes_.begin() + static_cast<std::ptrdiff_t>(end)) +
                            "\"");
        }
        std::size_t value = 0;
        while (pos_ < bytes_.size() && bytes_[pos_] >= '0' && bytes_[pos_] <= '9') {
            if (value > 1'000'000'000) throw DataError(path_ + ": " + what + " is too large");
            value = value * 10 + (bytes_[pos_++] - '0');
        }
        if (pos_ < bytes_.size() && !is_space(bytes_[pos_]) && bytes_[pos_] != '#')
            throw DataError(path_ + ": expected " + what + ", found a number followed by '" +
                            std::string(1, static_cast<char>(bytes_[pos_])) + "'");
        return value;
    }

    std::size_t pos() const { return pos_; }

  private:
    const std::string& path_;
    const Bytes& bytes_;
    std::size_t pos_;
};

std::string printable(const Bytes& bytes, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < std::min(n, bytes.size()); ++i) {
        unsigned char c = bytes[i];
        if (c >= 0x20 && c < 0x7f) {
            s += static_cast<char>(c);
        } else {
            s += "\\x" + hex(c, 2).substr(2);
        }
    }
    return s;
}

}  // namespace

PgmImage read_pgm(const std::string& path) {
    const Bytes bytes = read_file(path);
    if (bytes.empty()) throw DataError(path + ": empty file (expected a PGM image)");
    const bool binary = bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] == '5';
    const bool ascii = bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] == '2';
    if ((!binary && !ascii) || (bytes.size() > 2 && !is_space(bytes[2]) && bytes[2] != '#'))
        throw DataError(path + ": bad magic \"" + printable(bytes, 2) +
                        "\": a PGM image starts with P5 (binary) or P2 (ASCII)");

    Reader in(path, bytes, 2);
    PgmImage img;
    img.width = in.number("the width", "the header ends before the width");
    img.height = in.number("the height", "the header ends before the height");
    const std::size_t maxval = in.number("the maxval", "the header ends before the maxval");
    if (img.width == 0 || img.height == 0)
        throw DataError(path + ": image is " + std::to_string(img.width) + "x" +
                        std::to_string(img.height) + ": it holds no pixels");
    // Before width x height is computed: a corrupt header must not overflow the product.
    if (img.width > std::numeric_limits<std::uint32_t>::max() / img.height)
        throw DataError(path + ": image is " + std::to_string(img.width) + "x" +
                        std::to_string(img.height) +
                        ": too many pixels (more than 2^32; is the header corrupt?)");
    if (maxval == 0 || maxval > 255)
        throw DataError(path + ": maxval " + std::to_string(maxval) +
                        " is not supported; it must be 1 to 255 (one byte per pixel)");

    const std::size_t count = img.width * img.height;
    const std::string declared = "header says " + std::to_string(img.width) + "x" +
                                 std::to_string(img.height) + " = " + std::to_string(count) +
                                 " pixels";
    // Checked before allocating, so a corrupt header cannot ask for terabytes.
    // In P5 exactly one whitespace byte separates the maxval from the raster.
    const std::size_t raster = binary ? in.pos() + 1 : in.pos();
    const std::size_t have = bytes.size() > raster ? bytes.size() - raster : 0;
    if (binary && have != count)
        throw DataError(path + ": " + (have < count ? "truncated" : "trailing bytes") + ": " +
                        declared + ", file has " + std::to_string(have) + " bytes of pixel data");
    if (!binary && have < count)  // an ASCII pixel takes at least one byte
        throw DataError(path + ": truncated: " + declared + ", file has only " +
                        std::to_string(have) + " bytes after the header");
    img.pixels = Array::from_shape({img.height, img.width});
    float* out = img.pixels.data();
    auto store = [&](std::size_t i, std::size_t v) {
        if (v > maxval)
            throw DataError(path + ": pixel " + std::to_string(i) + " is " + std::to_string(v) +
                            ", above the maxval " + std::to_string(maxval));
        // Divided, not multiplied by 1/maxval, so a P5 of an MNIST digit gives MNIST's floats.
        out[i] = static_cast<float>(v) / static_cast<float>(maxval);
    };

    if (binary) {
        for (std::size_t i = 0; i < count; ++i) store(i, bytes[raster + i]);
    } else {
        for (std::size_t i = 0; i < count; ++i)
            store(i, in.number("pixel " + std::to_string(i),
                               declared + ", file has " + std::to_string(i)));
        if (!in.at_end())
            throw DataError(path + ": trailing data: " + declared +
                            ", and more values follow them");
    }
    return img;
}

PgmImage read_pgm(const std::string& path, std::size_t width, std::size_t height) {
    PgmImage img = read_pgm(path);
    if (img.width != width || img.height != height)
        throw DataError(path + ": image is " + std::to_string(img.width) + "x" +
                        std::to_string(img.height) + ", expected " + std::to_string(width) + "x" +
                        std::to_string(height));
    return img;
}

void write_pgm(const std::string& path, const Array& pixels, PgmFormat format) {
    if (pixels.dimension() != 2)
        throw DataError(path + ": write_pgm: pixels " + shape_str(pixels.shape()) +
                        " must be [height, width]");
    const std::size_t height = pixels.shape()[0], width = pixels.shape()[1];
    const bool binary = format == PgmFormat::binary;
    std::string header = std::string(binary ? "P5" : "P2") + "\n" + std::to_string(width) + " " +
                         std::to_string(height) + "\n255\n";
    Bytes file(header.begin(), header.end());
    std::size_t i = 0;
    for (float v : pixels) {
        float clamped = std::isnan(v) ? 0.0f : std::clamp(v, 0.0f, 1.0f);
        auto byte = static_cast<std::uint8_t>(std::lround(clamped * 255.0f));
        if (binary) {
            file.push_back(byte);
        } else {
            std::string s = std::to_string(byte);
            file.insert(file.end(), s.begin(), s.end());
            file.push_back(++i % width == 0 ? '\n' : ' ');
        }
    }
    write_file(path, file);
}

}  // namespace tapegrad
