#include "conv.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include <cblas.h>

#include "../core/blas.hpp"
#include "../core/tape.hpp"

namespace tapegrad {

namespace {

// The sizes of one convolution, checked once, shared by the forward pass and the closure.
//
// Layout of the im2col buffer: cols [K, P] with K = C*kh*kw rows (c, u, v) and P = N*Hout*Wout
// columns (n, i, j). We chose it over the transposed [P, K] because
//  - im2col then writes, for each (c, u, v) and image n, whole rows of Wout outputs that read one
//    input row: a contiguous copy for stride 1, otherwise a strided one;
//  - the product W · cols is [O, N*Hout*Wout], so turning it into y [N, O, Hout, Wout] moves N*O
//    contiguous blocks of Hout*Wout floats (with the bias added on the way), where [P, K] would
//    give [N*Hout*Wout, O] and need an element-by-element transpose.
struct Conv {
    std::size_t n, c, h, w;  // x
    std::size_t o, kh, kw;   // weight
    std::size_t stride, pad;
    std::size_t ho, wo;  // y
    std::size_t k() const { return c * kh * kw; }
    std::size_t plane() const { return ho * wo; }
    std::size_t p() const { return n * ho * wo; }
};

Conv check(const Tensor& x, const Tensor& weight, const Tensor& bias, std::size_t stride,
           std::size_t pad) {
    if (x.dim() != 4)
        throw std::invalid_argument("conv2d: x must be 4-D [N, C, H, W], but its shape is " +
                                    shape_str(x.shape()));
    if (weight.dim() != 4)
        throw std::invalid_argument(
            "conv2d: weight must be 4-D [out_channels, in_channels, kh, kw], but its shape is " +
            shape_str(weight.shape()));
    const Shape sx = x.shape(), sw = weight.shape();
    if (sx[1] != sw[1])
        throw std::invalid_argument("conv2d: x has " + std::to_string(sx[1]) +
                                    " channels but weight " + shape_str(sw) + " expects " +
                                    std::to_string(sw[1]) + " (x is " + shape_str(sx) + ")");
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
    if (sw[2] > hp || sw[3] > wp)
        throw std::invalid_argument(
            "conv2d: the " + std::to_string(sw[2]) + "x" + std::to_string(sw[3]) +
            " kernel of weight " + shape_str(sw) + " is larger than the padded input: x is " +
            shape_str(sx) + " with padding " + std::to_string(pad) + ", so " + std::to_string(hp) +
            "x" + std::to_string(wp) + "; use a smaller kernel or more padding");
    return Conv{sx[0], sx[1], sx[2], sx[3], sw[0], sw[2], sw[3], stride, pad,
                (hp - sw[2]) / stride + 1, (wp - sw[3]) / stride + 1};
}

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

// cols [K, P] from x [N, C, H, W]. Image by image and channel by channel, so the input plane being
// read stays in cache while its kh*kw rows of cols are written. Rows are short (Wout floats), so
// plain loops the compiler vectorises beat a memcpy call per row.
void im2col(const Conv& g, const float* x, float* cols) {
    const std::size_t P = g.p(), s = g.stride, wo = g.wo;
    for (std::size_t n = 0; n < g.n; ++n)
        for (std::size_t c = 0; c < g.c; ++c) {
            const float* plane = x + (n * g.c + c) * g.h * g.w;
            for (std::size_t u = 0; u < g.kh; ++u) {
                const Span rows = inside(g.h, g.ho, s, u, g.pad);
                for (std::size_t v = 0; v < g.kw; ++v) {
                    const Span cs = inside(g.w, wo, s, v, g.pad);
                    float* out = cols + ((c * g.kh + u) * g.kw + v) * P + n * g.plane();
                    for (std::size_t i = 0; i < g.ho; ++i) {
                        float* __restrict row = out + i * wo;
                        if (i < rows.lo || i >= rows.hi) {
                            for (std::size_t j = 0; j < wo; ++j) row[j] = 0.0f;
                            continue;
                        }
                        for (std::size_t j = 0; j < cs.lo; ++j) row[j] = 0.0f;
                        // x[i*s + u - pad, j*s + v - pad] for j in [lo, hi)
                        const float* __restrict in =
                            plane + (i * s + u - g.pad) * g.w + (cs.lo * s + v - g.pad);
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

// The adjoint of im2col: adds every entry of cols [K, P] onto the x position it was copied from
// (the padding positions are dropped). dx [N, C, H, W] must start at zero.
void col2im(const Conv& g, const float* cols, float* dx) {
    const std::size_t P = g.p(), s = g.stride;
    for (std::size_t n = 0; n < g.n; ++n)
        for (std::size_t c = 0; c < g.c; ++c) {
            float* plane = dx + (n * g.c + c) * g.h * g.w;
            for (std::size_t u = 0; u < g.kh; ++u) {
                const Span rows = inside(g.h, g.ho, s, u, g.pad);
                for (std::size_t v = 0; v < g.kw; ++v) {
                    const Span cs = inside(g.w, g.wo, s, v, g.pad);
                    const float* in = cols + ((c * g.kh + u) * g.kw + v) * P + n * g.plane();
                    const std::size_t len = cs.hi - cs.lo;
                    for (std::size_t i = rows.lo; i < rows.hi; ++i) {
                        const float* __restrict row = in + i * g.wo + cs.lo;
                        float* __restrict out =
                            plane + (i * s + u - g.pad) * g.w + (cs.lo * s + v - g.pad);
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

// Scratch memory for the matrices that live only during one call, reused across calls on this
// thread. They are large (for the tutorial's second conv, cols is 500 x 19,600 floats, 39 MB), and
// a fresh allocation of that size comes straight from mmap: the first touch of every 4 KB page
// then costs a page fault and a kernel-side clear, which we measured to cost more than the im2col
// pass itself. Each buffer grows to the largest size needed and lives as long as the thread.
enum Slot { cols_slot, dcols_slot, product_slot, slot_count };

float* scratch(Slot slot, std::size_t size) {
    struct Buffer {
        std::unique_ptr<float[]> data;
        std::size_t size = 0;
    };
    thread_local Buffer buffers[slot_count];
    Buffer& b = buffers[slot];
    if (b.size < size) {
        b.data.reset();  // free the old one first: never hold both
        b.data.reset(new float[size]);
        b.size = size;
    }
    return b.data.get();
}

// sum of row[0, n), with eight float partial sums the compiler keeps in one vector register
// (a single running sum is a chain of dependent adds it may not reorder), combined in double.
double row_sum(const float* row, std::size_t n) {
    float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (std::size_t l = 0; l < 8; ++l) part[l] += row[k + l];
    double total = 0.0;
    for (std::size_t l = 0; l < 8; ++l) total += part[l];
    for (; k < n; ++k) total += row[k];
    return total;
}

// c [m, n] = op(a) · op(b) on row-major raw buffers; op(a) is [m, k], op(b) is [k, n].
void sgemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k,
           const float* a, const float* b, float* c) {
    if (m == 0 || n == 0) return;
    init_blas();  // the kernels this CPU supports, as for every GEMM in tapegrad (core/blas.hpp)
    if (k == 0) {  // BLAS rejects a leading dimension of 0; the empty sum is 0
        std::fill(c, c + m * n, 0.0f);
        return;
    }
    cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
                transpose_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(m),
                static_cast<blasint>(n), static_cast<blasint>(k), 1.0f, a,
                static_cast<blasint>(transpose_a ? m : k), b,
                static_cast<blasint>(transpose_b ? k : n), 0.0f, c, static_cast<blasint>(n));
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::size_t stride,
              std::size_t padding) {
    const Conv g = check(x, weight, bias, stride, padding);
    const std::size_t K = g.k(), P = g.p(), plane = g.plane();

    // Y [O, P] = W [O, K] · cols [K, P]
    float* cols = scratch(cols_slot, K * P);
    im2col(g, x.value().data(), cols);
    float* yc = scratch(product_slot, g.o * P);
    sgemm(false, false, g.o, P, K, weight.value().data(), cols, yc);

    // y [N, O, Hout, Wout]: block (n, o) is columns n*plane .. (n+1)*plane of row o of Y, + b[o]
    Array y = Array::from_shape({g.n, g.o, g.ho, g.wo});
    const float* b = bias.defined() ? bias.value().data() : nullptr;
    for (std::size_t n = 0; n < g.n; ++n)
        for (std::size_t o = 0; o < g.o; ++o) {
            const float* __restrict in = yc + o * P + n * plane;
            float* __restrict out = y.data() + (n * g.o + o) * plane;
            const float add = b ? b[o] : 0.0f;
            for (std::size_t k = 0; k < plane; ++k) out[k] = in[k] + add;
        }

    // The closure keeps x (a handle, no copy) and rebuilds cols for dW rather than keeping it.
    // Keeping it would hold K*P floats per conv (about kh*kw/stride^2 times the input: 39 MB for
    // the tutorial's second conv) from forward to backward, in memory freshly allocated every
    // step; the page faults of that allocation cost more than a second im2col pass into the
    // reused scratch buffer (we measured the tutorial's two convs forward and backward ~10%
    // slower when keeping it), and recomputing also lowers the peak memory of a training step.
    return record(
        "conv2d", {x, weight, bias}, std::move(y),
        [x, weight, bias, g](const Array& dy, const Array&) {
            const std::size_t K = g.k(), P = g.p(), plane = g.plane();
            if (bias.defined() && bias.requires_grad()) {  // db[o] = sum of dy[n, o, :, :]
                Array db = Array::from_shape({g.o});
                for (std::size_t o = 0; o < g.o; ++o) {
                    double total = 0.0;
                    for (std::size_t n = 0; n < g.n; ++n)
                        total += row_sum(dy.data() + (n * g.o + o) * plane, plane);
                    db.data()[o] = static_cast<float>(total);
                }
                bias.accumulate_grad(std::move(db));
            }
            const bool need_dw = weight.requires_grad(), need_dx = x.requires_grad();
            if (!need_dw && !need_dx) return;

            // dY [O, P]: dy [N, O, Hout, Wout] with the N and O axes swapped, as Y was.
            float* dyc = scratch(product_slot, g.o * P);
            for (std::size_t n = 0; n < g.n; ++n)
                for (std::size_t o = 0; o < g.o; ++o)
                    std::memcpy(dyc + o * P + n * plane, dy.data() + (n * g.o + o) * plane,
                                plane * sizeof(float));
            if (need_dw) {  // dW [O, K] = dY [O, P] · colsT [P, K]
                float* cols = scratch(cols_slot, K * P);
                im2col(g, x.value().data(), cols);
                Array dw = Array::from_shape(weight.shape());
                sgemm(false, true, g.o, K, P, dyc, cols, dw.data());
                weight.accumulate_grad(std::move(dw));
            }
            if (need_dx) {  // dcols [K, P] = WT [K, O] · dY [O, P], then back onto x's positions
                float* dcols = scratch(dcols_slot, K * P);
                sgemm(true, false, K, P, g.o, weight.value().data(), dyc, dcols);
                Array dx = xt::zeros<float>(x.shape());
                col2im(g, dcols, dx.data());
                x.accumulate_grad(std::move(dx));
            }
        });
}

}  // namespace tapegrad
