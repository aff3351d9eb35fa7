// Must not compile: 1e-4 meant as weight decay would have turned Nesterov on (issue 32).
#include <tapegrad/tapegrad.hpp>
using namespace tapegrad;
void make(const std::vector<Tensor>& params) { optim::SGD sgd(params, 0.1f, 0.9f, 1e-4f); }
