// What the fuzz targets share. The readers take a path, so each input is written to a file of
// this process's own (in /dev/shm when there is one, so no disk is touched) and read from there:
// the fuzzers test exactly the functions a user calls.
//
// A reader may throw the error its header documents (DataError, std::runtime_error,
// std::invalid_argument): that is a correct answer to bad input. Anything else ends the run as
// a finding: a sanitizer report, a crash, a hang, std::bad_alloc (a corrupt header that made the
// reader ask for too much memory), or an exception that says the reader itself indexed out of
// range (std::out_of_range, std::length_error).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace fuzz {

// The file is removed when the fuzzer exits normally (it stays after a crash, beside the input
// libFuzzer saves).
struct InputFile {
    std::string path;
    ~InputFile() { std::remove(path.c_str()); }
};

inline const std::string& input_path(const char* extension) {
    static const InputFile file{[extension] {
        const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        return std::string(dir) + "/tapegrad-fuzz-" + std::to_string(getpid()) + extension;
    }()};
    return file.path;
}

// Writes the input to this process's file and returns its path.
inline std::string write_input(const std::uint8_t* data, std::size_t size, const char* extension) {
    const std::string& path = input_path(extension);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
        std::perror(path.c_str());
        std::abort();
    }
    if (size && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
    return path;
}

// An invariant of a successful read does not hold.
[[noreturn]] inline void broken(const std::string& what) {
    std::fprintf(stderr, "fuzz: invariant broken: %s\n", what.c_str());
    std::abort();
}

// Runs `read`; returns whether it succeeded. Expected errors are swallowed, the rest abort.
template <class Read>
bool expect_clean(Read&& read) {
    try {
        read();
        return true;
    } catch (const std::bad_alloc&) {
        broken("std::bad_alloc: the input made the reader allocate too much");
    } catch (const std::out_of_range& e) {
        broken(std::string("std::out_of_range: ") + e.what());
    } catch (const std::length_error& e) {
        broken(std::string("std::length_error: ") + e.what());
    } catch (const std::invalid_argument&) {
    } catch (const std::runtime_error&) {
    }
    return false;
}

}  // namespace fuzz
