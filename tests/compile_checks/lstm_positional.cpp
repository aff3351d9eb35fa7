// Must not compile: a layer's settings by position (torch's LSTM(3, 4, 2, True) means bias).
#include <tapegrad/tapegrad.hpp>
using namespace tapegrad;
void make() { nn::LSTM lstm(3, 4, 2, true); }
