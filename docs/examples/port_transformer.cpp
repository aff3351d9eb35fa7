// A pre-norm GELU transformer block with a causal mask and RMSprop, ported line for line from
// PyTorch (docs/porting_from_pytorch.md): the block's forward takes the mask.
#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace port {
using namespace tapegrad;

struct Block : nn::Module {
    std::shared_ptr<nn::TransformerEncoderLayer> layer = register_module(
        "layer", nn::TransformerEncoderLayer(nn::TransformerEncoderLayerOptions(16, 2)
                                                 .dim_feedforward(32)
                                                 .dropout(0.0)
                                                 .activation(nn::kGELU)
                                                 .norm_first(true)
                                                 .batch_first(true)));
    std::shared_ptr<nn::Linear> head = register_module("head", nn::Linear(16, 1));

    TAPEGRAD_FORWARD_CALLS()  // block(x, mask) calls this forward
    Tensor forward(const Tensor& x, const Tensor& mask) { return (*head)((*layer)(x, mask)); }
};

std::vector<float> train_transformer(const std::string& folder, int steps) {
    Block block;
    nn::load(block, folder + "/transformer_init.npz");
    const NamedTypedArrays data = load_npz(folder + "/transformer_data.npz");
    const Tensor x = tensor_named(data, "x");  // [4, 6, 16], batch first
    const Tensor target = tensor_named(data, "target");
    const Tensor mask = nn::causal_mask(6);  // torch.triu(torch.full((6, 6), -inf), diagonal=1)
    optim::RMSprop rms(block.parameters(),
                       optim::RMSpropOptions(1e-3).alpha(0.99).momentum(0.5).centered(true));
    std::vector<float> losses;
    for (int step = 0; step < steps; ++step) {
        rms.zero_grad();
        const Tensor loss = mse_loss(block(x, mask), target);
        loss.backward();
        rms.step();
        losses.push_back(loss.item());
    }
    return losses;
}
}  // namespace port
