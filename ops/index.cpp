#include "index.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "../backend/kernels.hpp"
#include "../core/tape.hpp"
#include "reduce.hpp"
#include "shape.hpp"

namespace tapegrad {

namespace {

using Rows = std::vector<std::size_t>;

std::string num(float v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

// The whole-number values of `indices`, each below n: the rows an op picks.
Rows to_rows(const char* op, const Tensor& indices, std::size_t n) {
    if (!indices.defined()) throw std::invalid_argument(std::string(op) + ": indices is empty");
    Rows rows(indices.size());
    const float* v = indices.value().data();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (!(v[i] >= 0.0f) || v[i] != std::floor(v[i]) || v[i] >= static_cast<float>(n))
            throw std::invalid_argument(
                std::string(op) + ": index " + num(v[i]) + " at position " + std::to_string(i) +
                " of the indices is out of range: indices must be whole numbers from 0 to " +
                std::to_string(n) + " - 1 (the size of the axis)");
        rows[i] = static_cast<std::size_t>(v[i]);
    }
    return rows;
}

// y = the listed rows of x along `axis`, in order.
Array take_rows(const Array& x, std::size_t axis, const Rows& rows) {
    Shape shape(x.shape().begin(), x.shape().end());
    const detail::Lines v(shape, axis);
    shape[axis] = rows.size();
    Array y = Array::from_shape(shape);
    const float* in = x.data();
    float* out = y.data();
    if (v.inner == 1) {  // single elements: a gather, without a copy call per element
        for (std::size_t o = 0; o < v.outer; ++o) {
            const float* __restrict from = in + o * v.n;
            float* __restrict to = out + o * rows.size();
            for (std::size_t k = 0; k < rows.size(); ++k) to[k] = from[rows[k]];
        }
        return y;
    }
    for (std::size_t o = 0; o < v.outer; ++o)
        for (std::size_t k = 0; k < rows.size(); ++k)
            std::copy_n(in + (o * v.n + rows[k]) * v.inner, v.inner,
                        out + (o * rows.size() + k) * v.inner);
    return y;
}

// The reverse: zeros of `shape`, with row k of src added to row rows[k] (repeats add up).
Array put_rows(const Array& src, const Shape& shape, std::size_t axis, const Rows& rows) {
    Array y = xt::zeros<float>(shape);
    const detail::Lines v(shape, axis);
    const float* in = src.data();
    float* out = y.data();
    for (std::size_t o = 0; o < v.outer; ++o)
        for (std::size_t k = 0; k < rows.size(); ++k) {
            const float* from = in + (o * rows.size() + k) * v.inner;
            float* to = out + (o * v.n + rows[k]) * v.inner;
            for (std::size_t i = 0; i < v.inner; ++i) to[i] += from[i];
        }
    return y;
}

// The two as recorded ops, each the other's backward: both are linear, so differentiable
// any number of times.
Tensor put(const Tensor& src, const Shape& shape, std::size_t axis, const Rows& rows);

Tensor take(const char* op, const Tensor& x, std::size_t axis, const Rows& rows) {
    return record(
        op, {x}, take_rows(x.value(), axis, rows),
        [axis, rows](const Inputs& in, const Tensor&, const Tensor& dy) {
            return Grads{put(dy, in[0].shape(), axis, rows)};
        });
}

Tensor put(const Tensor& src, const Shape& shape, std::size_t axis, const Rows& rows) {
    return record(
        "put_rows", {src}, put_rows(src.value(), shape, axis, rows),
        [axis, rows](const Inputs&, const Tensor&, const Tensor& dy) {
            return Grads{take("take_rows", dy, axis, rows)};
        });
}

// For gather and scatter_add: the offset in x of each element of indices, its own axis left out
// (x and indices have the same rank; indices may be smaller on every axis).
struct Places {
    std::vector<std::size_t> offset;  // one per element of indices, row-major
    std::size_t stride = 1;           // x's stride along the axis

