#include <iostream>
#include <tapegrad/tapegrad.hpp>
using namespace tapegrad;

int main() {
    manual_seed(1);                                      // same seed, same weights
    nn::Sequential model{nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 10)};
    optim::SGD sgd(model.parameters(), optim::SGDOptions(0.05).momentum(0.9));
    auto loss_fn = nn::LossRegistry::instance().get("cross_entropy");

    MNIST train_set("datasets/mnist", MnistSplit::train, MnistLayout::flat);
    DataLoader loader(train_set, /*batch_size=*/64, /*shuffle=*/true, /*seed=*/1);
    for (const Batch& batch : loader.epoch(0)) {         // one pass over the 60,000 digits
        Tensor loss = loss_fn(model(Tensor(batch.inputs)), Tensor(batch.targets));
        sgd.zero_grad();
        loss.backward();
        sgd.step();
    }
    nn::save(model, "model.npz");                        // numpy.load("model.npz")["0.weight"]
    std::cout << model.summary({1, 784});
}
