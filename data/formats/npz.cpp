#include "npz.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <cmath>
#include <set>
#include <sstream>
#include <type_traits>
#include <variant>
#include <stdexcept>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "file.hpp"
#include "npy.hpp"

// The layout is PKWARE's APPNOTE.TXT (sections 4.3.7, 4.3.12, 4.3.14-16 and 4.5.3, ZIP64);
// all its integers are little-endian.

namespace tapegrad {

namespace {

constexpr std::uint32_t local_sig = 0x04034b50, central_sig = 0x02014b50, end_sig = 0x06054b50,
                        zip64_end_sig = 0x06064b50, zip64_locator_sig = 0x07064b50;
constexpr std::uint32_t u32_max = 0xffffffffu;
// A fixed date, 1980-01-01 00:00 (as numpy.savez writes): the same model gives the same bytes.
constexpr std::uint16_t dos_date_1980_01_01 = (0 << 9) | (1 << 5) | 1;

void put16(std::string& out, std::uint32_t v) {
    out.push_back(static_cast<char>(v & 0xff));
    out.push_back(static_cast<char>((v >> 8) & 0xff));
}
void put32(std::string& out, std::uint32_t v) {
    put16(out, v & 0xffff);
    put16(out, v >> 16);
}
// Callers check the bounds first.
std::uint32_t get16(std::string_view b, std::size_t at) {
    return static_cast<std::uint32_t>(load_le(b.data() + at, 2));
}
std::uint32_t get32(std::string_view b, std::size_t at) {
    return static_cast<std::uint32_t>(load_le(b.data() + at, 4));
}
std::uint64_t get64(std::string_view b, std::size_t at) { return load_le(b.data() + at, 8); }

std::uint32_t crc_of(std::string_view bytes) {
    uLong crc = crc32(0L, Z_NULL, 0);
    for (std::size_t done = 0; done < bytes.size();) {  // zlib takes at most a uInt at a time
        const uInt n = static_cast<uInt>(std::min<std::size_t>(bytes.size() - done, 1u << 30));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done), n);
        done += n;
    }
    return static_cast<std::uint32_t>(crc);
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// ---- .zip -----------------------------------------------------------------------------------

struct ZipEntry {
    std::string name;
    std::uint32_t flags = 0, method = 0, crc = 0;
    std::uint64_t compressed = 0, uncompressed = 0, offset = 0;
};

std::string build_npz(const NamedTypedArrays& arrays) {
    std::set<std::string> seen;
    for (const auto& [name, array] : arrays) {
        if (name.empty())
            throw std::invalid_argument("save_arrays: an array has an empty name; every array "
                                        "needs a name (it becomes the key in Python)");
        if (!seen.insert(name).second)
            throw std::invalid_argument("save_arrays: the name '" + name + "' appears twice; "
                                        "names must be unique");
        if (name.size() > 0xffff - 4)
            throw std::invalid_argument("save_arrays: the name '" + name.substr(0, 40) +
                                        "...' is longer than a ZIP entry name may be");
    }
    if (arrays.size() >= 0xffff)
        throw std::invalid_argument("save_arrays: " + std::to_string(arrays.size()) +
                                    " arrays are more than a ZIP file without ZIP64 can hold "
                                    "(65534)");

    std::string out, central;
    for (const auto& [name, array] : arrays) {
        const std::string entry = name + ".npy";
        const std::string npy = to_npy(array);
        const std::uint32_t crc = crc_of(npy);
        const std::uint64_t offset = out.size();
        if (npy.size() >= u32_max || offset >= u32_max)
            throw std::invalid_argument("save_arrays: the file would pass 4 GiB at '" + name +
                                        "', more than a ZIP file without ZIP64 can hold");
        const bool ascii = std::all_of(entry.begin(), entry.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x80;
        });
        const std::uint32_t flags = ascii ? 0 : 0x0800;  // bit 11: the name is UTF-8
        const auto size = static_cast<std::uint32_t>(npy.size());
        const auto name_len = static_cast<std::uint32_t>(entry.size());

        put32(out, local_sig);
        put16(out, 20);  // version needed to extract: 2.0
        put16(out, flags);
        put16(out, 0);  // method: stored
        put16(out, 0);  // time 00:00:00
        put16(out, dos_date_1980_01_01);
        put32(out, crc);
        put32(out, size);  // compressed
        put32(out, size);  // uncompressed
        put16(out, name_len);
        put16(out, 0);  // extra field length
        out += entry;
        out += npy;

        put32(central, central_sig);
        put16(central, (3 << 8) | 20);  // made by: Unix, 2.0 (so the mode below counts)
        put16(central, 20);
        put16(central, flags);
        put16(central, 0);
        put16(central, 0);
        put16(central, dos_date_1980_01_01);
        put32(central, crc);
        put32(central, size);
        put32(central, size);
        put16(central, name_len);
        put16(central, 0);  // extra
        put16(central, 0);  // comment
        put16(central, 0);  // disk
        put16(central, 0);  // internal attributes
        put32(central, 0100644u << 16);  // external: a regular file, rw-r--r--
        put32(central, static_cast<std::uint32_t>(offset));
        central += entry;
    }
    const std::uint64_t central_offset = out.size();
    if (central_offset + central.size() >= u32_max)
        throw std::invalid_argument("save_arrays: the file would pass 4 GiB, more than a ZIP "
                                    "file without ZIP64 can hold");
    out += central;
    put32(out, end_sig);
    put16(out, 0);  // this disk
    put16(out, 0);  // disk of the central directory
    put16(out, static_cast<std::uint32_t>(arrays.size()));
    put16(out, static_cast<std::uint32_t>(arrays.size()));
    put32(out, static_cast<std::uint32_t>(central.size()));
    put32(out, static_cast<std::uint32_t>(central_offset));
    put16(out, 0);  // comment length
    return out;
}

