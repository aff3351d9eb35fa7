#include "kernels.hpp"

#include <algorithm>
#include <stdexcept>

namespace tapegrad::detail {

namespace {

// y (contiguous, of shape `out`) [k] = x[offset of k], x read with `strides` (in elements; a
// stride of 0 repeats). The innermost axis is a copy, a fill or a strided gather.
void strided_copy(const float* x, const Shape& out, const std::vector<std::size_t>& strides,
                  float* y) {
    const std::size_t rank = out.size();
    if (rank == 0) {
        *y = *x;
        return;
    }
    std::size_t total = 1;
    for (std::size_t d : out) total *= d;
    if (total == 0) return;
    const std::size_t n = out[rank - 1], s = strides[rank - 1];
    std::vector<std::size_t> at(rank, 0);  // the multi-index over the outer axes
    std::size_t base = 0;
    for (std::size_t done = 0; done < total; done += n) {
        const float* from = x + base;
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

std::vector<std::size_t> strides_of(const Shape& shape) {
    std::vector<std::size_t> s(shape.size(), 1);
    for (std::size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
    return s;
}

}  // namespace

Array broadcast_to(const Array& x, const Shape& shape) {
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
    Array y = Array::from_shape(shape);
    strided_copy(x.data(), shape, strides, y.data());
    return y;
}

Array permuted(const Array& x, const std::vector<std::size_t>& perm) {
    const Shape xs(x.shape().begin(), x.shape().end());
    const std::vector<std::size_t> own = strides_of(xs);
    Shape shape(perm.size());
    std::vector<std::size_t> strides(perm.size());
    for (std::size_t i = 0; i < perm.size(); ++i) {
        shape[i] = xs[perm[i]];
        strides[i] = own[perm[i]];
    }
    Array y = Array::from_shape(shape);
    strided_copy(x.data(), shape, strides, y.data());
    return y;
}

Array scale_lines(const Array& w, const Array& dy, const Lines& lines) {
    Array dx = Array::from_shape(w.shape());
    for (std::size_t l = 0; l < lines.count() && lines.n > 0; ++l) {
        const float g = dy.data()[l];
        const float* s = w.data() + lines.start(l);
        float* d = dx.data() + lines.start(l);
        for (std::size_t k = 0; k < lines.n; ++k) d[k * lines.inner] = s[k * lines.inner] * g;
    }
    return dx;
}

Array times_broadcast(const Array& x, const Array& b) {
    const Shape shape(x.shape().begin(), x.shape().end());
    Array dx = broadcast_to(b, shape);
    float* out = dx.data();
    const float* in = x.data();
    for (std::size_t i = 0; i < dx.size(); ++i) out[i] *= in[i];
    return dx;
}

}  // namespace tapegrad::detail
