// Which of tapegrad's own fast paths start switched on, from the environment.
//
// Three shapes of work run on tapegrad's own kernels rather than OpenBLAS's or im2col's: the
// convolution's products on libxsmm's generated kernels ("xsmm", small_gemm.hpp), products with
// few output columns ("narrow_gemm", narrow_gemm.hpp) and one-channel convolutions computed
// directly ("plane_conv", conv_plane.hpp); and backward() runs some ops' derivatives on arrays
// ("derivatives", core/sweep.hpp). Each has a switch that tests flip to compare it with the
// reference path; TAPEGRAD_FAST_PATHS sets where the switches start, so that a whole run (the
// suite, a benchmark) can be made on the reference paths alone:
//     TAPEGRAD_FAST_PATHS=all            (or unset) every fast path on
//     TAPEGRAD_FAST_PATHS=none           every product on OpenBLAS, every convolution by im2col,
//                                        every derivative in its tensor form
//     TAPEGRAD_FAST_PATHS=xsmm,narrow_gemm   only those on
#pragma once

namespace tapegrad {

// Whether the fast path `name` (one of the names above) starts switched on. Reads the
// environment on every call; an unknown name in the variable is a std::invalid_argument that
// names it and lists the known ones.
bool fast_path_starts_on(const char* name);

}  // namespace tapegrad