    Places(const char* op, const Shape& x, const Shape& idx, std::size_t axis) {
        if (idx.size() != x.size())
            throw std::invalid_argument(std::string(op) + ": indices must have the rank of x (" +
                                        std::to_string(x.size()) + "), but its shape is " +
                                        shape_str(idx) + " and x's is " + shape_str(x));
        for (std::size_t d = 0; d < x.size(); ++d)
            if (d != axis && idx[d] > x[d])
                throw std::invalid_argument(std::string(op) + ": indices of shape " +
                                            shape_str(idx) + " are larger than x " +
                                            shape_str(x) + " along axis " + std::to_string(d));
        std::vector<std::size_t> strides(x.size(), 1);
        for (std::size_t d = x.size(); d-- > 1;) strides[d - 1] = strides[d] * x[d];
        stride = x.empty() ? 1 : strides[axis];
        std::size_t count = 1;
        for (std::size_t s : idx) count *= s;
        offset.resize(count);
        std::vector<std::size_t> at(idx.size(), 0);  // the multi-index, counted up row-major
        for (std::size_t p = 0; p < count; ++p) {
            std::size_t off = 0;
            for (std::size_t d = 0; d < at.size(); ++d)
                if (d != axis) off += at[d] * strides[d];
            offset[p] = off;
            for (std::size_t d = at.size(); d-- > 0;) {
                if (++at[d] < idx[d]) break;
                at[d] = 0;
            }
        }
    }
};

// The indices' shape and rows for gather and scatter_add.
struct Scatter {
    std::size_t axis;
    Rows rows;
    Places places;
    Scatter(const char* op, const Tensor& x, int axis_in, const Tensor& indices)
        : axis(normalize_axis(op, axis_in, x.dim())),
          rows(to_rows(op, indices, x.shape()[axis])),
          places(op, x.shape(), indices.shape(), axis) {}
};

}  // namespace

Tensor slice(const Tensor& x, int axis, long begin, long end, long step) {
    const std::size_t a = normalize_axis("slice", axis, x.dim());
    if (step < 1)
        throw std::invalid_argument("slice: step must be at least 1, got " + std::to_string(step));
    const long n = static_cast<long>(x.shape()[a]);
    // Python's rules: negative bounds count from the end, then both are clamped to [0, n].
    auto clamp = [n](long i) { return std::clamp(i < 0 ? i + n : i, 0L, n); };
    const long b = clamp(begin), e = clamp(end);
    Rows rows;
    for (long i = b; i < e; i += step) rows.push_back(static_cast<std::size_t>(i));
    return take("slice", x, a, rows);
}

Tensor select(const Tensor& x, int axis, long index) {
    const std::size_t a = normalize_axis("select", axis, x.dim());
    const long n = static_cast<long>(x.shape()[a]);
    if (index < -n || index >= n)
        throw std::invalid_argument("select: index " + std::to_string(index) +
                                    " is out of range for axis " + std::to_string(axis) +
                                    " of size " + std::to_string(n));
    const Rows row{static_cast<std::size_t>(index < 0 ? index + n : index)};
    return squeeze(take("select", x, a, row), static_cast<int>(a));
}

Tensor index_select(const Tensor& x, int axis, const Tensor& indices) {
    const std::size_t a = normalize_axis("index_select", axis, x.dim());
    if (indices.dim() != 1)
        throw std::invalid_argument("index_select: indices must be 1-D, but their shape is " +
                                    shape_str(indices.shape()));
    return take("index_select", x, a, to_rows("index_select", indices, x.shape()[a]));
}

Tensor gather(const Tensor& x, int axis, const Tensor& indices) {
    const Scatter s("gather", x, axis, indices);
    Array y = Array::from_shape(indices.shape());
    const float* in = x.value().data();
    for (std::size_t p = 0; p < s.rows.size(); ++p)
        y.data()[p] = in[s.places.offset[p] + s.rows[p] * s.places.stride];
    const Tensor idx = indices.detach();
    return record(
        "gather", {x}, std::move(y),
        [axis, idx](const Inputs& in, const Tensor&, const Tensor& dy) {
            return Grads{scatter_add(Tensor(xt::zeros<float>(in[0].value().shape())), axis, idx, dy)};
        });
}

Tensor scatter_add(const Tensor& x, int axis, const Tensor& indices, const Tensor& source) {
    const Scatter s("scatter_add", x, axis, indices);
    if (source.shape() != indices.shape())
        throw std::invalid_argument("scatter_add: source must have the shape of indices " +
                                    shape_str(indices.shape()) + ", but it is " +
                                    shape_str(source.shape()));
    Array y = x.value();
    const float* src = source.value().data();
    for (std::size_t p = 0; p < s.rows.size(); ++p)
        y.data()[s.places.offset[p] + s.rows[p] * s.places.stride] += src[p];
    const Tensor idx = indices.detach();
    return record(
        "scatter_add", {x, source}, std::move(y),
        [axis, idx](const Inputs& in, const Tensor&, const Tensor& dy) {  // dx = dy, ds = gather(dy)
            return Grads{in[0].requires_grad() ? dy : Tensor(),
                         in[1].requires_grad() ? gather(dy, axis, idx) : Tensor()};
        });
}

Tensor concat(const std::vector<Tensor>& tensors, int axis) {
    if (tensors.empty()) throw std::invalid_argument("concat: the list of tensors is empty");
    for (std::size_t i = 0; i < tensors.size(); ++i)
        if (!tensors[i].defined())
            throw std::invalid_argument("concat: tensor " + std::to_string(i) + " is empty");
    const Shape first = tensors[0].shape();
    const std::size_t a = normalize_axis("concat", axis, first.size());
    Shape shape = first;
    shape[a] = 0;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        Shape s = tensors[i].shape();
        bool same = s.size() == first.size();
        for (std::size_t d = 0; same && d < s.size(); ++d) same = d == a || s[d] == first[d];
        if (!same)
            throw std::invalid_argument("concat: tensor " + std::to_string(i) + " has shape " +
                                        shape_str(s) + " but tensor 0 has " + shape_str(first) +
                                        "; they may differ only along axis " +
                                        std::to_string(axis));
        shape[a] += s[a];
    }
    Array y = Array::from_shape(shape);
    const detail::Lines out(shape, a);
    std::vector<std::size_t> begins;  // where each tensor's rows start along the axis
    std::size_t at = 0;
    for (const Tensor& t : tensors) {
        begins.push_back(at);
        const std::size_t n = t.shape()[a];
        const float* in = t.value().data();
        for (std::size_t o = 0; o < out.outer; ++o)
            std::copy_n(in + o * n * out.inner, n * out.inner,
                        y.data() + (o * out.n + at) * out.inner);
        at += n;
    }
    return record(
        "concat", tensors, std::move(y),
        [begins, a](const Inputs& in, const Tensor&, const Tensor& dy) {
            Grads dx;
            for (std::size_t i = 0; i < in.size(); ++i) {
                const long b = static_cast<long>(begins[i]);
                dx.push_back(in[i].requires_grad() ? slice(dy, static_cast<int>(a), b,
                                                           b + static_cast<long>(in[i].shape()[a]))
                                                   : Tensor());
            }
            return dx;
        });
}

