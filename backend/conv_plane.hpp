// The convolution of one-channel images, computed directly: the first layer of an MNIST model.
//
// conv2d (ops/conv.hpp) turns each image into cols [C*kh*kw, Hout*Wout] and multiplies. With a
// single input channel that product has only kh*kw rows (25 for a 5x5 kernel) and a handful of
// output channels, and copying the image 25 times into cols, then OpenBLAS packing it again,
// costs more than the arithmetic. Here each output row is computed straight from the (padded)
// image: for every tap (u, v) of the kernel, the input row shifted by v is loaded once into SIMD
// registers and multiplied into the running sums of several output channels at once. The weight
// gradient runs the same loops the other way round: dW[o, u, v] sums dy[o] times the shifted
// image, in per-lane partial sums kept across the batch and added across lanes once at the end.
//
// It takes stride 1, dilation 1, one group, and a kernel 1 to 7 wide, on CPUs with AVX-512;
// conv2d uses the im2col path for everything else, and the tests compare the two.
#pragma once

#include <cstddef>

namespace tapegrad {

struct PlaneConv {
    std::size_t n, h, w;   // x [N, 1, H, W]
    std::size_t o, kh, kw;  // weight [O, 1, kh, kw]
    std::size_t pad;
    std::size_t ho() const { return h + 2 * pad - kh + 1; }
    std::size_t wo() const { return w + 2 * pad - kw + 1; }
};

// Whether this build and CPU run the direct path, and it is switched on (tests switch it off to
// compare with im2col); whether a convolution of these sizes takes it.
void use_plane_conv(bool on);
bool plane_conv_applies(std::size_t c, std::size_t groups, std::size_t stride,
                        std::size_t dilation, std::size_t kw);

// y [N, O, Hout, Wout] = conv(x, w) (+ bias[o] on channel o when bias is not null).
void plane_conv_forward(const PlaneConv& g, const float* x, const float* w, const float* bias,
                        float* y);

// dw [O, 1, kh, kw] = the sum over the batch of the correlation of dy [N, O, Hout, Wout] with x.
void plane_conv_weight_grad(const PlaneConv& g, const float* x, const float* dy, float* dw);

}  // namespace tapegrad
