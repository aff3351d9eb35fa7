// Shared by the test files: random inputs and a gradcheck assertion that prints what failed.
#pragma once

#include <algorithm>
#include <cmath>
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

// Compares with a PyTorch reference: |got - want| <= 1e-4 |want| + 1e-5 (the largest |want|, at
// least 1): relative, with a floor for elements near zero that float32 arithmetic reaches only to
// its rounding of the larger terms. On failure it names `what` and the worst element.
inline void check_close(const std::string& what, const Array& got, const Array& want) {
    INFO(what);
    REQUIRE(Shape(got.shape().begin(), got.shape().end()) ==
            Shape(want.shape().begin(), want.shape().end()));
    double scale = 1.0;
    for (const float w : want) scale = std::max(scale, static_cast<double>(std::abs(w)));
    double worst = 0.0;
    std::size_t at = 0;
    for (std::size_t k = 0; k < got.size(); ++k) {
        const double g = got.data()[k], w = want.data()[k];
        const double excess = std::abs(g - w) - (1e-4 * std::abs(w) + 1e-5 * scale);
        if (excess > worst || std::isnan(g)) {
            worst = std::isnan(g) ? INFINITY : excess;
            at = k;
        }
    }
    INFO("element " << at << ": tapegrad " << got.data()[at] << ", torch " << want.data()[at]);
    CHECK(worst <= 0.0);
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
