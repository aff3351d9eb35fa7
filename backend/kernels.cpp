#include "kernels.hpp"

#include <algorithm>
#include <stdexcept>

namespace tapegrad::detail {

namespace {

std::vector<std::size_t> strides_of(const Shape& shape) {
    std::vector<std::size_t> s(shape.size(), 1);
    for (std::size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
    return s;
}

// strided_copy where x's innermost axis became y's axis p, above y's last (a transpose): each
// plane [out[p], out[last]] is copied in square tiles, so that the strided reads of a tile share
// their cache lines instead of touching a new line for every element.
template <class T>
void tiled_copy(const T* x, const Shape& out, const std::vector<std::size_t>& strides, std::size_t p, T* y) {
    constexpr std::size_t tile = 16;
    const std::size_t rank = out.size(), last = rank - 1;
    const std::vector<std::size_t> ys = strides_of(out);
    const std::size_t m = out[p], n = out[last], s = strides[last];
    std::vector<std::size_t> axes;  // the others, walked as one multi-index
    std::size_t planes = 1;
    for (std::size_t d = 0; d < last; ++d)
        if (d != p) axes.push_back(d), planes *= out[d];
    std::vector<std::size_t> at(axes.size(), 0);
    std::size_t xb = 0, yb = 0;
    for (std::size_t k = 0; k < planes; ++k) {
        for (std::size_t i0 = 0; i0 < m; i0 += tile)
            for (std::size_t j0 = 0; j0 < n; j0 += tile) {
                const std::size_t i1 = std::min(m, i0 + tile), j1 = std::min(n, j0 + tile);
                for (std::size_t i = i0; i < i1; ++i) {
                    T* row = y + yb + i * ys[p];
                    const T* from = x + xb + i;
                    for (std::size_t j = j0; j < j1; ++j) row[j] = from[j * s];
                }
            }
        for (std::size_t a = axes.size(); a-- > 0;) {
            const std::size_t d = axes[a];
            xb += strides[d];
            yb += ys[d];
            if (++at[a] < out[d]) break;
            xb -= strides[d] * out[d];
            yb -= ys[d] * out[d];
            at[a] = 0;
        }
    }
}

// y (contiguous, of shape `out`) [k] = x[offset of k], x read with `strides` (in elements; a
// stride of 0 repeats). The innermost axis is a copy, a fill or a strided gather; a transpose
// goes by tiles.
template <class T>
void strided_copy(const T* x, const Shape& out, const std::vector<std::size_t>& strides, T* y) {
    const std::size_t rank = out.size();
    if (rank == 0) {
        *y = *x;
        return;
    }
    std::size_t total = 1;
    for (std::size_t d : out) total *= d;
    if (total == 0) return;
    const std::size_t n = out[rank - 1], s = strides[rank - 1];
    if (s > 1 && n > 1)
        for (std::size_t p = 0; p + 1 < rank; ++p)
            if (strides[p] == 1 && out[p] > 1) return tiled_copy(x, out, strides, p, y);
    std::vector<std::size_t> at(rank, 0);  // the multi-index over the outer axes
    std::size_t base = 0;
    for (std::size_t done = 0; done < total; done += n) {
        const T* from = x + base;
        if (s == 1) std::copy_n(from, n, y);
        else if (s == 0) std::fill_n(y, n, *from);
        else
            for (std::size_t j = 0; j < n; ++j) y[j] = from[j * s];
        y += n;
        for (std::size_t d = rank - 1; d-- > 0;) {  // next row: count up the outer axes
            base += strides[d];
            if (++at[d] < out[d]) break;
            base -= strides[d] * out[d];
            at[d] = 0;
        }
    }
}

}  // namespace

template <class T>
ArrayOf<T> broadcast_to(const ArrayOf<T>& x, const Shape& shape) {
    const Shape xs(x.shape().begin(), x.shape().end());
    if (xs.size() > shape.size())
        throw std::logic_error("broadcast_to: " + shape_str(xs) + " has more axes than " +
                               shape_str(shape));
    const std::size_t lead = shape.size() - xs.size();
    const std::vector<std::size_t> own = strides_of(xs);
    std::vector<std::size_t> strides(shape.size(), 0);
    for (std::size_t d = 0; d < xs.size(); ++d) {
        if (xs[d] != 1 && xs[d] != shape[lead + d])
            throw std::logic_error("broadcast_to: " + shape_str(xs) + " does not broadcast to " +
                                   shape_str(shape));
        strides[lead + d] = xs[d] == 1 ? 0 : own[d];
    }
    ArrayOf<T> y = ArrayOf<T>::from_shape(shape);
    strided_copy(x.data(), shape, strides, y.data());
    return y;
}

template <class T>
ArrayOf<T> permuted(const ArrayOf<T>& x, const std::vector<std::size_t>& perm) {
    const Shape xs(x.shape().begin(), x.shape().end());
    const std::vector<std::size_t> own = strides_of(xs);
    Shape shape(perm.size());
    std::vector<std::size_t> strides(perm.size());
    for (std::size_t i = 0; i < perm.size(); ++i) {
        shape[i] = xs[perm[i]];
        strides[i] = own[perm[i]];
    }
    ArrayOf<T> y = ArrayOf<T>::from_shape(shape);
    strided_copy(x.data(), shape, strides, y.data());
    return y;
}

template <class T>
ArrayOf<T> scale_lines(const ArrayOf<T>& w, const ArrayOf<T>& dy, const Lines& lines) {
    ArrayOf<T> dx = ArrayOf<T>::from_shape(w.shape());
    for (std::size_t l = 0; l < lines.count() && lines.n > 0; ++l) {
        const T g = dy.data()[l];
        const T* s = w.data() + lines.start(l);
        T* d = dx.data() + lines.start(l);
        for (std::size_t k = 0; k < lines.n; ++k) d[k * lines.inner] = s[k * lines.inner] * g;
    }
    return dx;
}

template <class T>
ArrayOf<T> times_broadcast(const ArrayOf<T>& x, const ArrayOf<T>& b) {
    const Shape shape(x.shape().begin(), x.shape().end());
    ArrayOf<T> dx = broadcast_to(b, shape);
    T* out = dx.data();
    const T* in = x.data();
    for (std::size_t i = 0; i < dx.size(); ++i) out[i] *= in[i];
    return dx;
}

#define TAPEGRAD_KERNELS_FOR(T)                                                             \
    template ArrayOf<T> broadcast_to(const ArrayOf<T>&, const Shape&);                      \
    template ArrayOf<T> permuted(const ArrayOf<T>&, const std::vector<std::size_t>&);       \
    template ArrayOf<T> scale_lines(const ArrayOf<T>&, const ArrayOf<T>&, const Lines&);    \
    template ArrayOf<T> times_broadcast(const ArrayOf<T>&, const ArrayOf<T>&);
TAPEGRAD_KERNELS_FOR(float)
TAPEGRAD_KERNELS_FOR(double)
#undef TAPEGRAD_KERNELS_FOR

}  // namespace tapegrad::detail
