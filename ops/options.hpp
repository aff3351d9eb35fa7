// A setting of an options struct, as LibTorch's TORCH_ARG: options.name(value) sets it and
// returns the options, so that settings chain (SGDOptions(0.1).momentum(0.9)); options.name()
// reads it. Used by the options of losses, layers, optimizers and schedulers.
#pragma once

#define TAPEGRAD_OPTION(T, name, initial)    \
  public:                                    \
    auto& name(const T& value) {             \
        name##_ = value;                     \
        return *this;                        \
    }                                        \
    const T& name() const { return name##_; } \
                                             \
  private:                                   \
    T name##_ = initial;                     \
                                             \
  public:
