#include "idx.hpp"

#include <cstdio>
#include <limits>

namespace tapegrad {

namespace {

constexpr std::uint8_t ubyte_type = 0x08;

// The element types the IDX format defines; all but 0x08 are named only for error messages.
const char* idx_type_name(std::uint8_t type) {
    switch (type) {
        case 0x08: return "unsigned byte";
        case 0x09: return "signed byte";
        case 0x0B: return "short";
        case 0x0C: return "int";
        case 0x0D: return "float";
        case 0x0E: return "double";
        default: return nullptr;
    }
}

}  // namespace

std::string dims_str(const std::vector<std::size_t>& dims) {
    std::string s;
    for (std::size_t i = 0; i < dims.size(); ++i)
        s += (i ? " x " : "") + std::to_string(dims[i]);
    return s;
}

IdxFile read_idx(const std::string& path) {
    const Bytes file = read_file_maybe_gzip(path);
    auto fail = [&](const std::string& what) { throw DataError(path + ": " + what); };

    if (file.empty()) fail("empty file (expected an IDX header)");
    if (file.size() < 4)
        fail("truncated: " + std::to_string(file.size()) +
             " bytes, too short for the 4-byte IDX magic number");
    const std::string magic = hex(file[0], 2) + " " + hex(file[1], 2) + " " +
                              hex(file[2], 2) + " " + hex(file[3], 2);
    if (file[0] != 0 || file[1] != 0)
        fail("bad magic number " + magic +
             ": an IDX file starts with 0x00 0x00, a type byte and a rank byte (is this an IDX "
             "file?)");
    const std::uint8_t type = file[2];
    if (!idx_type_name(type))
        fail("bad magic number " + magic + ": type byte " + hex(type, 2) +
             " is not an IDX element type");
    if (type != ubyte_type)
        fail(std::string("element type ") + hex(type, 2) + " (" + idx_type_name(type) +
             ") is not supported; only 0x08 (unsigned byte) is");
    const std::size_t rank = file[3];
    if (rank == 0) fail("rank 0 in the magic number: an IDX file needs at least one dimension");

    const std::size_t header = 4 + 4 * rank;
    if (file.size() < header)
        fail("truncated: a header of rank " + std::to_string(rank) + " needs " +
             std::to_string(header) + " bytes, file has " + std::to_string(file.size()));

    IdxFile idx;
    std::size_t count = 1;
    for (std::size_t i = 0; i < rank; ++i) {
        std::size_t d = load_be(&file[4 + 4 * i], 4);
        idx.dims.push_back(d);
        if (d == 0) fail("dimension " + std::to_string(i) + " is 0 (dims " +
                         dims_str(idx.dims) + "): the file holds no data");
        if (count > std::numeric_limits<std::size_t>::max() / d) {
            for (std::size_t j = i + 1; j < rank; ++j)
                idx.dims.push_back(load_be(&file[4 + 4 * j], 4));
            fail("dims " + dims_str(idx.dims) + " overflow: the element count does not fit");
        }
        count *= d;
    }

    const std::size_t data = file.size() - header;
    if (data != count)
        fail(std::string(data < count ? "truncated" : "trailing bytes") + ": header says " +
             dims_str(idx.dims) + (rank > 1 ? " = " + std::to_string(count) : "") +
             " bytes of data, file has " + std::to_string(data));
    idx.bytes.assign(file.begin() + static_cast<std::ptrdiff_t>(header), file.end());
    return idx;
}

void write_idx(const std::string& path, const std::vector<std::size_t>& dims, const Bytes& bytes,
               Compression compression) {
    if (dims.empty() || dims.size() > 255)
        throw DataError(path + ": write_idx: rank " + std::to_string(dims.size()) +
                        " is not possible: IDX ranks are 1 to 255");
    std::size_t count = 1;
    for (std::size_t d : dims) {
        if (d > std::numeric_limits<std::uint32_t>::max())
            throw DataError(path + ": write_idx: dimension " + std::to_string(d) +
                            " does not fit the 32-bit field");
        count *= d;
    }
    if (count != bytes.size())
        throw DataError(path + ": write_idx: dims " + dims_str(dims) + " hold " +
                        std::to_string(count) + " elements but " + std::to_string(bytes.size()) +
                        " bytes were given");
    Bytes file = {0, 0, ubyte_type, static_cast<std::uint8_t>(dims.size())};
    for (std::size_t d : dims)
        for (int shift = 24; shift >= 0; shift -= 8)
            file.push_back(static_cast<std::uint8_t>(d >> shift));
    file.insert(file.end(), bytes.begin(), bytes.end());
    write_file(path, file, compression);
}

}  // namespace tapegrad
