// Shared by the test files: random inputs and a gradcheck assertion that prints what failed.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
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
// its rounding of the larger terms. With `floor` (shaped as want), each element's floor is raised
// to its own where that is larger: for outputs that are sums of many terms, which cancellation can
// leave far smaller than the terms, sum_bounds of the sums' magnitudes (exact_sum_bounds against
// a reference computed in float64). On failure it names `what` and the worst element.
inline void check_close(const std::string& what, const Array& got, const Array& want,
                        const Array* floor = nullptr) {
    INFO(what);
    REQUIRE(Shape(got.shape().begin(), got.shape().end()) ==
            Shape(want.shape().begin(), want.shape().end()));
    if (floor) REQUIRE(floor->size() == want.size());
    double scale = 1.0;
    for (const float w : want) scale = std::max(scale, static_cast<double>(std::abs(w)));
    double worst = 0.0;
    std::size_t at = 0;
    for (std::size_t k = 0; k < got.size(); ++k) {
        const double g = got.data()[k], w = want.data()[k];
        const double near_zero = std::max(1e-5 * scale, floor ? double(floor->data()[k]) : 0.0);
        const double excess = std::abs(g - w) - (1e-4 * std::abs(w) + near_zero);
        if (excess > worst || std::isnan(g)) {
            worst = std::isnan(g) ? INFINITY : excess;
            at = k;
        }
    }
    INFO("element " << at << ": tapegrad " << got.data()[at] << ", torch " << want.data()[at]);
    CHECK(worst <= 0.0);
}

// How far two float32 computations of the same sum may fall apart. A sum (or dot product) of n
// terms computed in float32, in any order and with or without fused multiply-adds, is within
// gamma(n) * (sum of |term|) of the exact value (Higham, "Accuracy and Stability of Numerical
// Algorithms", 2nd ed., §3.1), where gamma(n) = n u / (1 - n u) and u is float32's unit roundoff.
// Two such computations, say tapegrad's kernel and OpenBLAS's on whatever CPU, differ by at most
// twice that: the bound depends on the operands, not on the machine. A wrong result (a term
// missing, a term twice) misses by a whole term, far more.
inline double gamma_f32(std::size_t n) {
    const double u = std::numeric_limits<float>::epsilon() / 2.0;
    return double(n) * u / (1.0 - double(n) * u);
}
// The bound on |a - b| for two float32 results of one sum of `n` terms whose absolute values add
// up to `magnitude`.
inline double sum_bound(std::size_t n, double magnitude) { return 2.0 * gamma_f32(n) * magnitude; }
// The bound on |a - want| for one float32 result of such a sum against the exact sum rounded to
// float (a reference summed in double): gamma(n) for the float sum, one rounding u for want.
inline double exact_sum_bound(std::size_t n, double magnitude) {
    return gamma_f32(n + 1) * magnitude;
}

// Both, elementwise: bounds shaped as `magnitude`, whose elements are the sums of |term| of sums
// of at most `n` terms each. For an op linear in each input (a product, a convolution, a sum),
// the op on the inputs' absolute values, and its gradients for an |dy|, give those magnitudes.
inline Array sum_bounds(std::size_t n, const Array& magnitude) {
    Array bounds = Array::from_shape(magnitude.shape());
    for (std::size_t k = 0; k < magnitude.size(); ++k)
        bounds.data()[k] = float(sum_bound(n, magnitude.data()[k]));
    return bounds;
}
inline Array exact_sum_bounds(std::size_t n, const Array& magnitude) {
    Array bounds = Array::from_shape(magnitude.shape());
    for (std::size_t k = 0; k < magnitude.size(); ++k)
        bounds.data()[k] = float(exact_sum_bound(n, magnitude.data()[k]));
    return bounds;
}

// The same for a whole matrix product c [m, n] = a [m, k] · b [k, n] (plus `start` when given):
// for each element, sum_bound over its k products (and the start value). `a_t` and `b_t` say an
// operand is stored transposed ([k, m], [n, k]). Returns the bounds, shaped as c.
inline Array matmul_bounds(const Array& a, const Array& b, bool a_t = false, bool b_t = false,
                           const Array* start = nullptr) {
    const std::size_t m = a_t ? a.shape()[1] : a.shape()[0];
    const std::size_t k = a_t ? a.shape()[0] : a.shape()[1];
    const std::size_t n = b_t ? b.shape()[0] : b.shape()[1];
    Array bounds = Array::from_shape({m, n});
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            double magnitude = start ? std::abs(double((*start)(i, j))) : 0.0;
            for (std::size_t p = 0; p < k; ++p)
                magnitude += std::abs(double(a_t ? a(p, i) : a(i, p)) *
                                      double(b_t ? b(j, p) : b(p, j)));
            bounds(i, j) = float(sum_bound(k + (start ? 1 : 0), magnitude));
        }
    return bounds;
}

// Checks |got - want| <= bound elementwise (all three of one shape), naming `what` and the worst
// element on failure.
inline void check_within(const std::string& what, const Array& got, const Array& want,
                         const Array& bound) {
    INFO(what);
    REQUIRE(Shape(got.shape().begin(), got.shape().end()) ==
            Shape(want.shape().begin(), want.shape().end()));
    REQUIRE(got.size() == bound.size());
    double worst = -INFINITY;
    std::size_t at = 0;
    for (std::size_t k = 0; k < got.size(); ++k) {
        const double excess = std::isnan(got.data()[k])
                                  ? INFINITY
                                  : std::abs(double(got.data()[k]) - want.data()[k]) -
                                        bound.data()[k];
        if (excess > worst) {
            worst = excess;
            at = k;
        }
    }
    INFO("element " << at << ": got " << got.data()[at] << ", want " << want.data()[at]
                    << ", bound " << bound.data()[at]);
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
