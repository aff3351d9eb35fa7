#include "shape.hpp"

#include <functional>
#include <numeric>
#include <stdexcept>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmanipulation.hpp>

#include "../backend/kernels.hpp"
#include "../core/tape.hpp"
#include "elementwise.hpp"
#include "reduce.hpp"

namespace tapegrad {

namespace {

std::size_t count(const Shape& shape) {
    return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
}

// The same numbers under another shape: a copy, since the record keeps the input alive anyway
// and the output must own its value.
Array reshaped(const Array& x, const Shape& shape) {
    Array y = x;
    y.reshape(shape);
    return y;
}

}  // namespace

Tensor reshape(const Tensor& x, std::vector<std::size_t> shape) {
    if (count(shape) != x.size())
        throw std::invalid_argument("reshape: cannot reshape " + shape_str(x.shape()) + " (" +
                                    std::to_string(x.size()) + " elements) to " +
                                    shape_str(shape) + " (" + std::to_string(count(shape)) +
                                    " elements)");
    return record(
        "reshape", {x}, reshaped(x.value(), shape),
        [](const Inputs& in, const Tensor&, const Tensor& dy) {
            return Grads{reshape(dy, in[0].shape())};
        });
}

Tensor flatten(const Tensor& x) {
    if (x.dim() < 1)
        throw std::invalid_argument("flatten: needs at least one dimension (the batch), got a "
                                    "0-d tensor");
    const std::size_t n = x.shape()[0];
    return reshape(x, {n, n == 0 ? 0 : x.size() / n});
}

Tensor transpose(const Tensor& x) {
    if (x.dim() != 2)
        throw std::invalid_argument("transpose: needs a 2-D tensor, got shape " +
                                    shape_str(x.shape()));
    return record(
        "transpose", {x}, detail::permuted(x.value(), {1, 0}),
        [](const Inputs&, const Tensor&, const Tensor& dy) {
            return Grads{transpose(dy)};
        });
}

Tensor expand(const Tensor& x, std::vector<std::size_t> shape) {
    const Shape target(shape.begin(), shape.end());
    if (broadcast_shapes("expand", x.shape(), target) != target)
        throw std::invalid_argument("expand: " + shape_str(x.shape()) +
                                    " cannot be broadcast to " + shape_str(target) +
                                    " without changing the target");
    return record(
        "expand", {x}, detail::broadcast_to(x.value(), target),
        [](const Inputs& in, const Tensor&, const Tensor& dy) {
            return Grads{sum_to(dy, in[0].shape())};
        });
}

Tensor sum_to(const Tensor& x, std::vector<std::size_t> shape) {
    const Shape target(shape.begin(), shape.end());
    if (x.shape() == target) return x;
    if (broadcast_shapes("sum_to", x.shape(), target) != x.shape())
        throw std::invalid_argument("sum_to: " + shape_str(x.shape()) +
                                    " is not a broadcast of " + shape_str(target));
    return record(
        "sum_to", {x}, unbroadcast(x.value(), target),
        [](const Inputs& in, const Tensor&, const Tensor& dy) {
            return Grads{expand(dy, in[0].shape())};
        });
}

Tensor permute(const Tensor& x, std::vector<int> axes) {
    const std::size_t rank = x.dim();
    if (axes.size() != rank)
        throw std::invalid_argument("permute: " + std::to_string(axes.size()) +
                                    " axes given for a tensor of rank " + std::to_string(rank) +
                                    " (shape " + shape_str(x.shape()) + ")");
    std::vector<std::size_t> perm(rank), inverse(rank, rank);
    for (std::size_t i = 0; i < rank; ++i) {
        perm[i] = normalize_axis("permute", axes[i], rank);
        if (inverse[perm[i]] != rank)
            throw std::invalid_argument("permute: axis " + std::to_string(axes[i]) +
                                        " is listed twice");
        inverse[perm[i]] = i;
    }
    std::vector<int> back(inverse.begin(), inverse.end());
    return record(
        "permute", {x}, detail::permuted(x.value(), perm),
        [back](const Inputs&, const Tensor&, const Tensor& dy) {
            return Grads{permute(dy, back)};
        });
}

Tensor transpose(const Tensor& x, int axis0, int axis1) {
    const std::size_t a = normalize_axis("transpose", axis0, x.dim());
    const std::size_t b = normalize_axis("transpose", axis1, x.dim());
    std::vector<int> axes(x.dim());
    std::iota(axes.begin(), axes.end(), 0);
    std::swap(axes[a], axes[b]);
    return permute(x, axes);
}

Tensor unsqueeze(const Tensor& x, int axis) {
    // The new axis may go anywhere from before the first to after the last: rank + 1 places.
    const std::size_t a = normalize_axis("unsqueeze", axis, x.dim() + 1);
    Shape shape = x.shape();
    shape.insert(shape.begin() + static_cast<std::ptrdiff_t>(a), 1);
    return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, int axis) {
    const std::size_t a = normalize_axis("squeeze", axis, x.dim());
    Shape shape = x.shape();
    if (shape[a] != 1)
        throw std::invalid_argument("squeeze: axis " + std::to_string(axis) + " of shape " +
                                    shape_str(shape) + " has size " + std::to_string(shape[a]) +
                                    ", not 1");
    shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(a));
    return reshape(x, shape);
}

}  // namespace tapegrad
