// Uses the op of my_op.cpp: checks its gradient, then traces one backward pass through it.
#include <iostream>
#include <xtensor/xio.hpp>

#include "my_op.cpp"  // in a project of your own: a header that declares my::softplus

int main() {
    using namespace tapegrad;
    const GradcheckResult check = my::check_softplus();
    std::cout << (check ? "softplus: the gradient agrees with finite differences" : check.message)
              << "\n";

    TapeRecorder recorder;  // keeps what backward() does, for print_tape()
    Tensor w(Array{0.5f, -1.0f}, true);
    Tensor loss = sum(my::softplus(w * 2.0f));
    loss.backward();
    print_tape();
    std::cout << "dL/dw = " << w.grad() << "\n";  // 2 sigmoid(2w) = (1.462, 0.2384)
}
