#include "conv_plane.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "fast_paths.hpp"
#include "parallel.hpp"

namespace tapegrad {

namespace {
// Starts as TAPEGRAD_FAST_PATHS says (made on first use: a bad value is an error, not a crash).
std::atomic<bool>& plane_on() {
    static std::atomic<bool> on{fast_path_starts_on("plane_conv")};
    return on;
}
constexpr std::size_t max_kw = 7;
}  // namespace

void use_plane_conv(bool on) { plane_on() = on; }

#if defined(__AVX512F__)

bool plane_conv_applies(std::size_t c, std::size_t groups, std::size_t stride,
                        std::size_t dilation, std::size_t kw) {
    return plane_on() && c == 1 && groups == 1 && stride == 1 && dilation == 1 && kw >= 1 &&
           kw <= max_kw;
}

namespace {

constexpr std::size_t lanes = 16;

// The first `count` lanes of a vector (none for count <= 0, all for count >= 16). Masked loads
// read nothing outside their lanes, so a row's last, partial vector never reads past its end.
__mmask16 first_lanes(std::ptrdiff_t count) {
    if (count <= 0) return 0;
    if (count >= static_cast<std::ptrdiff_t>(lanes)) return 0xFFFF;
    return static_cast<__mmask16>((1u << count) - 1);
}

// This thread's buffer of at least `size` floats, kept for the next call.
float* scratch(std::size_t size) {
    thread_local std::vector<float> buffer;
    if (buffer.size() < size) buffer.resize(size);
    return buffer.data();
}

// Image n of x with `pad` zeros around it: xp [H + 2 pad, W + 2 pad].
void pad_image(const PlaneConv& g, const float* x, std::size_t n, float* xp) {
    const std::size_t wp = g.w + 2 * g.pad;
    std::fill(xp, xp + (g.h + 2 * g.pad) * wp, 0.0f);
    const float* image = x + n * g.h * g.w;
    for (std::size_t i = 0; i < g.h; ++i)
        std::copy(image + i * g.w, image + (i + 1) * g.w, xp + (i + g.pad) * wp + g.pad);
}

// Forward: output row i, columns [j0, j0 + 32) (lanes m0, m1), channels [o0, o0 + OB). Each tap
// (a, b) loads the shifted input row once and adds it, times the tap's weight, into the 2 OB
// running sums. wt is the weight as [kh * kw, O].
constexpr int forward_channels = 10;  // 20 sums + 3 operands of AVX-512's 32 registers

template <int OB>
void forward_block(const PlaneConv& g, const float* xp, const float* wt, const float* bias,
                   std::size_t o0, std::size_t i, std::size_t j0, __mmask16 m0, __mmask16 m1,
                   float* y_image) {
    const std::size_t wp = g.w + 2 * g.pad;
    __m512 acc0[OB], acc1[OB];
#pragma GCC unroll 16
    for (int q = 0; q < OB; ++q) acc0[q] = acc1[q] = _mm512_set1_ps(bias ? bias[o0 + q] : 0.0f);
    for (std::size_t a = 0; a < g.kh; ++a)
        for (std::size_t b = 0; b < g.kw; ++b) {
            const float* src = xp + (i + a) * wp + j0 + b;
            const __m512 x0 = _mm512_maskz_loadu_ps(m0, src);
            const __m512 x1 = _mm512_maskz_loadu_ps(m1, src + lanes);
            const float* tap = wt + (a * g.kw + b) * g.o + o0;
#pragma GCC unroll 16
            for (int q = 0; q < OB; ++q) {
                const __m512 wq = _mm512_set1_ps(tap[q]);
                acc0[q] = _mm512_fmadd_ps(wq, x0, acc0[q]);
                acc1[q] = _mm512_fmadd_ps(wq, x1, acc1[q]);
            }
        }
    const std::size_t plane = g.ho() * g.wo();
#pragma GCC unroll 16
    for (int q = 0; q < OB; ++q) {
        float* out = y_image + (o0 + q) * plane + i * g.wo() + j0;
        _mm512_mask_storeu_ps(out, m0, acc0[q]);
        _mm512_mask_storeu_ps(out + lanes, m1, acc1[q]);
    }
}

// forward_block for the `count` channels left (count <= OB), with a compile-time count.
template <int OB>
void forward_channels_left(int count, const PlaneConv& g, const float* xp, const float* wt,
                           const float* bias, std::size_t o0, std::size_t i, std::size_t j0,
                           __mmask16 m0, __mmask16 m1, float* y_image) {
    if constexpr (OB > 1)
        if (count < OB)
            return forward_channels_left<OB - 1>(count, g, xp, wt, bias, o0, i, j0, m0, m1,
                                                 y_image);
    forward_block<OB>(g, xp, wt, bias, o0, i, j0, m0, m1, y_image);
}

// Weight gradient: for channels [o0, o0 + OB) and kernel row a, the partial sums of
// dW[o, a, 0 .. KW) over one image, lane by lane (lane l sums the output columns j0 + l).
// part holds them across the images of a thread: [O, kh, kw] vectors of 16.
constexpr int dw_channels(int kw) { return kw == 1 ? 12 : kw == 2 ? 8 : 24 / (kw + 1); }

template <int OB, int KW>
void weight_grad_block(const PlaneConv& g, const float* xp, const float* dy_image,
                       std::size_t o0, std::size_t a, float* part) {
    const std::size_t wp = g.w + 2 * g.pad, wo = g.wo(), plane = g.ho() * wo;
    __m512 acc[OB][KW];
    float* first = part + (o0 * g.kh + a) * KW * lanes;  // (o0, a, 0); channel q is kh rows on
#pragma GCC unroll 16
    for (int q = 0; q < OB; ++q)
#pragma GCC unroll 8
        for (int b = 0; b < KW; ++b)
            acc[q][b] = _mm512_loadu_ps(first + (q * g.kh * KW + b) * lanes);
    for (std::size_t i = 0; i < g.ho(); ++i)
        for (std::size_t j0 = 0; j0 < wo; j0 += lanes) {
            const __mmask16 m = first_lanes(static_cast<std::ptrdiff_t>(wo - j0));
            __m512 d[OB];
#pragma GCC unroll 16
            for (int q = 0; q < OB; ++q)
                d[q] = _mm512_maskz_loadu_ps(m, dy_image + (o0 + q) * plane + i * wo + j0);
            const float* src = xp + (i + a) * wp + j0;
#pragma GCC unroll 8
            for (int b = 0; b < KW; ++b) {
                const __m512 xv = _mm512_maskz_loadu_ps(m, src + b);
#pragma GCC unroll 16
                for (int q = 0; q < OB; ++q) acc[q][b] = _mm512_fmadd_ps(d[q], xv, acc[q][b]);
            }
        }
#pragma GCC unroll 16
    for (int q = 0; q < OB; ++q)
#pragma GCC unroll 8
        for (int b = 0; b < KW; ++b)
            _mm512_storeu_ps(first + (q * g.kh * KW + b) * lanes, acc[q][b]);
}

template <int KW, int OB>
void weight_grad_channels_left(int count, const PlaneConv& g, const float* xp,
                               const float* dy_image, std::size_t o0, std::size_t a, float* part) {
    if constexpr (OB > 1)
        if (count < OB)
            return weight_grad_channels_left<KW, OB - 1>(count, g, xp, dy_image, o0, a, part);
    weight_grad_block<OB, KW>(g, xp, dy_image, o0, a, part);
}

template <int KW>
void weight_grad_image(const PlaneConv& g, const float* xp, const float* dy_image, float* part) {
    constexpr int ob = dw_channels(KW);
    for (std::size_t o0 = 0; o0 < g.o; o0 += ob) {
        const int count = static_cast<int>(std::min<std::size_t>(ob, g.o - o0));
        for (std::size_t a = 0; a < g.kh; ++a)
            weight_grad_channels_left<KW, ob>(count, g, xp, dy_image, o0, a, part);
    }
}

}  // namespace

void plane_conv_forward(const PlaneConv& g, const float* x, const float* w, const float* bias,
                        float* y) {
    const std::size_t taps = g.kh * g.kw, ho = g.ho(), wo = g.wo();
    std::vector<float> wt(taps * g.o);  // [kh * kw, O]: a tap's weights for all channels together
    for (std::size_t o = 0; o < g.o; ++o)
        for (std::size_t t = 0; t < taps; ++t) wt[t * g.o + o] = w[o * taps + t];
    parallel_for(g.n, [&](std::size_t begin, std::size_t end, int) {
        float* xp = scratch((g.h + 2 * g.pad) * (g.w + 2 * g.pad));
        for (std::size_t n = begin; n < end; ++n) {
            pad_image(g, x, n, xp);
            float* y_image = y + n * g.o * ho * wo;
            for (std::size_t i = 0; i < ho; ++i)
                for (std::size_t j0 = 0; j0 < wo; j0 += 2 * lanes) {
                    const auto left = static_cast<std::ptrdiff_t>(wo - j0);
                    const __mmask16 m0 = first_lanes(left), m1 = first_lanes(left - 16);
                    for (std::size_t o0 = 0; o0 < g.o; o0 += forward_channels) {
                        const int count =
                            static_cast<int>(std::min<std::size_t>(forward_channels, g.o - o0));
                        forward_channels_left<forward_channels>(count, g, xp, wt.data(), bias,
                                                                o0, i, j0, m0, m1, y_image);
                    }
                }
        }
    });
}

void plane_conv_weight_grad(const PlaneConv& g, const float* x, const float* dy, float* dw) {
    const std::size_t weights = g.o * g.kh * g.kw, plane = g.ho() * g.wo();
    const auto parts = static_cast<std::size_t>(parallel_parts(g.n));
    // Each thread's partial sums for its images, added in thread order at the end.
    std::vector<float> partial(parts * weights * lanes, 0.0f);
    parallel_for(g.n, [&](std::size_t begin, std::size_t end, int t) {
        float* xp = scratch((g.h + 2 * g.pad) * (g.w + 2 * g.pad));
        float* part = partial.data() + static_cast<std::size_t>(t) * weights * lanes;
        for (std::size_t n = begin; n < end; ++n) {
            pad_image(g, x, n, xp);
            const float* dy_image = dy + n * g.o * plane;
            switch (g.kw) {
                case 1: weight_grad_image<1>(g, xp, dy_image, part); break;
                case 2: weight_grad_image<2>(g, xp, dy_image, part); break;
                case 3: weight_grad_image<3>(g, xp, dy_image, part); break;
                case 4: weight_grad_image<4>(g, xp, dy_image, part); break;
                case 5: weight_grad_image<5>(g, xp, dy_image, part); break;
                case 6: weight_grad_image<6>(g, xp, dy_image, part); break;
                case 7: weight_grad_image<7>(g, xp, dy_image, part); break;
                default: throw std::logic_error("plane_conv_weight_grad: kernel width above 7");
            }
        }
    });
    for (std::size_t k = 0; k < weights; ++k) {
        __m512 sum = _mm512_loadu_ps(partial.data() + k * lanes);
        for (std::size_t t = 1; t < parts; ++t)
            sum = _mm512_add_ps(sum, _mm512_loadu_ps(partial.data() + (t * weights + k) * lanes));
        float lane[lanes];  // (not _mm512_reduce_add_ps, which GCC 12 warns about)
        _mm512_storeu_ps(lane, sum);
        float total = 0.0f;
        for (float v : lane) total += v;
        dw[k] = total;
    }
}

#else  // no AVX-512: conv2d keeps its im2col path

bool plane_conv_applies(std::size_t, std::size_t, std::size_t, std::size_t, std::size_t) {
    return false;
}

void plane_conv_forward(const PlaneConv&, const float*, const float*, const float*, float*) {
    throw std::logic_error("plane_conv_forward: this build has no AVX-512 (plane_conv_applies)");
}

void plane_conv_weight_grad(const PlaneConv&, const float*, const float*, float*) {
    throw std::logic_error("plane_conv_weight_grad: this build has no AVX-512 (plane_conv_applies)");
}

#endif

}  // namespace tapegrad