Tensor stack(const std::vector<Tensor>& tensors, int axis) {
    if (tensors.empty()) throw std::invalid_argument("stack: the list of tensors is empty");
    const Shape first = tensors[0].shape();
    const std::size_t a = normalize_axis("stack", axis, first.size() + 1);
    for (std::size_t i = 0; i < tensors.size(); ++i)
        if (tensors[i].shape() != first)
            throw std::invalid_argument("stack: tensor " + std::to_string(i) + " has shape " +
                                        shape_str(tensors[i].shape()) + " but tensor 0 has " +
                                        shape_str(first) + "; stacked tensors must agree");
    Shape shape = first;
    shape.insert(shape.begin() + static_cast<std::ptrdiff_t>(a), tensors.size());
    if (a < first.size()) {
        // Joined along axis a, tensor j's rows come j-th: [..., k * n, ...] is [..., k, n, ...].
        return reshape(concat(tensors, static_cast<int>(a)), shape);
    }
    std::vector<Tensor> parts;  // a new last axis: each tensor as a column
    for (const Tensor& t : tensors) parts.push_back(unsqueeze(t, -1));
    return concat(parts, -1);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<std::size_t>& sizes, int axis) {
    const std::size_t a = normalize_axis("split", axis, x.dim());
    std::size_t total = 0;
    for (std::size_t s : sizes) total += s;
    if (total != x.shape()[a]) {
        std::string list;
        for (std::size_t s : sizes) list += (list.empty() ? "" : ", ") + std::to_string(s);
        throw std::invalid_argument("split: sizes [" + list + "] add up to " +
                                    std::to_string(total) + ", but axis " + std::to_string(axis) +
                                    " of shape " + shape_str(x.shape()) + " has " +
                                    std::to_string(x.shape()[a]));
    }
    std::vector<Tensor> parts;
    long at = 0;
    for (std::size_t s : sizes) {
        parts.push_back(slice(x, static_cast<int>(a), at, at + static_cast<long>(s)));
        at += static_cast<long>(s);
    }
    return parts;
}

std::vector<Tensor> chunk(const Tensor& x, std::size_t chunks, int axis) {
    const std::size_t a = normalize_axis("chunk", axis, x.dim());
    if (chunks == 0) throw std::invalid_argument("chunk: the number of chunks must be positive");
    const std::size_t n = x.shape()[a];
    const std::size_t size = (n + chunks - 1) / chunks;
    std::vector<std::size_t> sizes;
    for (std::size_t at = 0; at < n; at += size) sizes.push_back(std::min(size, n - at));
    if (sizes.empty()) sizes.push_back(0);
    return split(x, sizes, axis);
}

Tensor embedding(const Tensor& indices, const Tensor& weight) {
    if (weight.dim() != 2)
        throw std::invalid_argument("embedding: weight must be 2-D [num_embeddings, dim], but "
                                    "its shape is " + shape_str(weight.shape()));
    Shape shape = indices.shape();
    shape.push_back(weight.shape()[1]);
    const Tensor rows = take("embedding", weight, 0, to_rows("embedding", indices, weight.shape()[0]));
    return reshape(rows, shape);
}

}  // namespace tapegrad
