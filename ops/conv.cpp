#include "conv.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../backend/blas.hpp"
#include "../backend/conv_plane.hpp"
#include "../backend/kernels.hpp"
#include "../backend/parallel.hpp"
#include "../backend/small_gemm.hpp"
#include "../core/tape.hpp"
#include "matmul.hpp"
#include "reduce.hpp"

namespace tapegrad {

namespace {

// The outputs j in [lo, hi) of one row whose input index j*s + k - pad lies inside [0, size);
// the others read the zero padding.
struct Span {
    std::size_t lo, hi;
};

Span inside(std::size_t size, std::size_t out, std::size_t s, std::size_t k, std::size_t pad) {
    std::size_t lo = pad > k ? (pad - k + s - 1) / s : 0;           // j*s + k >= pad
    std::size_t hi = size + pad > k ? (size + pad - k + s - 1) / s : 0;  // j*s + k < size + pad
    lo = std::min(lo, out);
    hi = std::max(lo, std::min(hi, out));
    return {lo, hi};
}

// The sizes of one convolution, checked once, shared by the forward pass and the closure.
//
// The work goes image by image: cols [K, Hout*Wout] with K = C*kh*kw rows (c, u, v) holds one
// image's patches, and W [O, K] · cols is that image's output [O, Hout*Wout], already in y's
// layout. One image's cols stays in the core's L2 cache (500 x 196 floats for the tutorial's
// second conv), where one GEMM over the whole batch would stream its cols through memory. The
// threads split the batch
// into contiguous ranges of images (backend/parallel.hpp), each with its own scratch buffer and, in
// backward, its own partial dW, added up in thread order.
//
// Why cols [K, P] rather than [P, K]: im2col then writes, for each (c, u, v), whole rows of Wout
// outputs that read one input row (a contiguous run for stride 1), and the product comes out as
// O contiguous planes.
struct ConvGeometry {
    std::size_t n, c, h, w;  // x
    std::size_t o, kh, kw;   // weight
    std::size_t stride, pad, dilation, groups;
    std::size_t ho, wo;  // y
    std::vector<std::uint32_t> keep;  // column masks of the same-width fast path (see im2col)
    // inside() for each kernel row u and column v, worked out once: im2col and col2im need them
    // for every (image, channel, u, v), and would otherwise divide for each.
    std::vector<Span> row_span, col_span;
    // The per-image products; generated for these exact sizes where tapegrad can
    // (backend/small_gemm.hpp), else on OpenBLAS. dcols takes W transposed, which only pays
    // with a generated kernel: without one, dx goes through sgemm on W as it is.
    // dW goes through its transpose for the same reason: dWt_g = cols_g · dY_gT with dY_g
    // transposed per image (og x P floats, a fraction of cols), where OpenBLAS's dW = dY · colsT
    // packs the whole of cols on every call.
    struct Gemms {
        SmallGemm y;      // y_g [og, P] = W_g [og, kg] · cols_g [kg, P]
        SmallGemm dcols;  // dcols_g [kg, P] = Wt_g [kg, og] · dY_g [og, P]
        SmallGemm dwt;    // dWt_g [kg, og] += cols_g [kg, P] · dYt_g [P, og]
    };
    std::shared_ptr<const Gemms> gemms;
    std::size_t k() const { return c * kh * kw; }  // rows of cols, all groups
    // Group g convolves channels [g*C/G, (g+1)*C/G) into outputs [g*O/G, (g+1)*O/G): its rows
    // of cols, its rows of W and its outputs are consecutive blocks of these sizes.
    std::size_t k_group() const { return k() / groups; }
    std::size_t o_group() const { return o / groups; }
    std::size_t plane() const { return ho * wo; }
};

bool same_width(const ConvGeometry& geo);
std::vector<std::uint32_t> column_masks(const ConvGeometry& geo);

// Checks the arguments of conv2d and works out its sizes.
ConvGeometry geometry_of(const Tensor& x, const Tensor& weight, const Tensor& bias,
                         std::size_t stride, std::size_t pad, std::size_t dilation,
                         std::size_t groups) {
    if (x.dim() != 4)
        throw std::invalid_argument("conv2d: x must be 4-D [N, C, H, W], but its shape is " +
                                    shape_str(x.shape()));
    if (weight.dim() != 4)
        throw std::invalid_argument(
            "conv2d: weight must be 4-D [out_channels, in_channels, kh, kw], but its shape is " +
            shape_str(weight.shape()));
    const Shape sx = x.shape(), sw = weight.shape();
    if (groups == 0) throw std::invalid_argument("conv2d: groups must be at least 1, but it is 0");
    if (sx[1] % groups != 0 || sw[0] % groups != 0)
        throw std::invalid_argument("conv2d: groups = " + std::to_string(groups) +
                                    " must divide both the input channels (" +
                                    std::to_string(sx[1]) + ") and the output channels (" +
                                    std::to_string(sw[0]) + ")");
    if (sx[1] != sw[1] * groups)
        throw std::invalid_argument(
            "conv2d: x has " + std::to_string(sx[1]) + " channels but weight " + shape_str(sw) +
            " expects " + std::to_string(sw[1] * groups) +
            (groups > 1 ? " (" + std::to_string(sw[1]) + " per group times " +
                              std::to_string(groups) + " groups)"
                        : std::string()) +
            " (x is " + shape_str(sx) + ")");
    if (dilation == 0)
        throw std::invalid_argument("conv2d: dilation must be at least 1, but it is 0");
    if (bias.defined() && bias.shape() != Shape{sw[0]})
        throw std::invalid_argument("conv2d: bias must have shape " + shape_str(Shape{sw[0]}) +
                                    ", one value per output channel of weight " + shape_str(sw) +
                                    ", but it is " + shape_str(bias.shape()));
    if (stride == 0)
        throw std::invalid_argument("conv2d: stride must be at least 1, but it is 0");
    if (sw[2] == 0 || sw[3] == 0)
        throw std::invalid_argument("conv2d: weight " + shape_str(sw) +
                                    " has an empty kernel; kh and kw must be at least 1");
    const std::size_t hp = sx[2] + 2 * pad, wp = sx[3] + 2 * pad;
    const std::size_t eh = dilation * (sw[2] - 1) + 1, ew = dilation * (sw[3] - 1) + 1;  // spans
    if (eh > hp || ew > wp)
        throw std::invalid_argument(
            "conv2d: the " + std::to_string(sw[2]) + "x" + std::to_string(sw[3]) +
            " kernel of weight " + shape_str(sw) +
            (dilation > 1 ? " (spanning " + std::to_string(eh) + "x" + std::to_string(ew) +
                                " with dilation " + std::to_string(dilation) + ")"
                          : std::string()) +
            " is larger than the padded input: x is " + shape_str(sx) + " with padding " +
            std::to_string(pad) + ", so " + std::to_string(hp) + "x" + std::to_string(wp) +
            "; use a smaller kernel or more padding");
    ConvGeometry geo{sx[0], sx[1], sx[2], sx[3], sw[0], sw[2], sw[3], stride, pad, dilation,
                     groups, (hp - eh) / stride + 1, (wp - ew) / stride + 1, {}, {}, {}, {}};
    for (std::size_t u = 0; u < geo.kh; ++u)
        geo.row_span.push_back(inside(geo.h, geo.ho, stride, u * dilation, pad));
    for (std::size_t v = 0; v < geo.kw; ++v)
        geo.col_span.push_back(inside(geo.w, geo.wo, stride, v * dilation, pad));
    if (same_width(geo)) geo.keep = column_masks(geo);
    const std::size_t P = geo.plane(), kg = geo.k_group(), og = geo.o_group();
    geo.gemms = std::make_shared<const ConvGeometry::Gemms>(ConvGeometry::Gemms{
        SmallGemm({og, P, kg, kg, P, P, false}), SmallGemm({kg, P, og, og, P, P, false}),
        SmallGemm({kg, og, P, P, og, og, true})});
    return geo;
}

// cols [K, plane] from image n of x [N, C, H, W]. Channel by channel, so the input plane being
// read stays in cache while its kh*kw rows of cols are written. Rows are short (Wout floats), so plain loops the compiler vectorises beat
// a memcpy call per row.
//
// Fast path: with stride 1 and an output as wide as the input (a "same" convolution, such as the
// tutorial's 5x5 with padding 2), input and output rows have the same stride, so the valid part of
// one (c, u, v) block is a single contiguous run of x shifted by v - pad. One long copy, then zeros
// on the few columns that read the padding, replaces a short copy per row.
bool same_width(const ConvGeometry& geo) { return geo.stride == 1 && geo.wo == geo.w; }

// In such a run, the entries that wrapped around from one row's end to the next row's start read
// the padding and must be 0. keep[v][k] is all ones where column k % wo of the run for kernel
// column v reads the row itself and 0 elsewhere; a bitwise and applies it in the same vectorised
// pass as the copy (a fill per row costs more than the copy for rows this short).
std::vector<std::uint32_t> column_masks(const ConvGeometry& geo) {
    std::vector<std::uint32_t> keep(geo.kw * geo.plane());
    for (std::size_t v = 0; v < geo.kw; ++v) {
        const Span cs = geo.col_span[v];
        for (std::size_t k = 0; k < geo.plane(); ++k) {
            const std::size_t j = k % geo.wo;
            keep[v * geo.plane() + k] = j >= cs.lo && j < cs.hi ? 0xFFFFFFFFu : 0u;
        }
    }
    return keep;
}

inline float masked(float value, std::uint32_t mask) {
    std::uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    bits &= mask;
    std::memcpy(&value, &bits, sizeof bits);
    return value;
}

void im2col(const ConvGeometry& geo, const float* x, std::size_t n, float* cols) {
    const std::size_t P = geo.plane(), s = geo.stride, wo = geo.wo, d = geo.dilation;
    for (std::size_t c = 0; c < geo.c; ++c) {
        const float* plane = x + (n * geo.c + c) * geo.h * geo.w;
        for (std::size_t u = 0; u < geo.kh; ++u) {
            const Span rows = geo.row_span[u];
            for (std::size_t v = 0; v < geo.kw; ++v) {
                const Span cs = geo.col_span[v];
                float* out = cols + ((c * geo.kh + u) * geo.kw + v) * P;
                if (same_width(geo) && rows.lo < rows.hi) {
                    // out[i, j] = plane[(i + u*d - pad) * w + j + v*d - pad] for the whole run
                    const std::size_t begin = rows.lo * wo + cs.lo;
                    const std::size_t end = (rows.hi - 1) * wo + cs.hi;
                    const float* __restrict from =
                        plane + ((rows.lo + u * d - geo.pad) * geo.w + cs.lo + v * d - geo.pad);
                    const std::uint32_t* __restrict mask = geo.keep.data() + v * geo.plane();
                    std::fill(out, out + begin, 0.0f);
                    for (std::size_t k = begin; k < end; ++k)
                        out[k] = masked(from[k - begin], mask[k]);
                    std::fill(out + end, out + geo.plane(), 0.0f);
                    continue;
                }
                for (std::size_t i = 0; i < geo.ho; ++i) {
                    float* __restrict row = out + i * wo;
                    if (i < rows.lo || i >= rows.hi) {
                        for (std::size_t j = 0; j < wo; ++j) row[j] = 0.0f;
                        continue;
                    }
                    for (std::size_t j = 0; j < cs.lo; ++j) row[j] = 0.0f;
                    // x[i*s + u*d - pad, j*s + v*d - pad] for j in [lo, hi)
                    const float* __restrict in =
                        plane + (i * s + u * d - geo.pad) * geo.w + (cs.lo * s + v * d - geo.pad);
                    float* __restrict inner = row + cs.lo;
                    const std::size_t len = cs.hi - cs.lo;
                    if (s == 1) {
                        for (std::size_t j = 0; j < len; ++j) inner[j] = in[j];
                    } else {
                        for (std::size_t j = 0; j < len; ++j) inner[j] = in[j * s];
                    }
                    for (std::size_t j = cs.hi; j < wo; ++j) row[j] = 0.0f;
                }
            }
        }
    }
}

// The adjoint of im2col: adds every entry of cols [K, plane] onto the position of image n it was
// copied from (the padding positions are dropped). dx must start at zero.
// With same_width, the valid part is again one contiguous run, with the wrapped entries (which
// belong to padding positions) masked out.
void col2im(const ConvGeometry& geo, const float* cols, std::size_t n, float* dx) {
    const std::size_t P = geo.plane(), s = geo.stride, d = geo.dilation;
    for (std::size_t c = 0; c < geo.c; ++c) {
        float* plane = dx + (n * geo.c + c) * geo.h * geo.w;
        for (std::size_t u = 0; u < geo.kh; ++u) {
            const Span rows = geo.row_span[u];
            for (std::size_t v = 0; v < geo.kw; ++v) {
                const Span cs = geo.col_span[v];
                const float* in = cols + ((c * geo.kh + u) * geo.kw + v) * P;
                if (same_width(geo) && rows.lo < rows.hi) {
                    const std::size_t begin = rows.lo * geo.wo + cs.lo;
                    const std::size_t end = (rows.hi - 1) * geo.wo + cs.hi;
                    const std::uint32_t* __restrict mask = geo.keep.data() + v * geo.plane();
                    float* __restrict to =
                        plane + ((rows.lo + u * d - geo.pad) * geo.w + cs.lo + v * d - geo.pad);
                    for (std::size_t k = begin; k < end; ++k)
                        to[k - begin] += masked(in[k], mask[k]);
                    continue;
                }
                const std::size_t len = cs.hi - cs.lo;
                for (std::size_t i = rows.lo; i < rows.hi; ++i) {
                    const float* __restrict row = in + i * geo.wo + cs.lo;
                    float* __restrict out =
                        plane + (i * s + u * d - geo.pad) * geo.w + (cs.lo * s + v * d - geo.pad);
                    if (s == 1) {
                        for (std::size_t j = 0; j < len; ++j) out[j] += row[j];
                    } else {
                        for (std::size_t j = 0; j < len; ++j) out[j * s] += row[j];
                    }
                }
            }
        }
    }
}

// Scratch memory for one image's cols, reused across calls on this thread (each worker thread
// has its own). A fresh allocation of a large buffer comes straight from mmap, and the first
// touch of every 4 KB page then costs a page fault and a kernel-side clear. The buffer grows to
// the largest size needed and lives as long as the thread.
float* scratch_cols(std::size_t size) {
    struct Buffer {
        std::unique_ptr<float[]> data;
        std::size_t size = 0;
    };
    thread_local Buffer b;
    if (b.size < size) {
        b.data.reset();  // free the old one first: never hold both
        b.data.reset(new float[size]);
        b.size = size;
    }
    return b.data.get();
}

// One-channel images take the direct path of ops/conv_plane.hpp where it applies.
bool direct(const ConvGeometry& geo) {
    return plane_conv_applies(geo.c, geo.groups, geo.stride, geo.dilation, geo.kw);
}

PlaneConv plane_of(const ConvGeometry& geo) {
    return {geo.n, geo.h, geo.w, geo.o, geo.kh, geo.kw, geo.pad};
}

// y [N, O, Hout, Wout]: for each image n, y[n] [O, plane] = W [O, K] · cols [K, plane], + b.
Array conv_values(const ConvGeometry& geo, const Array& x, const Array& w, const float* b) {
    const std::size_t K = geo.k(), plane = geo.plane();
    Array y = Array::from_shape({geo.n, geo.o, geo.ho, geo.wo});
    if (direct(geo)) {
        plane_conv_forward(plane_of(geo), x.data(), w.data(), b, y.data());
        return y;
    }
    parallel_for(geo.n, [&](std::size_t begin, std::size_t end, int) {
        float* cols = scratch_cols(K * plane);
        for (std::size_t n = begin; n < end; ++n) {
            im2col(geo, x.data(), n, cols);
            float* out = y.data() + n * geo.o * plane;
            const std::size_t kg = geo.k_group(), og = geo.o_group();
            for (std::size_t g = 0; g < geo.groups; ++g)
                geo.gemms->y(w.data() + g * og * kg, cols + g * kg * plane, out + g * og * plane);
            if (!b) continue;
            for (std::size_t o = 0; o < geo.o; ++o) {
                float* __restrict channel = out + o * plane;
                for (std::size_t k = 0; k < plane; ++k) channel[k] += b[o];
            }
        }
    });
    return y;
}

// Each group's block of w [O, kg], W_g [og, kg], transposed to [kg, og], one after the other.
std::vector<float> transposed_groups(const ConvGeometry& geo, const Array& w) {
    const std::size_t kg = geo.k_group(), og = geo.o_group();
    std::vector<float> wt(geo.o * kg);
    for (std::size_t g = 0; g < geo.groups; ++g)
        for (std::size_t o = 0; o < og; ++o)
            for (std::size_t k = 0; k < kg; ++k)
                wt[(g * kg + k) * og + o] = w.data()[(g * og + o) * kg + k];
    return wt;
}

// dx [N, C, H, W] of dy [N, O, Hout, Wout]: for each image, dcols [K, plane] = WT [K, O] · dY,
// added onto x's positions (col2im). Each image's dx is zeroed by the thread that fills it, just
// before col2im, while it is in that core's cache (one xt::zeros of the whole dx was a serial
// pass over memory).
// With a generated dcols kernel, wt holds each group's W_g transposed, [kg, og], one after the
// other.
void image_dx(const ConvGeometry& geo, const float* dy, const float* w, const float* wt,
              std::size_t n, float* cols, float* dx) {
    const std::size_t plane = geo.plane(), kg = geo.k_group(), og = geo.o_group();
    for (std::size_t g = 0; g < geo.groups; ++g) {
        const float* dy_g = dy + (n * geo.o + g * og) * plane;
        if (geo.gemms->dcols.generated())
            geo.gemms->dcols(wt + g * kg * og, dy_g, cols + g * kg * plane);
        else
            sgemm(true, false, kg, plane, og, w + g * og * kg, dy_g, cols + g * kg * plane);
    }
    const std::size_t size = geo.c * geo.h * geo.w;
    std::fill(dx + n * size, dx + (n + 1) * size, 0.0f);
    col2im(geo, cols, n, dx);
}

// dW [O, C, kh, kw] = sum over images of dY [O, plane] · colsT [plane, K]. Each thread adds its
// images into its own partial sum; the partial sums are added in thread order.
// With a generated dWt kernel the partial sums are transposed, each group's dWt_g [kg, og] one
// after the other, and dyt is scratch for one group's dY_g transposed, [plane, og].
void image_dw(const ConvGeometry& geo, const float* x, const float* dy, std::size_t n, float* cols,
              float* dyt, Array& dw) {
    const std::size_t plane = geo.plane(), kg = geo.k_group(), og = geo.o_group();
    im2col(geo, x, n, cols);
    for (std::size_t g = 0; g < geo.groups; ++g) {
        const float* dy_g = dy + (n * geo.o + g * og) * plane;
        if (!geo.gemms->dwt.generated()) {
            sgemm(false, true, og, kg, plane, dy_g, cols + g * kg * plane, dw.data() + g * og * kg,
                  1.0f);
            continue;
        }
        for (std::size_t o = 0; o < og; ++o)
            for (std::size_t p = 0; p < plane; ++p) dyt[p * og + o] = dy_g[o * plane + p];
        geo.gemms->dwt(cols + g * kg * plane, dyt, dw.data() + g * kg * og);
    }
}

// dW [O, C/G, kh, kw] from the groups' transposes dWt_g [kg, og] one after the other.
Array untransposed_groups(const ConvGeometry& geo, const Array& dwt) {
    const std::size_t kg = geo.k_group(), og = geo.o_group();
    Array dw = Array::from_shape({geo.o, geo.c / geo.groups, geo.kh, geo.kw});
    for (std::size_t g = 0; g < geo.groups; ++g)
        for (std::size_t o = 0; o < og; ++o)
            for (std::size_t k = 0; k < kg; ++k)
                dw.data()[(g * og + o) * kg + k] = dwt.data()[(g * kg + k) * og + o];
    return dw;
}

// db[o] = sum of dy[n, o, :, :], from the per-image sums sums[n, o] (added in image order, so
// the result does not depend on the thread count).
void image_db(const ConvGeometry& geo, const float* dy, std::size_t n, double* sums) {
    for (std::size_t o = 0; o < geo.o; ++o)
        sums[n * geo.o + o] = detail::row_sum(dy + (n * geo.o + o) * geo.plane(), geo.plane());
}

Array db_of(const ConvGeometry& geo, const std::vector<double>& sums) {
    Array db = Array::from_shape({geo.o});
    for (std::size_t o = 0; o < geo.o; ++o) {
        double total = 0.0;
        for (std::size_t n = 0; n < geo.n; ++n) total += sums[n * geo.o + o];
        db.data()[o] = static_cast<float>(total);
    }
    return db;
}

// conv2d's backward in one pass over the images: each image's dy is read for db, dW and dx while
// it is in cache, and one set of thread wake-ups serves all three. x is read only for dW and w
// only for dx.
struct ConvGrads {
    Array dx, dw, db;
};

ConvGrads conv_grads(const ConvGeometry& geo, const Array& x, const Array& w, const Array& dy,
                     bool want_dx, bool want_dw, bool want_db) {
    ConvGrads out;
    if (want_dw && direct(geo)) {  // dW on its own, the rest below
        out.dw = Array::from_shape({geo.o, geo.c / geo.groups, geo.kh, geo.kw});
        plane_conv_weight_grad(plane_of(geo), x.data(), dy.data(), out.dw.data());
        want_dw = false;
        if (!want_dx && !want_db) return out;
    }
    if (want_dx) out.dx = Array::from_shape({geo.n, geo.c, geo.h, geo.w});
    std::vector<Array> dw_parts;
    if (want_dw)  // (made here, not in the parts: with an empty batch no part runs, and dW is 0)
        dw_parts.assign(static_cast<std::size_t>(parallel_parts(geo.n)),
                        Array(xt::zeros<float>({geo.o, geo.c / geo.groups, geo.kh, geo.kw})));
    std::vector<double> sums(want_db ? geo.n * geo.o : 0);
    std::vector<float> wt;
    if (want_dx && geo.gemms->dcols.generated()) wt = transposed_groups(geo, w);
    const bool dw_transposed = want_dw && geo.gemms->dwt.generated();
    const std::size_t cols_size = geo.k() * geo.plane();
    parallel_for(geo.n, [&](std::size_t begin, std::size_t end, int t) {
        float* cols = scratch_cols(cols_size + (dw_transposed ? geo.plane() * geo.o_group() : 0));
        float* dyt = cols + cols_size;
        for (std::size_t n = begin; n < end; ++n) {
            if (want_db) image_db(geo, dy.data(), n, sums.data());
            if (want_dw)
                image_dw(geo, x.data(), dy.data(), n, cols, dyt,
                         dw_parts[static_cast<std::size_t>(t)]);
            if (want_dx) image_dx(geo, dy.data(), w.data(), wt.data(), n, cols, out.dx.data());
        }
    });
    if (want_dw) {
        for (std::size_t t = 1; t < dw_parts.size(); ++t) dw_parts[0] += dw_parts[t];
        out.dw = dw_transposed ? untransposed_groups(geo, dw_parts[0]) : std::move(dw_parts[0]);
    }
    if (want_db) out.db = db_of(geo, sums);
    return out;
}

Array conv_dx_values(const ConvGeometry& geo, const Array& dy, const Array& w) {
    return conv_grads(geo, Array(), w, dy, true, false, false).dx;
}

Array conv_dw_values(const ConvGeometry& geo, const Array& x, const Array& dy) {
    return conv_grads(geo, x, Array(), dy, false, true, false).dw;
}

using Geometry = std::shared_ptr<const ConvGeometry>;

// conv2d's gradient as two ops of their own, so that it can be differentiated again
// (create_graph). Both are bilinear, and each one's backward is made of conv2d and the other:
//     <g, input_grad(dy, w)> = <conv2d(g, w), dy> = <w, weight_grad(g, dy)>
//     <G, weight_grad(x, dy)> = <conv2d(x, G), dy> = <x, input_grad(dy, G)>
Tensor conv2d_op(const Tensor& x, const Tensor& w, const Tensor& b, Geometry geo);
Tensor conv_weight_grad(const Tensor& x, const Tensor& dy, Geometry geo);

Tensor conv_input_grad(const Tensor& dy, const Tensor& w, Geometry geo) {
    return record(
        "conv2d_input_grad", {dy, w}, conv_dx_values(*geo, dy.value(), w.value()),
        [geo](const Inputs& in, const Tensor&, const Tensor& g) {
            return Grads{in[0].requires_grad() ? conv2d_op(g, in[1], Tensor(), geo) : Tensor(),
                         in[1].requires_grad() ? conv_weight_grad(g, in[0], geo) : Tensor()};
        });
}

Tensor conv_weight_grad(const Tensor& x, const Tensor& dy, Geometry geo) {
    return record(
        "conv2d_weight_grad", {x, dy}, conv_dw_values(*geo, x.value(), dy.value()),
        [geo](const Inputs& in, const Tensor&, const Tensor& g) {
            return Grads{in[0].requires_grad() ? conv_input_grad(in[1], g, geo) : Tensor(),
                         in[1].requires_grad() ? conv2d_op(in[0], g, Tensor(), geo) : Tensor()};
        });
}

// The convolution itself, for a geometry already checked.
Tensor conv2d_op(const Tensor& x, const Tensor& w, const Tensor& b, Geometry geo) {
    Array y = conv_values(*geo, x.value(), w.value(), b.defined() ? b.value().data() : nullptr);
    // The closure keeps x (a handle, no copy) and rebuilds each image's cols for dW rather than
    // keeping them: kept, they would hold kh*kw/stride^2 times the input (39 MB for the
    // tutorial's second conv) from forward to backward, out of cache by then anyway.
    // dx = the transposed convolution of dy with w, dW = dy correlated with x, db = dy summed
    // over images and positions. The fast path makes all three in one pass over the images.
    return record(
        "conv2d", {x, w, b}, std::move(y),
        [geo](const Inputs& in, const Tensor&, const Tensor& dy) {
            Grads d{in[0].requires_grad() ? conv_input_grad(dy, in[1], geo) : Tensor(),
                    in[1].requires_grad() ? conv_weight_grad(in[0], dy, geo) : Tensor()};
            if (in.size() == 3) d.push_back(in[2].requires_grad() ? sum(dy, {0, 2, 3}) : Tensor());
            return d;
        },
        fast_path([geo](const Inputs& in, const Tensor&, const Tensor& dy) {
            const bool want_db = in.size() == 3 && in[2].requires_grad();
            ConvGrads d = conv_grads(*geo, in[0].value(), in[1].value(), dy.value(),
                                     in[0].requires_grad(), in[1].requires_grad(), want_db);
            Grads out{in[0].requires_grad() ? Tensor(std::move(d.dx)) : Tensor(),
                      in[1].requires_grad() ? Tensor(std::move(d.dw)) : Tensor()};
            if (want_db) out.push_back(Tensor(std::move(d.db)));
            return out;
        }));
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::size_t stride,
              std::size_t padding, std::size_t dilation, std::size_t groups) {
    return conv2d_op(x, weight, bias,
                     std::make_shared<const ConvGeometry>(
                         geometry_of(x, weight, bias, stride, padding, dilation, groups)));
}

}  // namespace tapegrad
