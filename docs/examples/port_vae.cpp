// A variational autoencoder with Adam, ported line for line from PyTorch
// (docs/porting_from_pytorch.md): a forward of two tensors returning three.
#include <string>
#include <tuple>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace port {
using namespace tapegrad;

struct VAE : nn::Module {
    std::shared_ptr<nn::Linear> encoder = register_module("encoder", nn::Linear(8, 16));
    std::shared_ptr<nn::Linear> mu = register_module("mu", nn::Linear(16, 2));
    std::shared_ptr<nn::Linear> logvar = register_module("logvar", nn::Linear(16, 2));
    std::shared_ptr<nn::Linear> decoder1 = register_module("decoder1", nn::Linear(2, 16));
    std::shared_ptr<nn::Linear> decoder2 = register_module("decoder2", nn::Linear(16, 8));

    TAPEGRAD_FORWARD_CALLS()  // vae(x, eps) calls this forward
    std::tuple<Tensor, Tensor, Tensor> forward(const Tensor& x, const Tensor& eps) {
        const Tensor h = relu((*encoder)(x));
        const Tensor m = (*mu)(h), lv = (*logvar)(h);
        const Tensor z = m + exp(0.5f * lv) * eps;
        return {sigmoid((*decoder2)(relu((*decoder1)(z)))), m, lv};
    }
};

std::vector<float> train_vae(const std::string& folder, int steps) {
    VAE vae;
    nn::load(vae, folder + "/vae_init.npz");
    const NamedTypedArrays data = load_npz(folder + "/vae_data.npz");
    const Tensor x = tensor_named(data, "x");
    const Tensor eps = tensor_named(data, "eps");  // [steps, 16, 2]: one draw per step
    optim::Adam adam(vae.parameters(), 1e-2);
    std::vector<float> losses;
    for (int step = 0; step < steps; ++step) {
        adam.zero_grad();
        auto [reconstruction, mu, logvar] = vae(x, select(eps, 0, step));
        const Tensor loss = binary_cross_entropy(reconstruction, x, {}, Reduction::sum) -
                            0.5f * sum(1.0f + logvar - mu * mu - exp(logvar));
        loss.backward();
        adam.step();
        losses.push_back(loss.item());
    }
    return losses;
}
}  // namespace port
