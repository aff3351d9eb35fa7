// Must not compile: a scheduler's settings by position (ReduceLROnPlateau's factor, patience, ...).
#include <tapegrad/tapegrad.hpp>
using namespace tapegrad;
void make(optim::Optimizer& optimizer) {
    optim::ReduceLROnPlateau plateau(optimizer, optim::ReduceLROnPlateau::Mode::min, 0.5, 3);
}
