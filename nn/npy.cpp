#include "npy.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>

#include <xtensor/xmanipulation.hpp>

// The layout is NumPy's (numpy/lib/format.py); its integers are little-endian.

namespace tapegrad::nn {

namespace {

constexpr char npy_magic[] = "\x93NUMPY";

// Callers check the bounds first.
std::uint32_t get_le(std::string_view b, std::size_t at, int bytes) {
    std::uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
    return v;
}

bool host_little_endian() {
    const std::uint32_t one = 1;
    unsigned char first;
    std::memcpy(&first, &one, 1);
    return first == 1;
}

std::string shape_tuple(const Shape& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

// The dict literal of an .npy header, read with just enough Python syntax for what NumPy writes:
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
struct NpyHeader {
    std::string descr;
    bool fortran_order = false;
    Shape shape;
};

class HeaderParser {
  public:
    HeaderParser(std::string_view s, const std::string& what) : s_(s), what_(what) {}

    NpyHeader parse() {
        NpyHeader h;
        std::set<std::string> keys;
        expect('{');
        while (!eat('}')) {
            const std::string key = string();
            expect(':');
            if (!keys.insert(key).second) fail("the key '" + key + "' appears twice");
            if (key == "descr") h.descr = string();
            else if (key == "fortran_order") h.fortran_order = boolean();
            else if (key == "shape") h.shape = tuple();
            else fail("unexpected key '" + key + "'");
            if (!eat(',')) {
                expect('}');
                break;
            }
        }
        for (const char* k : {"descr", "fortran_order", "shape"})
            if (!keys.count(k)) fail(std::string("the key '") + k + "' is missing");
        skip();
        if (i_ != s_.size()) fail("text follows the closing brace");
        return h;
    }

  private:
    [[noreturn]] void fail(const std::string& msg) const {
        throw std::runtime_error(what_ + ": the .npy header is malformed: " + msg + " (header: " +
                                 std::string(s_.substr(0, 200)) + ")");
    }
    void skip() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    bool eat(char c) {
        skip();
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    void expect(char c) {
        if (!eat(c)) fail(std::string("expected '") + c + "'");
    }
    std::string string() {
        skip();
        if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) fail("expected a quoted string");
        const char q = s_[i_++];
        const std::size_t end = s_.find(q, i_);
        if (end == std::string_view::npos) fail("a string is not closed");
        std::string out(s_.substr(i_, end - i_));
        i_ = end + 1;
        return out;
    }
    bool boolean() {
        skip();
        for (auto [word, value] : {std::pair{"True", true}, std::pair{"False", false}})
            if (s_.substr(i_, std::strlen(word)) == word) {
                i_ += std::strlen(word);
                return value;
            }
        fail("fortran_order must be True or False");
    }
    Shape tuple() {
        Shape shape;
        expect('(');
        while (!eat(')')) {
            skip();
            if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_])))
                fail("the shape must be a tuple of non-negative integers");
            std::uint64_t v = 0;
            while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
                if (v > (std::numeric_limits<std::uint64_t>::max() - 9) / 10)
                    fail("a dimension is too large");
                v = v * 10 + static_cast<std::uint64_t>(s_[i_++] - '0');
            }
            if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 long
            shape.push_back(static_cast<std::size_t>(v));
            if (!eat(',')) {
                expect(')');
                break;
            }
        }
        return shape;
    }

    std::string_view s_;
    const std::string& what_;
    std::size_t i_ = 0;
};

}  // namespace

std::string to_npy(const Array& array) {
    const Shape shape(array.shape().begin(), array.shape().end());
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " +
                         shape_tuple(shape) + ", }";
    // As NumPy pads: spaces and a newline so that magic (6) + version (2) + length (2) + header
    // is a multiple of 64 (a full 64 spaces more when it already is).
    header.append(64 - (10 + header.size() + 1) % 64, ' ');
    header.push_back('\n');
    if (header.size() > 0xffff)
        throw std::invalid_argument("to_npy: the shape " + shape_str(shape) +
                                    " is too long for an .npy 1.0 header");
    std::string out(npy_magic, 6);
    out.push_back('\x01');
    out.push_back('\x00');
    out.push_back(static_cast<char>(header.size() & 0xff));
    out.push_back(static_cast<char>(header.size() >> 8));
    out += header;

    const std::size_t at = out.size();
    out.resize(at + 4 * array.size());
    // Array is row-major and contiguous, so its storage is already in C order. An empty array
    // may have no storage at all (data() is null), and memcpy from null is undefined even for
    // 0 bytes.
    if (array.size() == 0) return out;
    if (host_little_endian()) {
        std::memcpy(out.data() + at, array.data(), 4 * array.size());
    } else {
        for (std::size_t i = 0; i < array.size(); ++i) {
            std::uint32_t bits;
            std::memcpy(&bits, array.data() + i, 4);
            for (int k = 0; k < 4; ++k) out[at + 4 * i + k] = static_cast<char>(bits >> (8 * k));
        }
    }
    return out;
}

Array from_npy(std::string_view b, const std::string& what) {
    auto fail = [&](const std::string& msg) { throw std::runtime_error(what + ": " + msg); };
    if (b.size() < 10 || b.substr(0, 6) != std::string_view(npy_magic, 6))
        fail("not an .npy array (it does not start with \\x93NUMPY)");
    const int major = static_cast<unsigned char>(b[6]), minor = static_cast<unsigned char>(b[7]);
    std::size_t start = 10, header_len = 0;
    if (major == 1) {
        header_len = get_le(b, 8, 2);
    } else if (major == 2 || major == 3) {
        if (b.size() < 12) fail("the .npy header is truncated");
        header_len = get_le(b, 8, 4);
        start = 12;
    } else {
        fail(".npy format version " + std::to_string(major) + "." + std::to_string(minor) +
             " is not supported (1.0, 2.0 and 3.0 are)");
    }
    if (header_len > b.size() - start) fail("the .npy header is truncated");
    const NpyHeader h = HeaderParser(b.substr(start, header_len), what).parse();

    const bool big_endian = h.descr == ">f4";
    if (h.descr != "<f4" && !big_endian)
        fail("the dtype is '" + h.descr + "', but tapegrad reads float32 ('<f4') only; "
             "convert it in Python with array.astype(numpy.float32)");
    std::uint64_t count = 1;
    for (std::size_t d : h.shape) {
        if (d != 0 && count > std::numeric_limits<std::uint64_t>::max() / 4 / d)
            fail("the shape " + shape_str(h.shape) + " is impossibly large");
        count *= d;
    }
    const std::size_t data_at = start + header_len;
    const std::uint64_t have = b.size() - data_at;
    if (have != 4 * count)
        fail("the shape " + shape_str(h.shape) + " needs " + std::to_string(4 * count) +
             " bytes of data, but " + std::to_string(have) + " follow the header" +
             (have < 4 * count ? " (it is truncated)" : ""));

    // Fortran order is C order of the reversed shape; a transpose puts the axes back.
    Shape stored = h.shape;
    if (h.fortran_order) std::reverse(stored.begin(), stored.end());
    Array a = Array::from_shape(stored);
    const bool swap = big_endian == host_little_endian();
    for (std::size_t i = 0; i < count; ++i) {
        unsigned char bytes[4];
        std::memcpy(bytes, b.data() + data_at + 4 * i, 4);
        if (swap) std::reverse(bytes, bytes + 4);
        std::memcpy(a.data() + i, bytes, 4);
    }
    if (h.fortran_order && h.shape.size() > 1) a = Array(xt::transpose(a));
    return a;
}

}  // namespace tapegrad::nn
