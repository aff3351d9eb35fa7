// OpenBLAS set-up: the kernels it runs and how many threads it uses.
//
// Debian's OpenBLAS picks its kernels at load time from the CPU model. It does not know every
// model, and on one it does not know it falls back to generic SSE3 ("Prescott") kernels: sgemm
// then runs at a fifth of the speed the CPU can reach. Before its first product tapegrad checks
// what the CPU supports (AVX-512, AVX2, AVX) and, if OpenBLAS chose weaker kernels, switches it
// to the matching ones. Environment:
//   OPENBLAS_CORETYPE=NAME   your choice for OpenBLAS; tapegrad then leaves it alone
//   TAPEGRAD_BLAS_CORE=auto  the default: upgrade OpenBLAS's choice when the CPU can do better
//   TAPEGRAD_BLAS_CORE=keep  leave OpenBLAS's own choice
//   TAPEGRAD_BLAS_CORE=NAME  switch to these kernels (an OpenBLAS core name, e.g. Haswell)
#pragma once

#include <string>

namespace tapegrad {

struct BlasInfo {
    std::string version;   // "OpenBLAS 0.3.21 DYNAMIC_ARCH ..." (openblas_get_config)
    std::string core;      // the kernels in use, e.g. "SkylakeX"
    std::string cpu_best;  // the best kernels this CPU supports, e.g. "SkylakeX"
    std::string chosen_by; // "openblas", "tapegrad (was Prescott)", "OPENBLAS_CORETYPE", "keep"
    int threads = 1;
};

// Runs the check above once (thread-safe); every GEMM in tapegrad calls it first.
void init_blas();

BlasInfo blas_info();
std::string to_string(const BlasInfo& info);  // one line, for --verbose and the benchmark

// OpenBLAS's thread count (it defaults to the number of cores).
void set_blas_threads(int threads);

}  // namespace tapegrad
