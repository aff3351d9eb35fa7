#include "clip.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace tapegrad::optim {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type,
                      bool error_if_nonfinite) {
    if (!(max_norm >= 0.0))
        throw std::invalid_argument("clip_grad_norm: max_norm must not be negative, but it is " +
                                    std::to_string(max_norm));
    if (!(norm_type > 0.0))
        throw std::invalid_argument("clip_grad_norm: norm_type must be positive (or infinity), "
                                    "but it is " + std::to_string(norm_type));
    const bool max_norm_type = std::isinf(norm_type);
    double total = 0.0;
    for (const Tensor& p : params) {
        if (!p.has_grad()) continue;
        // Through the raw values (an xarray's iterator steps a multi-index per element); the
        // common 2-norm in 8 double lanes, so the loop vectorises.
        const float* g = p.grad().data();
        const std::size_t n = p.grad().size();
        if (max_norm_type) {
            for (std::size_t k = 0; k < n; ++k) {
                const double a = std::abs(static_cast<double>(g[k]));
                total = std::isnan(a) ? a : std::max(total, a);
            }
        } else if (norm_type == 2.0) {
            double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            std::size_t k = 0;
            for (; k + 8 <= n; k += 8)
                for (std::size_t l = 0; l < 8; ++l) {
                    const double a = static_cast<double>(g[k + l]);
                    part[l] += a * a;
                }
            for (; k < n; ++k) total += static_cast<double>(g[k]) * static_cast<double>(g[k]);
            for (double q : part) total += q;
        } else {
            for (std::size_t k = 0; k < n; ++k)
                total += std::pow(std::abs(static_cast<double>(g[k])), norm_type);
        }
    }
    if (!max_norm_type) total = std::pow(total, 1.0 / norm_type);
    if (!std::isfinite(total)) {
        if (error_if_nonfinite)
            throw std::invalid_argument("clip_grad_norm: the total norm of order " +
                                        std::to_string(norm_type) + " of the gradients is " +
                                        std::to_string(total) +
                                        "; pass error_if_nonfinite = false to clip anyway");
    }
    const double coefficient = std::min(1.0, max_norm / (total + 1e-6));
    if (coefficient < 1.0 || std::isnan(coefficient))
        for (const Tensor& p : params)
            if (p.has_grad()) p.mutable_grad() *= static_cast<float>(coefficient);
    return total;
}

void clip_grad_value(const std::vector<Tensor>& params, double clip) {
    if (!(clip >= 0.0))
        throw std::invalid_argument("clip_grad_value: clip must not be negative, but it is " +
                                    std::to_string(clip));
    const float c = static_cast<float>(clip);
    for (const Tensor& p : params)
        if (p.has_grad())
            for (float& g : p.mutable_grad().storage()) g = std::min(std::max(g, -c), c);
}

}  // namespace tapegrad::optim