class NpzReader {
  public:
    NpzReader(std::string_view file, const std::string& path) : b_(file), path_(path) {}

    NamedTypedArrays read() {
        std::vector<ZipEntry> entries = central_directory();
        NamedTypedArrays arrays;
        std::set<std::string> names;
        for (const ZipEntry& e : entries) {
            const std::string what = "load_arrays: " + quoted(path_) + ": entry " + quoted(e.name);
            if (e.name.size() < 4 || e.name.compare(e.name.size() - 4, 4, ".npy") != 0)
                throw std::runtime_error(what + " is not an .npy array; an .npz file holds only "
                                                "NAME.npy entries");
            std::string name = e.name.substr(0, e.name.size() - 4);
            if (!names.insert(name).second)
                throw std::runtime_error(what + " appears twice in the archive");
            const std::string data = entry_data(e, what);
            const std::uint32_t crc = crc_of(data);
            if (crc != e.crc)
                throw std::runtime_error(what + " is corrupted: its CRC-32 is " + hex(crc, 8) +
                                         " but the archive records " + hex(e.crc, 8));
            arrays.emplace_back(std::move(name), from_npy_typed(data, what));
        }
        return arrays;
    }

  private:
    [[noreturn]] void fail(const std::string& msg) const {
        throw std::runtime_error("load_arrays: " + quoted(path_) + " is not a valid .npz file: " +
                                 msg);
    }
    void need(std::uint64_t at, std::uint64_t n, const char* what) const {
        if (at > b_.size() || n > b_.size() - at)
            fail(std::string(what) + " runs past the end of the file (is it truncated?)");
    }

    std::vector<ZipEntry> central_directory() {
        // The end record is the last 22 bytes, unless a comment (at most 65535 bytes) follows it.
        if (b_.size() < 22) fail("it is too short to be a ZIP archive (is it truncated?)");
        std::size_t end = std::string_view::npos;
        const std::size_t lowest = b_.size() >= 22 + 0xffff ? b_.size() - 22 - 0xffff : 0;
        for (std::size_t at = b_.size() - 22 + 1; at-- > lowest;)
            if (get32(b_, at) == end_sig && at + 22 + get16(b_, at + 20) == b_.size()) {
                end = at;
                break;
            }
        if (end == std::string_view::npos)
            fail("no ZIP end record at its end (the file is truncated, or not a ZIP archive)");
        if (get16(b_, end + 4) != 0 || get16(b_, end + 6) != 0)
            fail("it spans several disks, which is not supported");
        std::uint64_t count = get16(b_, end + 10);
        std::uint64_t cd_size = get32(b_, end + 12), cd_offset = get32(b_, end + 16);
        std::uint64_t cd_limit = end;  // the central directory ends before this

        if (count == 0xffff || cd_size == u32_max || cd_offset == u32_max) {
            // ZIP64: a locator just before the end record points to the ZIP64 end record.
            if (end < 20 || get32(b_, end - 20) != zip64_locator_sig)
                fail("the end record asks for ZIP64 but the ZIP64 locator is missing");
            const std::uint64_t at = get64(b_, end - 20 + 8);
            need(at, 56, "the ZIP64 end record");
            if (get32(b_, at) != zip64_end_sig) fail("the ZIP64 end record is missing");
            count = get64(b_, at + 32);
            cd_size = get64(b_, at + 40);
            cd_offset = get64(b_, at + 48);
            cd_limit = at;
        }
        if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset)
            fail("the central directory lies outside the file (is it truncated?)");

