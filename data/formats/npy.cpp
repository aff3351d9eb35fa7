#include "npy.hpp"

#include "file.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>
#include <type_traits>

#include <xtensor/xmanipulation.hpp>

// The layout is NumPy's (numpy/lib/format.py); its integers are little-endian.

namespace tapegrad {

namespace {

constexpr char npy_magic[] = "\x93NUMPY";

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
            if (shape.size() > detail::max_dims)
                fail("the shape has more than " + std::to_string(detail::max_dims) +
                     " dimensions, the most a tapegrad array has");
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

namespace {

// Each dtype's descr (little-endian, as tapegrad writes) and element size.
struct DTypeInfo {
    DType dtype;
    const char* name;
    char kind;  // 'f', 'i', 'u': the descr is byte order + kind + size
    std::size_t size;
};
constexpr DTypeInfo dtypes[] = {{DType::float32, "float32", 'f', 4},
                                {DType::float64, "float64", 'f', 8},
                                {DType::int64, "int64", 'i', 8},
                                {DType::uint8, "uint8", 'u', 1}};

const DTypeInfo& info(DType dtype) { return dtypes[static_cast<int>(dtype)]; }

std::string descr_of(DType dtype) {
    const DTypeInfo& d = info(dtype);
    return std::string(d.size == 1 ? "|" : "<") + d.kind + std::to_string(d.size);
}

// The dtype of a descr such as '<f4', '>i8' or '|u1', and whether its bytes are big-endian.
bool parse_descr(const std::string& descr, DType& dtype, bool& big_endian) {
    if (descr.size() < 3) return false;
    const char order = descr[0];
    if (order != '<' && order != '>' && order != '|' && order != '=') return false;
    for (const DTypeInfo& d : dtypes)
        if (descr.substr(1) == std::string(1, d.kind) + std::to_string(d.size) &&
            (d.size == 1 || order != '|')) {
            dtype = d.dtype;
            big_endian = order == '>';
            return true;
        }
    return false;
}

}  // namespace

DType dtype_of(const TypedArray& array) { return static_cast<DType>(array.index()); }
const char* dtype_name(DType dtype) { return info(dtype).name; }

Shape shape_of(const TypedArray& array) {
    return std::visit([](const auto& a) { return Shape(a.shape().begin(), a.shape().end()); },
                      array);
}

TypedArray text_array(std::string_view text) {
    xt::xarray<std::uint8_t> a = xt::xarray<std::uint8_t>::from_shape({text.size()});
    std::copy(text.begin(), text.end(), a.begin());
    return a;
}

std::string array_text(const TypedArray& array, const std::string& what) {
    const auto* bytes = std::get_if<xt::xarray<std::uint8_t>>(&array);
    if (!bytes || bytes->dimension() != 1)
        throw std::runtime_error(what + " should be text (a 1-D uint8 array), but it is " +
                                 dtype_name(dtype_of(array)) + " of shape " +
                                 shape_str(shape_of(array)));
    return std::string(bytes->begin(), bytes->end());
}

namespace {

template <class A>  // Array or another xarray
std::string npy_bytes(const A& a, DType dtype) {
    using T = typename A::value_type;
    const Shape shape(a.shape().begin(), a.shape().end());
    std::string header = "{'descr': '" + descr_of(dtype) + "', 'fortran_order': False, 'shape': " +
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
    out.resize(at + sizeof(T) * a.size());
    // An xarray is row-major and contiguous, so its storage is already in C order. An empty
    // array may have no storage at all (data() is null), and memcpy from null is undefined even
    // for 0 bytes.
    if (a.size() == 0) return out;
    std::memcpy(out.data() + at, a.data(), sizeof(T) * a.size());
    if (!host_little_endian())
        for (std::size_t i = 0; i < a.size(); ++i)
            std::reverse(out.data() + at + sizeof(T) * i, out.data() + at + sizeof(T) * (i + 1));
    return out;
}

}  // namespace

std::string to_npy(const TypedArray& array) {
    const DType dtype = dtype_of(array);
    return std::visit([dtype](const auto& a) { return npy_bytes(a, dtype); }, array);
}

std::string to_npy(const Array& array) { return npy_bytes(array, DType::float32); }

namespace {

template <class T>
TypedArray read_elements(std::string_view data, const Shape& stored, bool swap) {
    using A = std::conditional_t<std::is_same_v<T, float>, Array, xt::xarray<T>>;
    A a = A::from_shape(stored);
    for (std::size_t i = 0; i < a.size(); ++i) {
        unsigned char bytes[sizeof(T)];
        std::memcpy(bytes, data.data() + sizeof(T) * i, sizeof(T));
        if (swap) std::reverse(bytes, bytes + sizeof(T));
        std::memcpy(a.data() + i, bytes, sizeof(T));
    }
    return a;
}

}  // namespace

TypedArray from_npy_typed(std::string_view b, const std::string& what) {
    auto fail = [&](const std::string& msg) { throw std::runtime_error(what + ": " + msg); };
    if (b.size() < 10 || b.substr(0, 6) != std::string_view(npy_magic, 6))
        fail("not an .npy array (it does not start with \\x93NUMPY)");
    const int major = static_cast<unsigned char>(b[6]), minor = static_cast<unsigned char>(b[7]);
    std::size_t start = 10, header_len = 0;
    if (major == 1) {
        header_len = load_le(b.data() + 8, 2);
    } else if (major == 2 || major == 3) {
        if (b.size() < 12) fail("the .npy header is truncated");
        header_len = load_le(b.data() + 8, 4);
        start = 12;
    } else {
        fail(".npy format version " + std::to_string(major) + "." + std::to_string(minor) +
             " is not supported (1.0, 2.0 and 3.0 are)");
    }
    if (header_len > b.size() - start) fail("the .npy header is truncated");
    const NpyHeader h = HeaderParser(b.substr(start, header_len), what).parse();

    DType dtype = DType::float32;
    bool big_endian = false;
    if (!parse_descr(h.descr, dtype, big_endian))
        fail("the dtype is '" + h.descr + "', but tapegrad reads float32, float64, int64 and "
             "uint8 only; convert it in Python with array.astype(numpy.float32)");
    const std::size_t size = info(dtype).size;
    std::uint64_t count = 1;
    for (std::size_t d : h.shape) {
        if (d != 0 && count > std::numeric_limits<std::uint64_t>::max() / 8 / d)
            fail("the shape " + shape_str(h.shape) + " is impossibly large");
        count *= d;
    }
    const std::size_t data_at = start + header_len;
    const std::uint64_t have = b.size() - data_at;
    if (have != size * count)
        fail("the shape " + shape_str(h.shape) + " needs " + std::to_string(size * count) +
             " bytes of data, but " + std::to_string(have) + " follow the header" +
             (have < size * count ? " (it is truncated)" : ""));

    // Fortran order is C order of the reversed shape; a transpose puts the axes back.
    Shape stored = h.shape;
    if (h.fortran_order) std::reverse(stored.begin(), stored.end());
    const bool swap = big_endian == host_little_endian() && size > 1;
    const std::string_view data = b.substr(data_at);
    TypedArray a;
    switch (dtype) {
        case DType::float32: a = read_elements<float>(data, stored, swap); break;
        case DType::float64: a = read_elements<double>(data, stored, swap); break;
        case DType::int64: a = read_elements<std::int64_t>(data, stored, swap); break;
        case DType::uint8: a = read_elements<std::uint8_t>(data, stored, swap); break;
    }
    if (h.fortran_order && h.shape.size() > 1)
        std::visit([](auto& x) { x = std::decay_t<decltype(x)>(xt::transpose(x)); }, a);
    return a;
}

Array from_npy(std::string_view bytes, const std::string& what) {
    TypedArray a = from_npy_typed(bytes, what);
    if (auto* floats = std::get_if<Array>(&a)) return std::move(*floats);
    throw std::runtime_error(what + ": the dtype is " + dtype_name(dtype_of(a)) +
                             ", but float32 is expected here; convert it in Python with "
                             "array.astype(numpy.float32)");
}

}  // namespace tapegrad
