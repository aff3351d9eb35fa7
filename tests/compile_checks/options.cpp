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
