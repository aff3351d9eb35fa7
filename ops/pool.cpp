#include "pool.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../backend/activation_kernels.hpp"
#include "../backend/kernels.hpp"
#include "../backend/parallel.hpp"
#include "../backend/short_copies.hpp"
#include "../core/tape.hpp"
#include "activation.hpp"
#include "elementwise.hpp"

namespace tapegrad {

using detail::PoolIndex;

void detail::PoolIndex::describe(const Shape& x, const Array& y, std::size_t min_planes_) {
    input = x;
    output = Shape(y.shape().begin(), y.shape().end());
    planes = x[0] * x[1];
    plane_in = x[2] * x[3];
    plane_out = output[2] * output[3];
    min_planes = min_planes_;
}

namespace {

// dy [N, C, Ho, Wo] added onto the input positions of the maxima, [N, C, H, W]: max_pool2d's
// gradient. The threads take contiguous ranges of planes.
Array scatter_values(const Array& dy, const PoolIndex& at) {
    Array dx = Array::from_shape(at.input);
    const float* g = dy.data();
    float* d = dx.data();
    parallel_for(at.planes, [&](std::size_t begin, std::size_t end, int) {
        std::fill(d + begin * at.plane_in, d + end * at.plane_in, 0.0f);
        for (std::size_t p = begin; p < end; ++p)
            for (std::size_t k = 0; k < at.plane_out; ++k)
                d[p * at.plane_in + at.argmax[p * at.plane_out + k]] += g[p * at.plane_out + k];
    }, at.min_planes);
    return dx;
}

// Its adjoint: the values of dx [N, C, H, W] at the positions of the maxima, [N, C, Ho, Wo].
Array gather_values(const Array& dx, const PoolIndex& at) {
    Array out = Array::from_shape(at.output);
    const float* d = dx.data();
    for (std::size_t p = 0; p < at.planes; ++p)
        for (std::size_t k = 0; k < at.plane_out; ++k)
            out.data()[p * at.plane_out + k] = d[p * at.plane_in + at.argmax[p * at.plane_out + k]];
    return out;
}

// The two as ops, each the other's backward, so that max_pool2d's gradient can be
// differentiated again (create_graph): both are linear.
Tensor pool_gather(const Tensor& dx, std::shared_ptr<const PoolIndex> index);

}  // namespace

Tensor detail::pool_scatter(const Tensor& dy, std::shared_ptr<const PoolIndex> index) {
    return record(
        "max_pool2d_scatter", {dy}, scatter_values(dy.value(), *index),
        [index](const Inputs&, const Tensor&, const Tensor& g) {
            return Grads{pool_gather(g, index)};
        });
}

namespace {

using detail::pool_scatter;

Tensor pool_gather(const Tensor& dx, std::shared_ptr<const PoolIndex> index) {
    return record(
        "max_pool2d_gather", {dx}, gather_values(dx.value(), *index),
        [index](const Inputs&, const Tensor&, const Tensor& g) {
            return Grads{pool_scatter(g, index)};
        });
}

// One output row of the common 2x2 window with stride 2, from input rows r0 and r1 (r0 starts at
// position `first` of its plane, r1 a row of w below): the four candidates of each window in the
// same order and by the same rule as the general loop (strictly greater wins, so the first of
// equal maxima stays; a NaN wins). Written as selects on whole values, the loop vectorises
// (stride-2 loads, compares and blends).
// With Relu, the candidates are relu(x) (x > 0 ? x : 0, so a NaN is 0): relu_max_pool2d.
template <bool Relu>
void max_pool_2x2_row(const float* __restrict r0, const float* __restrict r1, std::uint32_t first,
                      std::uint32_t w, std::size_t wo, float* __restrict best,
                      std::uint32_t* __restrict at) {
    // In chunks of 16 windows through small local copies, so that every chunk is a loop of a
    // fixed 16 iterations, which the compiler vectorises whole: the tutorial CNN's rows are 14
    // and 7 windows long, too short for a vector loop over the row itself (which left them to
    // a scalar remainder).
    constexpr std::size_t chunk = 16;
    float top[2 * chunk], bottom[2 * chunk], b[chunk];
    std::uint32_t a[chunk];
    for (std::size_t j0 = 0; j0 < wo; j0 += chunk) {
        const std::size_t n = std::min(chunk, wo - j0);
        detail::copy_padded(r0 + 2 * j0, 2 * n, top);
        detail::copy_padded(r1 + 2 * j0, 2 * n, bottom);
        if (Relu)
            for (std::size_t j = 0; j < 2 * chunk; ++j) {
                top[j] = top[j] > 0.0f ? top[j] : 0.0f;
                bottom[j] = bottom[j] > 0.0f ? bottom[j] : 0.0f;
            }
        const std::uint32_t start = first + 2 * static_cast<std::uint32_t>(j0);
        for (std::size_t j = 0; j < chunk; ++j) {
            const std::uint32_t p = start + 2 * static_cast<std::uint32_t>(j);
            float m = top[2 * j];
            std::uint32_t k = p;
            float v = top[2 * j + 1];
            bool take = v > m || v != v;
            m = take ? v : m;
            k = take ? p + 1 : k;
            v = bottom[2 * j];
            take = v > m || v != v;
            m = take ? v : m;
            k = take ? p + w : k;
            v = bottom[2 * j + 1];
            take = v > m || v != v;
            b[j] = take ? v : m;
            a[j] = take ? p + w + 1 : k;
        }
        detail::copy_first(b, a, n, best + j0, at + j0);
    }
}

}  // namespace

void detail::relu_max_pool_2x2_row(const float* r0, const float* r1, std::uint32_t first,
                                   std::uint32_t w, std::size_t wo, float* best,
                                   std::uint32_t* at) {
    max_pool_2x2_row<true>(r0, r1, first, w, wo, best, at);
}

Tensor max_pool2d(const Tensor& x, std::size_t kernel, std::size_t stride, std::size_t padding) {
    if (x.dim() != 4)
        throw std::invalid_argument("max_pool2d: x must be 4-D [N, C, H, W], but its shape is " +
                                    shape_str(x.shape()));
    if (kernel == 0)
        throw std::invalid_argument("max_pool2d: kernel must be at least 1, but it is 0");
    if (stride == 0)
        throw std::invalid_argument("max_pool2d: stride must be at least 1, but it is 0");
    if (2 * padding > kernel)
        throw std::invalid_argument("max_pool2d: padding " + std::to_string(padding) +
                                    " is more than half the kernel " + std::to_string(kernel) +
                                    " (as torch, a window must not lie mostly in the padding)");
    const Shape sx = x.shape();
    // With padding, the windows run over a copy of x framed by -inf, which never wins.
    const std::size_t h = sx[2] + 2 * padding, w = sx[3] + 2 * padding;
    if (kernel > h || kernel > w)
        throw std::invalid_argument("max_pool2d: the " + std::to_string(kernel) + "x" +
                                    std::to_string(kernel) + " kernel is larger than the input: x is " +
                                    shape_str(sx) + (padding ? " with padding " + std::to_string(padding) : std::string()) +
                                    ", so " + std::to_string(h) + "x" +
                                    std::to_string(w) + "; use a smaller kernel");
    if (h * w > std::numeric_limits<std::uint32_t>::max())
        throw std::invalid_argument("max_pool2d: an input plane of " + std::to_string(h) + "x" +
                                    std::to_string(w) + " is too large (x is " + shape_str(sx) +
                                    "); at most 2^32 elements per plane are supported");

    const std::size_t planes = sx[0] * sx[1], ho = (h - kernel) / stride + 1,
                      wo = (w - kernel) / stride + 1;
    Array y = Array::from_shape({sx[0], sx[1], ho, wo});
    // Where each maximum came from, as an index into its H x W plane: backward is then a
    // scatter-add of dy, with no second pass over the windows. (Filled even when nothing will be
    // recorded: it costs less than a second version of the loop.)
    auto index = std::make_shared<PoolIndex>();
    std::vector<std::uint32_t>& argmax = index->argmax;
    argmax.resize(y.size());

    // One output row at a time: each window position (u, v) is visited for the whole row, in the
    // same order (row by row) for every window, so the loop over j is a branch-free select.
    // Strictly greater keeps the first of equal maxima, and a NaN wins and stays, as in PyTorch.
    // Planes are independent: the threads take contiguous ranges of them (backend/parallel.hpp).
    Array framed;
    if (padding > 0) {
        framed = Array(xt::empty<float>({sx[0], sx[1], h, w}));
        framed.fill(-std::numeric_limits<float>::infinity());
        const float* from = x.value().data();
        for (std::size_t p = 0; p < planes; ++p)
            for (std::size_t r = 0; r < sx[2]; ++r)
                std::copy_n(from + (p * sx[2] + r) * sx[3], sx[3],
                            framed.data() + (p * h + r + padding) * w + padding);
    }
    const float* in = padding > 0 ? framed.data() : x.value().data();
    const std::size_t min_planes = std::max<std::size_t>(1, min_floats_per_thread / (h * w));
    parallel_for(planes, [&](std::size_t plane_begin, std::size_t plane_end, int) {
        for (std::size_t p = plane_begin; p < plane_end; ++p) {
            const float* plane = in + p * h * w;
            for (std::size_t i = 0; i < ho; ++i) {
                float* __restrict best = y.data() + (p * ho + i) * wo;
                std::uint32_t* __restrict at = argmax.data() + (p * ho + i) * wo;
                const std::size_t top = i * stride * w;
                if (kernel == 2 && stride == 2) {
                    max_pool_2x2_row<false>(plane + top, plane + top + w, static_cast<std::uint32_t>(top),
                                     static_cast<std::uint32_t>(w), wo, best, at);
                    continue;
                }
                for (std::size_t j = 0; j < wo; ++j) {
                    best[j] = -std::numeric_limits<float>::infinity();
                    at[j] = static_cast<std::uint32_t>(top + j * stride);
                }
                for (std::size_t u = 0; u < kernel; ++u)
                    for (std::size_t v = 0; v < kernel; ++v) {
                        const std::size_t first = top + u * w + v;
                        const float* __restrict row = plane + first;
                        for (std::size_t j = 0; j < wo; ++j) {
                            const float value = row[j * stride];
                            const bool take = value > best[j] || value != value;
                            best[j] = take ? value : best[j];
                            at[j] = take ? static_cast<std::uint32_t>(first + j * stride) : at[j];
                        }
                    }
            }
        }
    }, min_planes);

    if (padding > 0) {  // positions in the framed plane -> positions in x's plane
        for (std::uint32_t& a : argmax) {
            const std::size_t r = a / w, col = a % w;
            // Only a window of -inf alone can keep a frame cell: it goes to the nearest cell.
            const std::size_t rr = std::min(std::max(r, padding) - padding, sx[2] - 1);
            const std::size_t cc = std::min(std::max(col, padding) - padding, sx[3] - 1);
            a = static_cast<std::uint32_t>(rr * sx[3] + cc);
        }
    }
    index->describe(sx, y, min_planes);
    std::shared_ptr<const PoolIndex> at = std::move(index);
    return record(
        "max_pool2d", {x}, std::move(y),
        [at](const Inputs&, const Tensor&, const Tensor& dy) {
            return Grads{pool_scatter(dy, at)};
        });
}

Tensor relu_max_pool2d(const Tensor& x) {
    const Shape sx = x.shape();
    if (x.dim() != 4 || sx[2] < 2 || sx[3] < 2 ||
        sx[2] * sx[3] > std::numeric_limits<std::uint32_t>::max())
        return max_pool2d(relu(x), 2, 2);  // which says what is wrong, if anything
    const std::size_t h = sx[2], w = sx[3], ho = h / 2, wo = w / 2, planes = sx[0] * sx[1];
    Array y = Array::from_shape({sx[0], sx[1], ho, wo});
    auto index = std::make_shared<PoolIndex>();
    index->argmax.resize(y.size());
    const float* in = x.value().data();
    const std::size_t min_planes = std::max<std::size_t>(1, min_floats_per_thread / (h * w));
    parallel_for(planes, [&](std::size_t begin, std::size_t end, int) {
        for (std::size_t p = begin; p < end; ++p)
            for (std::size_t i = 0; i < ho; ++i)
                max_pool_2x2_row<true>(in + p * h * w + 2 * i * w, in + p * h * w + (2 * i + 1) * w,
                                       static_cast<std::uint32_t>(2 * i * w),
                                       static_cast<std::uint32_t>(w), wo,
                                       y.data() + (p * ho + i) * wo,
                                       index->argmax.data() + (p * ho + i) * wo);
    }, min_planes);
    index->describe(sx, y, min_planes);
    std::shared_ptr<const PoolIndex> at = std::move(index);
    // relu's gradient then max_pool2d's: dy goes to each window's maximum when that maximum is
    // positive (y > 0), else nowhere, exactly as through the two ops.
    // dx = dy scattered to each window's maximum, where that maximum is positive. The fast path
    // masks and scatters in two passes; the tensor form makes the mask, multiplies, then scatters.
    return record(
        "relu_max_pool2d", {x}, std::move(y),
        [at](const Inputs&, const Tensor& y, const Tensor& dy) {
            const Array positive = detail::map(y.value(), [](float v) { return v > 0.0f ? 1.0f : 0.0f; });
            return Grads{pool_scatter(dy * Tensor(positive), at)};
        },
        fast_path([at](const Inputs&, const Tensor& y, const Tensor& dy) {
            return Grads{Tensor(scatter_values(kernels::relu_backward(dy.value(), y.value()), *at))};
        }));
}

namespace {

// avg_pool2d's sizes, checked once.
struct AvgGeometry {
    std::size_t planes, h, w, ho, wo, kernel, stride, pad;
};

// y[p, i, j] = the mean of the window, the padding counted as zeros.
Array avg_values(const Array& x, const AvgGeometry& g) {
    Array y = Array::from_shape({g.planes * g.ho * g.wo});
    const float scale = 1.0f / static_cast<float>(g.kernel * g.kernel);
    const float* in = x.data();
    parallel_for(g.planes, [&](std::size_t begin, std::size_t end, int) {
        for (std::size_t p = begin; p < end; ++p)
            for (std::size_t i = 0; i < g.ho; ++i)
                for (std::size_t j = 0; j < g.wo; ++j) {
                    float total = 0.0f;
                    for (std::size_t u = 0; u < g.kernel; ++u) {
                        const std::size_t r = i * g.stride + u;  // in the padded plane
                        if (r < g.pad || r >= g.h + g.pad) continue;
                        for (std::size_t v = 0; v < g.kernel; ++v) {
                            const std::size_t col = j * g.stride + v;
                            if (col < g.pad || col >= g.w + g.pad) continue;
                            total += in[(p * g.h + r - g.pad) * g.w + col - g.pad];
                        }
                    }
                    y.data()[(p * g.ho + i) * g.wo + j] = total * scale;
                }
    });
    return y;
}

// Its adjoint: each dy[p, i, j] / kernel^2 added to every cell of its window inside x.
Array avg_adjoint(const Array& dy, const AvgGeometry& g) {
    Array dx = xt::zeros<float>({g.planes * g.h * g.w});
    const float scale = 1.0f / static_cast<float>(g.kernel * g.kernel);
    parallel_for(g.planes, [&](std::size_t begin, std::size_t end, int) {
        for (std::size_t p = begin; p < end; ++p)
            for (std::size_t i = 0; i < g.ho; ++i)
                for (std::size_t j = 0; j < g.wo; ++j) {
                    const float share = dy.data()[(p * g.ho + i) * g.wo + j] * scale;
                    for (std::size_t u = 0; u < g.kernel; ++u) {
                        const std::size_t r = i * g.stride + u;
                        if (r < g.pad || r >= g.h + g.pad) continue;
                        for (std::size_t v = 0; v < g.kernel; ++v) {
                            const std::size_t col = j * g.stride + v;
                            if (col < g.pad || col >= g.w + g.pad) continue;
                            dx.data()[(p * g.h + r - g.pad) * g.w + col - g.pad] += share;
                        }
                    }
                }
    });
    return dx;
}

// The pool and its adjoint as ops, each the other's backward (both are linear).
Tensor avg_pool_op(const Tensor& x, const AvgGeometry& g, const Shape& out);
Tensor avg_pool_adjoint(const Tensor& dy, const AvgGeometry& g, const Shape& in) {
    Array dx = avg_adjoint(dy.value(), g);
    dx.reshape(in);
    const Shape out = dy.shape();
    return record(
        "avg_pool2d_backward", {dy}, std::move(dx),
        [g, out](const Inputs&, const Tensor&, const Tensor& gx) {
            return Grads{avg_pool_op(gx, g, out)};
        });
}

Tensor avg_pool_op(const Tensor& x, const AvgGeometry& g, const Shape& out) {
    Array y = avg_values(x.value(), g);
    y.reshape(out);
    const Shape in = x.shape();
    return record(
        "avg_pool2d", {x}, std::move(y),
        [g, in](const Inputs&, const Tensor&, const Tensor& dy) {
            return Grads{avg_pool_adjoint(dy, g, in)};
        });
}

}  // namespace

Tensor avg_pool2d(const Tensor& x, std::size_t kernel, std::size_t stride, std::size_t padding) {
    if (x.dim() != 4)
        throw std::invalid_argument("avg_pool2d: x must be 4-D [N, C, H, W], but its shape is " +
                                    shape_str(x.shape()));
    if (kernel == 0) throw std::invalid_argument("avg_pool2d: kernel must be at least 1, but it is 0");
    if (stride == 0) throw std::invalid_argument("avg_pool2d: stride must be at least 1, but it is 0");
    if (2 * padding > kernel)
        throw std::invalid_argument("avg_pool2d: padding " + std::to_string(padding) +
                                    " is more than half the kernel " + std::to_string(kernel));
    const Shape sx = x.shape();
    const std::size_t hp = sx[2] + 2 * padding, wp = sx[3] + 2 * padding;
    if (kernel > hp || kernel > wp)
        throw std::invalid_argument("avg_pool2d: the " + std::to_string(kernel) + "x" +
                                    std::to_string(kernel) + " kernel is larger than the padded "
                                    "input: x is " + shape_str(sx) + " with padding " +
                                    std::to_string(padding));
    const AvgGeometry g{sx[0] * sx[1], sx[2], sx[3], (hp - kernel) / stride + 1,
                        (wp - kernel) / stride + 1, kernel, stride, padding};
    return avg_pool_op(x, g, {sx[0], sx[1], g.ho, g.wo});
}

}  // namespace tapegrad
