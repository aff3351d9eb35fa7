// A character LSTM with AdamW, gradient clipping and a cosine schedule, ported line for line from
// PyTorch (docs/porting_from_pytorch.md): the LSTM returns its output and its state from the call.
#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace port {
using namespace tapegrad;

struct CharLSTM : nn::Module {
    std::shared_ptr<nn::Embedding> embed = register_module("embed", nn::Embedding(10, 8));
    std::shared_ptr<nn::LSTM> lstm =
        register_module("lstm", nn::LSTM(nn::LSTMOptions(8, 16).batch_first(true)));
    std::shared_ptr<nn::Linear> head = register_module("head", nn::Linear(16, 10));

    Tensor forward(const Tensor& tokens) override {
        auto [y, state] = (*lstm)((*embed)(tokens));  // y, _ = self.lstm(self.embed(tokens))
        return (*head)(y);
    }
};

struct CharLSTMRun {
    std::vector<float> losses;
    std::vector<double> grad_norms;  // before clipping, as clip_grad_norm_ returns them
};

CharLSTMRun train_char_lstm(const std::string& folder, int steps) {
    CharLSTM model;
    nn::load(model, folder + "/char_lstm_init.npz");
    const NamedTypedArrays data = load_npz(folder + "/char_lstm_data.npz");
    const Tensor text = tensor_named(data, "text");  // [4, 9] token indices
    const Tensor inputs = slice(text, 1, 0, -1);      // text[:, :-1]
    const Tensor targets = slice(text, 1, 1, 9);      // text[:, 1:]
    optim::AdamW adamw(model.parameters(), optim::AdamWOptions(1e-2).weight_decay(0.01));
    optim::CosineAnnealingLR cosine(adamw, /*T_max=*/steps);
    CharLSTMRun run;
    for (int step = 0; step < steps; ++step) {
        adamw.zero_grad();
        const Tensor logits = model(inputs);
        const Tensor loss = cross_entropy(reshape(logits, {32, 10}), reshape(targets, {32}));
        loss.backward();
        run.grad_norms.push_back(optim::clip_grad_norm(model.parameters(), 0.1));
        adamw.step();
        cosine.step();
        run.losses.push_back(loss.item());
    }
    return run;
}
}  // namespace port
