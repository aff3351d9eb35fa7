// Must compile: torch's spellings (tests/compile_checks/CMakeLists.txt).
#include <tapegrad/tapegrad.hpp>
using namespace tapegrad;
void make(const std::vector<Tensor>& params) {
    optim::SGD sgd(params, optim::SGDOptions(0.1).momentum(0.9).dampening(0).weight_decay(1e-4).nesterov(true));
    optim::SGD plain(params, 0.1);
    optim::AdamW adamw(params, optim::AdamWOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.01).amsgrad(false));
    optim::RMSprop rms(params, optim::RMSpropOptions(1e-2).alpha(0.99).momentum(0.5).centered(true));
    optim::Adagrad ada(params, optim::AdagradOptions(0.1).lr_decay(0.01));
}

// The layers' and schedulers' options, as issue 32 spells them.
void layers() {
    nn::Conv2d conv(nn::Conv2dOptions(1, 4, 3).stride(1).padding(1).dilation(1).groups(1).bias(false));
    nn::LSTM lstm(nn::LSTMOptions(8, 16).num_layers(2).bias(true).batch_first(true));
    nn::TransformerEncoderLayer block(nn::TransformerEncoderLayerOptions(16, 2)
        .dim_feedforward(32).dropout(0.0).activation(nn::kGELU).norm_first(true).batch_first(true));
    nn::Linear fc(nn::LinearOptions(4, 2).bias(false));
    nn::MaxPool2d max_pool(nn::MaxPool2dOptions(3).stride(2).padding(1));
    nn::AvgPool2d avg_pool(nn::AvgPool2dOptions(3).stride(2).padding(1));
    nn::BatchNorm1d bn1(nn::BatchNormOptions(4).eps(1e-3).momentum(0.2));
    nn::BatchNorm2d bn2(nn::BatchNormOptions(4).eps(1e-3).momentum(0.2));
    nn::LayerNorm ln(nn::LayerNormOptions({4}).eps(1e-6).elementwise_affine(false));
    nn::Embedding embed(nn::EmbeddingOptions(10, 4));
    nn::Dropout drop(nn::DropoutOptions().p(0.2));
    nn::LeakyReLU leaky(nn::LeakyReLUOptions().negative_slope(0.2));
    nn::ELU elu(nn::ELUOptions().alpha(0.5));
    nn::GELU gelu(nn::GELUOptions().approximate("tanh"));
    nn::Softplus softplus(nn::SoftplusOptions().beta(2).threshold(10));
    nn::RNN rnn(nn::RNNOptions(3, 4).num_layers(2).nonlinearity(nn::kReLU).bias(false).batch_first(true));
    nn::GRU gru(nn::GRUOptions(3, 4).num_layers(2));
    nn::RNNCell rnn_cell(nn::RNNCellOptions(3, 4).nonlinearity(nn::kTanh).bias(false));
    nn::GRUCell gru_cell(nn::GRUCellOptions(3, 4).bias(false));
    nn::LSTMCell lstm_cell(nn::LSTMCellOptions(3, 4).bias(false));
    nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(8, 2).dropout(0.1).bias(false).batch_first(true));
}

void schedulers(const std::vector<Tensor>& params) {
    optim::SGD sgd(params, optim::SGDOptions(0.1).momentum(0.9));
    optim::OneCycleLR one(sgd, optim::OneCycleLROptions(/*max_lr=*/0.5, /*total_steps=*/30));
    optim::StepLR step(sgd, optim::StepLROptions(30).gamma(0.5));
    optim::StepLR step_alone(sgd, 30);
    optim::MultiStepLR multi(sgd, optim::MultiStepLROptions({10, 20}).gamma(0.5));
    optim::ExponentialLR exponential(sgd, optim::ExponentialLROptions(0.9));
    optim::CosineAnnealingLR cosine(sgd, optim::CosineAnnealingLROptions(10).eta_min(1e-4));
    optim::LinearLR linear(sgd, optim::LinearLROptions().start_factor(0.1).end_factor(1.0).total_iters(5));
    optim::ReduceLROnPlateau plateau(sgd, optim::ReduceLROnPlateauOptions()
        .mode(optim::ReduceLROnPlateau::Mode::max).factor(0.5).patience(2).threshold(0.01)
        .threshold_mode(optim::ReduceLROnPlateau::ThresholdMode::abs).cooldown(1).min_lr(1e-5).eps(1e-9));
}
