#include "fast_paths.hpp"

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tapegrad {

namespace {
constexpr const char* known[] = {"xsmm", "narrow_gemm", "plane_conv", "derivatives"};

bool is_known(const std::string& name) {
    for (const char* k : known)
        if (name == k) return true;
    return false;
}
}  // namespace

bool fast_path_starts_on(const char* name) {
    const char* env = std::getenv("TAPEGRAD_FAST_PATHS");
    if (!env || !*env || std::strcmp(env, "all") == 0) return true;
    if (std::strcmp(env, "none") == 0) return false;
    bool listed = false;
    std::stringstream items(env);
    for (std::string item; std::getline(items, item, ',');) {
        if (!is_known(item))
            throw std::invalid_argument(
                "TAPEGRAD_FAST_PATHS: unknown fast path '" + item +
                "'; say all, none, or a comma-separated list of xsmm, narrow_gemm, plane_conv, "
                "derivatives");
        listed = listed || item == name;
    }
    return listed;
}

}  // namespace tapegrad
