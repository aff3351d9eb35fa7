#include "memory.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tapegrad {

bool tune_malloc() {
    const char* mode = std::getenv("TAPEGRAD_MALLOC");
    if (mode && std::strcmp(mode, "keep") == 0) return false;
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return true;
#else
    return false;
#endif
}

}  // namespace tapegrad
