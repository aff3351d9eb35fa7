#include "blas.hpp"

#include <cstdlib>
#include <cstring>
#include <strings.h>
#include <mutex>

#include <cblas.h>

// Present only in OpenBLAS builds with DYNAMIC_ARCH (Debian's is one); weak so that other builds
// still link and simply keep their kernels.
extern "C" {
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));
}

namespace tapegrad {

namespace {

// Kernel families in order of capability, with the OpenBLAS core name that stands for each.
// OpenBLAS's own spelling varies ("Cooperlake", "SkylakeX"), so names compare without case.
int rank_of(const std::string& core) {
    auto is = [&core](const char* name) { return strcasecmp(core.c_str(), name) == 0; };
    for (const char* name : {"SkylakeX", "CooperLake", "SapphireRapids"})
        if (is(name)) return 3;
    for (const char* name : {"Haswell", "Zen"})
        if (is(name)) return 2;
    if (is("SandyBridge")) return 1;
    return 0;
}

std::string best_for_cpu() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512cd"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    if (__builtin_cpu_supports("avx")) return "SandyBridge";
    return "Prescott";
}

std::string chosen_by = "openblas";

}  // namespace

void init_blas() {
    static std::once_flag once;
    std::call_once(once, [] {
        const char* mode_env = std::getenv("TAPEGRAD_BLAS_CORE");
        const std::string mode = mode_env ? mode_env : "auto";
        if (mode == "keep") {
            chosen_by = "openblas (TAPEGRAD_BLAS_CORE=keep)";
            return;
        }
        if (mode == "auto" && std::getenv("OPENBLAS_CORETYPE")) {
            chosen_by = "OPENBLAS_CORETYPE";
            return;
        }
        const std::string current = openblas_get_corename();
        const std::string wanted = mode == "auto" ? best_for_cpu() : mode;
        if (mode == "auto" && rank_of(current) >= rank_of(wanted)) return;
        if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) {
            chosen_by = "openblas (this OpenBLAS cannot switch kernels at run time)";
            return;
        }
        // OpenBLAS reads OPENBLAS_CORETYPE when it (re)initialises its kernel table.
        const char* user = std::getenv("OPENBLAS_CORETYPE");
        const std::string saved = user ? user : "";
        setenv("OPENBLAS_CORETYPE", wanted.c_str(), 1);
        gotoblas_dynamic_quit();
        gotoblas_dynamic_init();
        if (user) setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
        else unsetenv("OPENBLAS_CORETYPE");
        chosen_by = "tapegrad (OpenBLAS had chosen " + current + ")";
    });
}

BlasInfo blas_info() {
    init_blas();
    BlasInfo info;
    info.version = openblas_get_config();
    info.core = openblas_get_corename();
    info.cpu_best = best_for_cpu();
    info.chosen_by = chosen_by;
    info.threads = openblas_get_num_threads();
    return info;
}

std::string to_string(const BlasInfo& info) {
    return info.version + "; kernels " + info.core + " (chosen by " + info.chosen_by +
           "; best for this CPU: " + info.cpu_best + "); " + std::to_string(info.threads) +
           " thread" + (info.threads == 1 ? "" : "s");
}

void set_blas_threads(int threads) { openblas_set_num_threads(threads < 1 ? 1 : threads); }

}  // namespace tapegrad
