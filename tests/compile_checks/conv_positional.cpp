// Must not compile: a convolution's stride and padding by position.
#include <tapegrad/tapegrad.hpp>
using namespace tapegrad;
void make() { nn::Conv2d conv(1, 4, 3, 1, 1); }
