// An MLP classifier with SGD, ported line for line from PyTorch (docs/porting_from_pytorch.md).
#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace port {
using namespace tapegrad;

// The loss of each of `steps` training steps, from the weights and data in `folder`.
std::vector<float> train_mlp(const std::string& folder, int steps) {
    nn::Sequential mlp{nn::Linear(4, 16), nn::ReLU(), nn::Linear(16, 3)};  // nn.Sequential(...)
    nn::load(mlp, folder + "/mlp_init.npz");                           // load_state_dict
    const NamedTypedArrays data = load_npz(folder + "/mlp_data.npz");
    const Tensor x = tensor_named(data, "x");
    const Tensor y = tensor_named(data, "y");  // int64 class indices
    optim::SGD sgd(mlp.parameters(),
                   optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4).nesterov(true));
    std::vector<float> losses;
    for (int step = 0; step < steps; ++step) {
        sgd.zero_grad();
        const Tensor loss = cross_entropy(mlp(x), y);  // F.cross_entropy(mlp(x), y)
        loss.backward();
        sgd.step();
        losses.push_back(loss.item());
    }
    return losses;
}
}  // namespace port