        std::vector<ZipEntry> entries;
        std::uint64_t at = cd_offset;
        for (std::uint64_t k = 0; k < count; ++k) {
            need(at, 46, "the central directory");
            if (get32(b_, at) != central_sig) fail("the central directory is corrupted");
            ZipEntry e;
            e.flags = get16(b_, at + 8);
            e.method = get16(b_, at + 10);
            e.crc = get32(b_, at + 16);
            e.compressed = get32(b_, at + 20);
            e.uncompressed = get32(b_, at + 24);
            const std::uint32_t name_len = get16(b_, at + 28), extra_len = get16(b_, at + 30),
                                comment_len = get16(b_, at + 32);
            e.offset = get32(b_, at + 42);
            need(at + 46, std::uint64_t{name_len} + extra_len + comment_len,
                 "the central directory");
            e.name = std::string(b_.substr(at + 46, name_len));
            zip64_extra(b_.substr(at + 46 + name_len, extra_len), e);
            entries.push_back(std::move(e));
            at += 46 + std::uint64_t{name_len} + extra_len + comment_len;
        }
        if (at != cd_offset + cd_size)
            fail("the central directory's size does not match its entries");
        return entries;
    }

    // The ZIP64 extra field holds the 8-byte values of the fields that read 0xffffffff, in the
    // order uncompressed size, compressed size, local header offset.
    void zip64_extra(std::string_view extra, ZipEntry& e) const {
        for (std::size_t at = 0; at + 4 <= extra.size();) {
            const std::uint32_t id = get16(extra, at), size = get16(extra, at + 2);
            if (at + 4 + size > extra.size()) fail("an extra field of " + quoted(e.name) +
                                                   " is cut short");
            if (id == 0x0001) {
                std::size_t p = at + 4;
                for (std::uint64_t* field : {&e.uncompressed, &e.compressed, &e.offset}) {
                    if (*field != u32_max) continue;
                    if (p + 8 > at + 4 + size)
                        fail("the ZIP64 extra field of " + quoted(e.name) + " is too short");
                    *field = get64(extra, p);
                    p += 8;
                }
            }
            at += 4 + size;
        }
    }

    std::string entry_data(const ZipEntry& e, const std::string& what) const {
        if (e.flags & 0x1) throw std::runtime_error(what + " is encrypted, which is not supported");
        need(e.offset, 30, "a local file header");
        if (get32(b_, e.offset) != local_sig) fail("the local header of " + quoted(e.name) +
                                                   " is missing or corrupted");
        const std::uint64_t name_len = get16(b_, e.offset + 26);
        const std::uint64_t extra_len = get16(b_, e.offset + 28);
        need(e.offset + 30, name_len, "a local file header");
        if (b_.substr(e.offset + 30, name_len) != e.name)
            fail("the local header of " + quoted(e.name) + " names another file");
        const std::uint64_t start = e.offset + 30 + name_len + extra_len;
        need(start, e.compressed, ("the data of " + quoted(e.name)).c_str());
        const std::string_view raw = b_.substr(start, e.compressed);
        if (e.method == 0) {
            if (e.compressed != e.uncompressed)
                fail("the stored entry " + quoted(e.name) + " has two different sizes");
            return std::string(raw);
        }
        if (e.method == 8) return inflate_raw(raw, e, what);
        throw std::runtime_error(what + " uses ZIP compression method " + std::to_string(e.method) +
                                 "; only stored (0) and deflate (8) entries are supported");
    }

    // numpy.savez_compressed writes deflate entries; zlib reads them (raw deflate, no header).
    static std::string inflate_raw(std::string_view in, const ZipEntry& e,
                                   const std::string& what) {
        // Deflate compresses at most about 1032:1; a larger claim is a corrupted size field and
        // must not become a huge allocation.
        if (e.uncompressed > 1032 * (e.compressed + 1) || e.uncompressed > UINT_MAX ||
            in.size() > UINT_MAX)
            throw std::runtime_error(what + " is corrupted: its sizes are impossible");
        std::string out(static_cast<std::size_t>(e.uncompressed), '\0');
        z_stream s{};
        if (inflateInit2(&s, -MAX_WBITS) != Z_OK)
            throw std::runtime_error(what + ": zlib could not start decompressing");
        s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        s.avail_in = static_cast<uInt>(in.size());
        s.next_out = reinterpret_cast<Bytef*>(out.data());
        s.avail_out = static_cast<uInt>(out.size());
        const int status = inflate(&s, Z_FINISH);
        const bool ok = status == Z_STREAM_END && s.total_out == e.uncompressed;
        inflateEnd(&s);
        if (!ok) throw std::runtime_error(what + " is corrupted: its deflate data does not "
                                                 "decompress to the recorded size");
        return out;
    }

    std::string_view b_;
    const std::string& path_;
};

}  // namespace

