#include "inline_shape.hpp"

namespace tapegrad::detail {

void throw_too_many_dims(std::size_t n) {
    throw std::length_error("tapegrad: an array has at most " + std::to_string(max_dims) +
                            " dimensions; this one would have " + std::to_string(n));
}

}  // namespace tapegrad::detail
