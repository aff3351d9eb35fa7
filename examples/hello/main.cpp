#include <iostream>
#include <xtensor/xio.hpp>
#include <tapegrad/tapegrad.hpp>
using namespace tapegrad;

int main() {
    Tensor x(Array{{0.5f, -1.0f, 2.0f}});                            // one sample, 3 features
    Tensor w(Array{{0.1f, 0.2f, -0.3f}, {0.4f, 0.0f, 0.1f}}, true);  // [2 classes, 3]
    Tensor b(Array{0.0f, 0.0f}, true);
    Tensor p = softmax(linear(x, w, b));                              // [1, 2] probabilities
    Tensor loss = -sum(log(p) * Tensor(Array{{1.0f, 0.0f}}));        // cross-entropy, class 0
    loss.backward();                                                  // one reverse sweep
    std::cout << "loss " << loss.item() << "\ndL/dw\n" << w.grad() << "\n";  // (p - y) x
}