void save_npz(const std::string& path, const NamedTypedArrays& arrays) {
    write_file_atomic(path, build_npz(arrays), "save_arrays");
}

NamedTypedArrays load_npz(const std::string& path) {
    Bytes bytes;
    try {
        bytes = read_file(path);
    } catch (const DataError& e) {
        throw DataError(std::string("load_arrays: ") + e.what());
    }
    return NpzReader(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                     path)
        .read();
}

void save_arrays(const std::string& path, const NamedArrays& arrays) {
    NamedTypedArrays typed;
    typed.reserve(arrays.size());
    for (const auto& [name, array] : arrays) typed.emplace_back(name, array);
    save_npz(path, typed);
}

NamedArrays load_arrays(const std::string& path) {
    NamedArrays arrays;
    for (auto& [name, array] : load_npz(path)) {
        if (auto* floats = std::get_if<Array>(&array)) {
            arrays.emplace_back(std::move(name), std::move(*floats));
            continue;
        }
        throw std::runtime_error("load_arrays: '" + path + "': entry '" + name + ".npy' is " +
                                 dtype_name(dtype_of(array)) +
                                 ", but float32 is expected here; convert it in Python with "
                                 "array.astype(numpy.float32)");
    }
    return arrays;
}

namespace {

template <class Named>
const auto& named(const Named& arrays, const std::string& name) {
    for (const auto& [key, value] : arrays)
        if (key == name) return value;
    std::string names;
    for (std::size_t i = 0; i < arrays.size() && i < 20; ++i)
        names += (i ? ", " : "") + arrays[i].first;
    if (arrays.size() > 20) names += ", ... (" + std::to_string(arrays.size()) + " in all)";
    throw std::invalid_argument("array_named: there is no array named '" + name + "'" +
                                (arrays.empty() ? std::string(" (there are none)")
                                                : "; there are " + names));
}

}  // namespace

const Array& array_named(const NamedArrays& arrays, const std::string& name) {
    return named(arrays, name);
}

const TypedArray& array_named(const NamedTypedArrays& arrays, const std::string& name) {
    return named(arrays, name);
}

Tensor tensor_named(const NamedTypedArrays& arrays, const std::string& name) {
    return std::visit(
        [&](const auto& x) -> Tensor {
            using T = typename std::decay_t<decltype(x)>::value_type;
            Array a = xt::cast<float>(x);
            if constexpr (!std::is_same_v<T, float>) {
                for (std::size_t i = 0; i < x.size(); ++i) {
                    const T v = x.data()[i];
                    bool exact = static_cast<T>(a.data()[i]) == v;
                    if constexpr (std::is_floating_point_v<T>) exact = exact || std::isnan(v);
                    if (exact) continue;
                    std::ostringstream msg;
                    msg.precision(17);
                    msg << "tensor_named: '" << name << "' is " << dtype_name(dtype_of(x))
                        << " and its element " << i << ", " << +v
                        << ", has no exact float32 (whole numbers up to 2^24 = 16777216 have one)";
                    throw std::invalid_argument(msg.str());
                }
            }
            return Tensor(std::move(a));
        },
        array_named(arrays, name));
}

}  // namespace tapegrad
