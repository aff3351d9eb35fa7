// Must not compile: momentum and centered behind eps and weight decay.
#include <tapegrad/tapegrad.hpp>
using namespace tapegrad;
void make(const std::vector<Tensor>& params) { optim::RMSprop rms(params, 0.01f, 0.99f, 1e-8f, 0.0f, 0.5f, true); }
