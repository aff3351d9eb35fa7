#include <cstdlib>

#include "helpers.hpp"

using namespace tapegrad;

// CTest starts this program with OPENBLAS_CORETYPE=Prescott, so OpenBLAS loads its generic
// kernels, as it does on a CPU model it does not know. With the variable gone before the first
// product, tapegrad must notice and switch to the best kernels the CPU supports.
TEST_CASE("generic OpenBLAS kernels are upgraded to what the CPU supports") {
    const char* preset = std::getenv("OPENBLAS_CORETYPE");
    unsetenv("OPENBLAS_CORETYPE");
    Tensor a(Array{{1.0f, 2.0f}, {3.0f, 4.0f}}), b(Array{{5.0f, 1.0f}, {6.0f, 0.0f}});
    CHECK(matmul(a, b).value() == Array{{17.0f, 1.0f}, {39.0f, 3.0f}});
    const BlasInfo info = blas_info();
    MESSAGE(to_string(info));
    if (preset && std::string(preset) == "Prescott" && info.cpu_best != "Prescott") {
        CHECK(info.core == info.cpu_best);
        CHECK(info.chosen_by.find("tapegrad") != std::string::npos);
    }
    CHECK(info.threads >= 1);
}
