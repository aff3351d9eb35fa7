// Array kernels several ops share, written as plain loops: xtensor's broadcasting and
// transposing assignments walk a multi-index per element and cost ten times these.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "parallel.hpp"
#include "array.hpp"
#include "vector_math.hpp"

namespace tapegrad::detail {

// T itself, in a parameter that must not decide T (a kernel's float setting beside its array).
template <class T>
struct Same {
    using type = T;
};
template <class T>
using same_t = typename Same<T>::type;

// The kernels below that take an ArrayOf<T> are compiled for float and double.

// x broadcast to `shape` (NumPy's rules: x's axes aligned from the right, 1 stretches), as a
// new contiguous array.
template <class T>
ArrayOf<T> broadcast_to(const ArrayOf<T>& x, const Shape& shape);

// x with its axes reordered: axis i of the result is axis perm[i] of x.
template <class T>
ArrayOf<T> permuted(const ArrayOf<T>& x, const std::vector<std::size_t>& perm);

// c ? a : b without a branch: where c follows the data (a sign, a random mask) a branch is
// mispredicted half the time, at ten times the cost of the arithmetic (vector_math.hpp).
inline float blend(bool c, float a, float b) { return vector_math::pick(c, a, b); }

// The sum of n floats: eight float partial sums (which the compiler keeps in one vector register;
// a single running sum is a chain of dependent adds it may not reorder), combined in double.
inline double row_sum(const float* row, std::size_t n) {
    float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (std::size_t l = 0; l < 8; ++l) part[l] += row[k + l];
    double total = 0.0;
    for (float p : part) total += p;
    for (; k < n; ++k) total += row[k];
    return total;
}

// An array seen as lines along one axis: [outer, n, inner] around it. Line l = o * inner + i
// (o < outer, i < inner) holds the n elements start(l) + k * inner. A reduction over every axis
// is one line (Lines::whole).
struct Lines {
    std::size_t outer = 1, n = 1, inner = 1;
    Lines(const Shape& shape, std::size_t axis) : n(shape[axis]) {
        for (std::size_t d = 0; d < axis; ++d) outer *= shape[d];
        for (std::size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
    }
    static Lines whole(std::size_t size) {
        Lines l(Shape{size}, 0);
        return l;
    }
    std::size_t count() const { return outer * inner; }
    std::size_t start(std::size_t line) const { return (line / inner) * n * inner + line % inner; }
};

// dx[element k of line l] = w[that element] dy[l]: a reduction's gradient spread back along its
// lines, each element weighted (max's share of ties, logsumexp's softmax).
template <class T>
ArrayOf<T> scale_lines(const ArrayOf<T>& w, const ArrayOf<T>& dy, const Lines& lines);

// x times b broadcast to x's shape, in one pass (var's gradient: x - mean times dy's share).
template <class T>
ArrayOf<T> times_broadcast(const ArrayOf<T>& x, const ArrayOf<T>& b);

// f of each element (of each pair, each triple of elements at the same place), into a new array
// of the first argument's shape; large arrays are split over the threads.
template <class T, class F>
ArrayOf<T> map(const ArrayOf<T>& x, F f) {
    ArrayOf<T> y = ArrayOf<T>::from_shape(x.shape());
    const T* __restrict in = x.data();
    T* __restrict out = y.data();
    parallel_for(x.size(), [&](std::size_t begin, std::size_t end, int) {
        for (std::size_t i = begin; i < end; ++i) out[i] = f(in[i]);
    }, min_floats_per_thread);
    return y;
}

template <class T, class F>
ArrayOf<T> map(const ArrayOf<T>& a, const ArrayOf<T>& b, F f) {
    ArrayOf<T> y = ArrayOf<T>::from_shape(a.shape());
    const T* __restrict p = a.data();
    const T* __restrict q = b.data();
    T* __restrict out = y.data();
    parallel_for(a.size(), [&](std::size_t begin, std::size_t end, int) {
        for (std::size_t i = begin; i < end; ++i) out[i] = f(p[i], q[i]);
    }, min_floats_per_thread);
    return y;
}

template <class T, class F>
ArrayOf<T> map(const ArrayOf<T>& a, const ArrayOf<T>& b, const ArrayOf<T>& c, F f) {
    ArrayOf<T> y = ArrayOf<T>::from_shape(a.shape());
    const T* __restrict p = a.data();
    const T* __restrict q = b.data();
    const T* __restrict r = c.data();
    T* __restrict out = y.data();
    parallel_for(a.size(), [&](std::size_t begin, std::size_t end, int) {
        for (std::size_t i = begin; i < end; ++i) out[i] = f(p[i], q[i], r[i]);
    }, min_floats_per_thread);
    return y;
}

}  // namespace tapegrad::detail
