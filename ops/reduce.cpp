#include "reduce.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xreducer.hpp>

#include "../core/tape.hpp"
#include "elementwise.hpp"
#include "shape.hpp"

namespace tapegrad {

std::size_t normalize_axis(const char* op, int axis, std::size_t rank) {
    const int r = static_cast<int>(rank);
    if (axis < -r || axis >= r)
        throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) +
                                    " is out of range for a tensor of rank " +
                                    std::to_string(rank));
    return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

namespace {

// Sum over `axes` scaled by `scale` (1 for sum, 1/n for mean), with its backward.
Tensor reduce_sum(const char* op, const Tensor& x, std::vector<int> axes_in, bool keepdims,
                  bool average) {
    std::vector<std::size_t> axes;
    for (int a : axes_in) axes.push_back(normalize_axis(op, a, x.dim()));
    std::sort(axes.begin(), axes.end());
    if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
        throw std::invalid_argument(std::string(op) + ": an axis is listed twice");

    Shape kept = x.shape();  // the output shape with reduced axes kept as 1
    std::size_t n = 1;
    for (std::size_t a : axes) {
        n *= kept[a];
        kept[a] = 1;
    }
    const float scale = average ? 1.0f / static_cast<float>(std::max<std::size_t>(n, 1)) : 1.0f;

    Array y = xt::sum(x.value(), axes, xt::evaluation_strategy::immediate);
    if (average) y *= scale;
    if (keepdims) y.reshape(kept);

    return record(
        op, {x}, std::move(y),
        [x, kept, scale](const Array& dy, const Array&) {
            Array dy_kept = dy;
            dy_kept.reshape(kept);
            Array dx = xt::broadcast(dy_kept * scale, x.shape());
            x.accumulate_grad(std::move(dx));
        },
        [kept, scale](const std::vector<Tensor>& in, const Tensor&, const Tensor& dy) {
            return std::vector<Tensor>{expand(reshape(dy, kept) * scale, in[0].shape())};
        });
}

std::vector<int> all_axes(const Tensor& x) {
    std::vector<int> axes(x.dim());
    for (std::size_t i = 0; i < axes.size(); ++i) axes[i] = static_cast<int>(i);
    return axes;
}

}  // namespace

Tensor sum(const Tensor& x) { return reduce_sum("sum", x, all_axes(x), false, false); }
Tensor sum(const Tensor& x, int axis, bool keepdims) {
    return reduce_sum("sum", x, {axis}, keepdims, false);
}
Tensor sum(const Tensor& x, std::vector<int> axes, bool keepdims) {
    return reduce_sum("sum", x, std::move(axes), keepdims, false);
}

Tensor mean(const Tensor& x) { return reduce_sum("mean", x, all_axes(x), false, true); }
Tensor mean(const Tensor& x, int axis, bool keepdims) {
    return reduce_sum("mean", x, {axis}, keepdims, true);
}
Tensor mean(const Tensor& x, std::vector<int> axes, bool keepdims) {
    return reduce_sum("mean", x, std::move(axes), keepdims, true);
}

}  // namespace tapegrad
