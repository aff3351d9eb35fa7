#include <cmath>
#include <iostream>
#include <tapegrad/tapegrad.hpp>

int main() {  // one step of causal self-attention, from tapegrad's ops
    using namespace tapegrad;
    manual_seed(1);
    Tensor x = randn({2, 5, 8}, true);                        // [batch, time, features]
    Tensor pos = arange(0, 5);                                // 1 where the key comes later:
    Tensor later = sign(relu(reshape(pos, {1, 5}) - reshape(pos, {5, 1})));
    Tensor scores = matmul(x, transpose(x, 1, 2)) / std::sqrt(8.0f);
    Tensor attention = softmax(masked_fill(scores, later, -1e9f), -1);
    Tensor y = layer_norm(x + matmul(attention, x), {8});
    sum(select(y, 1, 0)).backward();                          // time step 0 sees only itself
    std::cout << "y is " << shape_str(y.shape()) << "; gradient from step 0 to later steps: "
              << sum(abs(slice(Tensor(x.grad()), 1, 1, 5))).item() << "\n";
}
