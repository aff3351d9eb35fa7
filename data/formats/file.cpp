#include "file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace tapegrad {

namespace {

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

}  // namespace

Bytes read_file(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw DataError(path + ": is a folder, not a file");
    FilePtr f(std::fopen(path.c_str(), "rb"));
    if (!f) throw DataError(path + ": cannot open: " + std::strerror(errno));
    Bytes bytes;
    std::uint8_t chunk[1 << 16];
    std::size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, f.get())) > 0)
        bytes.insert(bytes.end(), chunk, chunk + n);
    if (std::ferror(f.get())) throw DataError(path + ": read error: " + std::strerror(errno));
    return bytes;
}

bool is_gzip(const Bytes& bytes) {
    return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

Bytes read_file_maybe_gzip(const std::string& path) {
    Bytes bytes = read_file(path);
    return is_gzip(bytes) ? gunzip(path, bytes) : bytes;
}

// zlib's gzopen/gzread would read raw files and concatenated members too, but they skip any
// bytes after the last gzip member without a word (zlib's manual says so), and a download that
// was damaged that way would pass. This loop refuses them.
Bytes gunzip(const std::string& path, const Bytes& compressed) {
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 16) != Z_OK)  // 15: largest window; +16: expect a gzip wrapper
        throw DataError(path + ": cannot start gzip decompression (zlib init failed)");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);

    // zlib counts in 32-bit uInt; feed the input in pieces it can take.
    constexpr std::size_t max_in = std::numeric_limits<uInt>::max();
    std::size_t consumed = 0;  // input bytes handed to zlib before the current piece
    auto feed = [&] {
        std::size_t piece = std::min(max_in, compressed.size() - consumed);
        zs.next_in = const_cast<Bytef*>(compressed.data() + consumed);
        zs.avail_in = static_cast<uInt>(piece);
        consumed += piece;
    };
    feed();

    Bytes out(std::max<std::size_t>(compressed.size() * 4, 1 << 16));
    std::size_t produced = 0;
    for (;;) {
        if (produced == out.size()) out.resize(out.size() * 2);
        std::size_t room = std::min(max_in, out.size() - produced);
        zs.next_out = out.data() + produced;
        zs.avail_out = static_cast<uInt>(room);
        int ret = inflate(&zs, Z_NO_FLUSH);
        produced += room - zs.avail_out;
        if (zs.avail_in == 0 && consumed < compressed.size()) feed();

        if (ret == Z_STREAM_END) {
            std::size_t rest = zs.avail_in + (compressed.size() - consumed);
            if (rest == 0) break;
            // Another gzip member may follow (as `cat a.gz b.gz` makes); anything else is junk.
            const std::uint8_t* next = zs.next_in;
            if (rest >= 2 && next[0] == 0x1f && next[1] == 0x8b) {
                inflateReset(&zs);
                continue;
            }
            throw DataError(path + ": " + std::to_string(rest) +
                            " bytes after the end of the gzip stream that are not gzip data");
        }
        if (ret == Z_OK) continue;
        if (ret == Z_BUF_ERROR)  // no progress possible: the input ran out mid-stream
            throw DataError(path + ": gzip stream cut short: the compressed file is truncated "
                            "(download it again)");
        if (ret == Z_DATA_ERROR)
            throw DataError(path + ": corrupt gzip data: " +
                            (zs.msg ? zs.msg : "invalid compressed data"));
        if (ret == Z_MEM_ERROR) throw DataError(path + ": out of memory while decompressing");
        throw DataError(path + ": gzip decompression failed (zlib error " + std::to_string(ret) +
                        ")");
    }
    out.resize(produced);
    return out;
}

Bytes gzip(const Bytes& raw) {
    z_stream zs{};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        throw DataError("gzip: zlib init failed");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, deflateEnd);
    if (raw.size() > std::numeric_limits<uInt>::max())
        throw DataError("gzip: input of " + std::to_string(raw.size()) +
                        " bytes is larger than this writer handles (4 GiB)");
    Bytes out(deflateBound(&zs, static_cast<uLong>(raw.size())));
    zs.next_in = const_cast<Bytef*>(raw.data());
    zs.avail_in = static_cast<uInt>(raw.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) throw DataError("gzip: compression failed");
    out.resize(out.size() - zs.avail_out);
    return out;
}

namespace {

std::string folder_of(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view bytes, const std::string& who) {
    const std::string target = who + ": cannot write '" + path + "': ";
    std::string name = path + ".tmp-XXXXXX";
    const int fd = ::mkstemp(name.data());
    if (fd < 0)
        throw DataError(target + "cannot create a temporary file beside it (" +
                        std::strerror(errno) + ")");
    bool open = true;
    auto fail = [&](const char* step) {
        const int err = errno;
        if (open) ::close(fd);
        ::unlink(name.c_str());
        throw DataError(target + step + " failed (" + std::strerror(err) +
                        "); any previous file is unchanged");
    };
    // mkstemp creates the file rw-------; keep the mode of the file we replace, else rw-r--r--.
    struct stat st {};
    const mode_t mode = ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)
                            ? (st.st_mode & 07777)
                            : 0644;
    if (::fchmod(fd, mode) != 0) fail("setting the file mode");
    for (std::size_t done = 0; done < bytes.size();) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            fail("writing");
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) fail("flushing to disk (fsync)");
    open = false;
    if (::close(fd) != 0) fail("closing");
    if (::rename(name.c_str(), path.c_str()) != 0) fail("renaming the temporary file");
    // Make the rename itself durable; a failure here cannot undo it, so it is not an error.
    const int dir = ::open(folder_of(path).c_str(), O_RDONLY);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

void write_file(const std::string& path, const Bytes& bytes, Compression compression) {
    const Bytes packed = compression == Compression::gzip ? gzip(bytes) : Bytes();
    const Bytes& out = compression == Compression::gzip ? packed : bytes;
    write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(out.data()), out.size()));
}

std::uint64_t load_le(const void* p, int n) {
    const auto* b = static_cast<const unsigned char*>(p);
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | b[i];
    return v;
}

std::uint64_t load_be(const void* p, int n) {
    const auto* b = static_cast<const unsigned char*>(p);
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | b[i];
    return v;
}

std::string hex(std::uint64_t v, int digits) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%0*llX", digits, static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace tapegrad
