// Products generated for one exact shape: the convolution's per-image GEMMs.
//
// A convolution multiplies, image by image, matrices with only a few rows (its output channels).
// OpenBLAS copies ("packs") both operands into its own layout on every call, and at these sizes
// that copying costs as much as the arithmetic. libxsmm instead generates machine code for the
// exact sizes and strides at run time and reads the operands where they are. When tapegrad is
// built with libxsmm (the CMake option TAPEGRAD_XSMM) and the CPU is one libxsmm generates code
// for, a SmallGemm runs such a kernel; otherwise it calls OpenBLAS, with the same results up to
// rounding.
//
// All matrices are row-major and untransposed: C [m, n] = A [m, k] · B [k, n] (+ C when
// accumulate), with leading dimensions lda, ldb, ldc. Callers arrange their operands so (for dx
// the convolution hands each group's weight over transposed, made once per backward).
#pragma once

#include <cstddef>

namespace tapegrad {

struct GemmShape {
    std::size_t m, n, k;
    std::size_t lda, ldb, ldc;
    bool accumulate;  // C += A·B rather than C = A·B
};

class SmallGemm {
  public:
    explicit SmallGemm(const GemmShape& shape);
    void operator()(const float* a, const float* b, float* c) const;
    bool generated() const { return kernel_ != nullptr; }  // false: OpenBLAS runs it

  private:
    using Kernel = void (*)(const float*, const float*, float*, ...);  // libxsmm's signature
    GemmShape shape_;
    Kernel kernel_ = nullptr;
};

// Whether SmallGemm may use generated kernels: true by default when tapegrad was built with
// libxsmm. Tests turn it off to compare the fast path with OpenBLAS's; it applies to SmallGemms
// made afterwards. A caller that arranges operands in a layout only a generated kernel wants
// (the convolution's transposed weight) asks SmallGemm::generated() and otherwise takes its
// plain OpenBLAS path.
void use_generated_gemm(bool on);
bool small_gemm_generated();  // built with libxsmm, switched on, and the CPU is supported
bool small_gemm_available();  // built with libxsmm and the CPU is supported

}  // namespace tapegrad
