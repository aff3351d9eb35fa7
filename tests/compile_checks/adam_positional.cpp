// Must not compile: betas, eps and weight decay by position.
#include <tapegrad/tapegrad.hpp>
using namespace tapegrad;
void make(const std::vector<Tensor>& params) { optim::Adam adam(params, 1e-3f, {0.9f, 0.999f}, 1e-8f, 0.01f); }
