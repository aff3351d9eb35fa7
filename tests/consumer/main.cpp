// Checks that an installed tapegrad compiles, links and differentiates.
#include <cmath>
#include <iostream>

#include <tapegrad/dist/dist.hpp>  // the header's name before the rename, kept for one release
#include <tapegrad/distributed/distributed.hpp>
#include <tapegrad/tapegrad.hpp>

int main() {
    using namespace tapegrad;
    Tensor x(Array{{1.0f, 2.0f}}, true);
    Tensor w(Array{{0.5f, -1.0f}, {2.0f, 1.0f}}, true);
    Tensor loss = sum(sigmoid(matmul(x, w)));
    loss.backward();
    // d/dx_0 = sum_j s_j (1 - s_j) w_0j with s = sigmoid([4.5, 1])
    const double s0 = 1 / (1 + std::exp(-4.5)), s1 = 1 / (1 + std::exp(-1.0));
    const double expected = s0 * (1 - s0) * 0.5 + s1 * (1 - s1) * -1.0;
    const double got = x.grad()(0, 0);
    std::cout << "consumer: dloss/dx0 = " << got << " (expected " << expected << ")\n";
    // tapegrad::distributed links too, with or without MPI in the build.
    std::cout << "consumer: tapegrad::distributed " << (distributed::available() ? "has" : "has no")
              << " MPI\n";
    // The names before the rename (the dist:: namespace, the tapegrad::dist target) still work.
    if (dist::available() != distributed::available()) return 1;
    return std::abs(got - expected) < 1e-5 ? 0 : 1;
}
