// Shared by the test files: random inputs and a gradcheck assertion that prints what failed.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <tapegrad/tapegrad.hpp>

namespace tapegrad::test {

// Uniform values in [lo, hi), reproducible from the seed.
inline Array random_array(const Shape& shape, float lo = -1.0f, float hi = 1.0f,
                          std::uint32_t seed = 1) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> pick(lo, hi);
    Array a = Array::from_shape(shape);
    for (float& v : a) v = pick(gen);
    return a;
}

// Uniform magnitudes in [lo, hi) with random signs: keeps inputs away from the kinks at 0.
inline Array away_from_zero(const Shape& shape, float lo = 0.2f, float hi = 1.0f,
                            std::uint32_t seed = 2) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> pick(lo, hi);
    Array a = Array::from_shape(shape);
    for (float& v : a) v = (gen() % 2 ? 1.0f : -1.0f) * pick(gen);
    return a;
}

// A fresh folder per test case, removed with everything in it at the end of the case (ctest runs
// test cases as separate, possibly parallel, processes).
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "tapegrad_test_XXXXXX").string();
        path = mkdtemp(pattern.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string dir() const { return path.string(); }
    std::string file(const std::string& name) const { return (path / name).string(); }
    // Writes `text` to the file `name` and returns its path.
    std::string write(const std::string& name, const std::string& text) const {
        write_file(file(name), Bytes(text.begin(), text.end()));
        return file(name);
    }
};

// RAII: sets the thread count for one test and puts the old one back, also when a check throws.
struct ScopedThreads {
    explicit ScopedThreads(int threads) : before(num_threads()) { set_num_threads(threads); }
    ~ScopedThreads() { set_num_threads(before); }
    ScopedThreads(const ScopedThreads&) = delete;
    ScopedThreads& operator=(const ScopedThreads&) = delete;
    int before;
};

// Ends the test case as *skipped* when what it needs is missing: CTest counts exit status 77 as
// skipped (SKIP_RETURN_CODE in tests/CMakeLists.txt), never as passed. CTest runs each test
// case in a process of its own, so the exit ends only this one.
[[noreturn]] inline void skip_test(const std::string& reason) {
    std::printf("SKIPPED: %s\n", reason.c_str());
    std::fflush(stdout);
    std::exit(77);
}

}  // namespace tapegrad::test

// CHECK_GRAD(gradcheck(...)) and CHECK_GRADGRAD(gradgradcheck(...)): the result's message on
// failure.
#define CHECK_GRAD(...)                                          \
    do {                                                         \
        const ::tapegrad::GradcheckResult check_ = (__VA_ARGS__); \
        INFO(check_.message);                                    \
        CHECK(check_.ok);                                        \
    } while (false)
#define CHECK_GRADGRAD(...) CHECK_GRAD(__VA_ARGS__)
