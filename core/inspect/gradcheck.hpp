// gradcheck: compares the gradients the tape computes with central finite differences.
//
// For y = f(x_1, ..., x_n) of any shape, it checks the gradient of L = sum(r * y) for a fixed
// random r (so every output element takes part), element by element:
//     numeric dL/dx_ij = (L(x_ij + eps) - L(x_ij - eps)) / (2 eps),  L accumulated in double.
// Keep inputs away from kinks (relu at 0, ties in max) where the derivative is not defined.
//
// gradgradcheck checks second derivatives the same way, as torch.autograd.gradgradcheck: the
// gradient g_i = dL/dx_i is computed with create_graph, and the gradient of S = sum_i sum(u_i g_i)
// for fixed random u_i (found by a second backward through the recorded first one) is compared
// with central differences of S, where S(x) is computed by a plain backward at x +- eps.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "../tensor.hpp"

namespace tapegrad {

struct GradcheckOptions {
    double eps = 1e-3;
    double atol = 1e-3;
    double rtol = 1e-2;
    std::uint64_t seed = 7;  // for the output weights r
};

struct GradcheckResult {
    bool ok = true;
    double max_abs_error = 0.0;
    std::string message;  // names the first failing input and element
    explicit operator bool() const { return ok; }
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Array>& inputs,
                          const GradcheckOptions& options = {});

GradcheckResult gradgradcheck(const GradcheckFn& f, const std::vector<Array>& inputs,
                              const GradcheckOptions& options = {});

}  // namespace tapegrad
