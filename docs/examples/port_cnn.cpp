// A CNN with BatchNorm and Adam, ported line for line from PyTorch (docs/porting_from_pytorch.md):
// the running statistics load with the weights and update in training mode, as torch's.
#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace port {
using namespace tapegrad;

std::vector<float> train_cnn(const std::string& folder, int steps) {
    nn::Sequential cnn{nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1).bias(false)),
                       nn::BatchNorm2d(4),
                       nn::ReLU(),
                       nn::MaxPool2d(2),
                       nn::Flatten(),
                       nn::Linear(4 * 4 * 4, 3)};
    nn::load(cnn, folder + "/cnn_init.npz");
    const NamedTypedArrays data = load_npz(folder + "/cnn_data.npz");
    const Tensor x = tensor_named(data, "x");  // [8, 1, 8, 8]
    const Tensor y = tensor_named(data, "y");
    optim::Adam adam(cnn.parameters(), 1e-2);
    std::vector<float> losses;
    for (int step = 0; step < steps; ++step) {
        adam.zero_grad();
        const Tensor loss = cross_entropy(cnn(x), y);
        loss.backward();
        adam.step();
        losses.push_back(loss.item());
    }
    return losses;
}
}  // namespace port
