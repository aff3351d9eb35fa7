#include "models.hpp"

#include <stdexcept>

namespace mnist {

using namespace tapegrad::nn;

std::vector<std::string> model_names() { return {"cnn", "cnn_bn", "mlp", "relu_mlp"}; }

bool takes_images(const std::string& name) { return name == "cnn" || name == "cnn_bn"; }

std::shared_ptr<Sequential> make_model(const std::string& name, std::size_t outputs) {
    // The convolutional models ask for fusion (nn/fuse.hpp): each ReLU + MaxPool2D(2), and
    // BatchNorm2D + ReLU + MaxPool2D(2) in training, run as one op with the same numbers.
    if (name == "cnn")
        return fuse(Sequential(
            std::make_shared<Conv2D>(Conv2dOptions(1, 20, 5).padding(2)), std::make_shared<ReLU>(),
            std::make_shared<MaxPool2D>(2), std::make_shared<Conv2D>(Conv2dOptions(20, 20, 5).padding(2)),
            std::make_shared<ReLU>(), std::make_shared<MaxPool2D>(2),
            std::make_shared<Flatten>(), std::make_shared<Linear>(980, outputs)));
    if (name == "cnn_bn")  // convolutions without bias: BatchNorm's shift takes its place
        return fuse(Sequential(
            Conv2D(Conv2dOptions(1, 32, 3).padding(1).bias(false)), BatchNorm2D(32), ReLU(), MaxPool2D(2),
            Conv2D(Conv2dOptions(32, 64, 3).padding(1).bias(false)), BatchNorm2D(64), ReLU(), MaxPool2D(2),
            Conv2D(Conv2dOptions(64, 64, 3).padding(1).bias(false)), BatchNorm2D(64), ReLU(), MaxPool2D(2),
            Flatten(), Dropout(0.25f), Linear(64 * 3 * 3, outputs)));
    if (name == "mlp")
        return std::make_shared<Sequential>(
            std::make_shared<Linear>(784, 10), std::make_shared<Sigmoid>(),
            std::make_shared<Linear>(10, 10), std::make_shared<Sigmoid>(),
            std::make_shared<Linear>(10, outputs));
    if (name == "relu_mlp")
        return std::make_shared<Sequential>(
            std::make_shared<Linear>(784, 256), std::make_shared<ReLU>(),
            std::make_shared<Linear>(256, 256), std::make_shared<ReLU>(),
            std::make_shared<Linear>(256, outputs));
    throw std::invalid_argument("--model " + name + ": unknown model; choose cnn, cnn_bn, mlp or relu_mlp");
}

}  // namespace mnist
