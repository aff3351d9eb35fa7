// The array every value and gradient is: an xtensor array of floats whose memory and shape come
// from the caches beside this file.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include "inline_shape.hpp"  // InlineShape: the shape inside the array, at most 8 axes
#include "small_blocks.hpp"  // SmallBlockAllocator: few values come from a per-thread cache

namespace tapegrad {

// An xtensor array of T, row-major, of at most 8 dimensions. Its values live in memory from
// SmallBlockAllocator and its shape in an InlineShape, so its type is not spelled
// xt::xarray<float>; it converts to and from that (and any xtensor expression) by assignment.
// Array, of floats, is every tensor's; kernels are written for any ArrayOf<T> where that costs
// nothing, ready for float64.
template <class T>
using ArrayOf = xt::xarray_container<xt::uvector<T, detail::SmallBlockAllocator<T>>,
                                     xt::layout_type::row_major, detail::InlineShape<std::size_t>>;
using Array = ArrayOf<float>;
using Shape = std::vector<std::size_t>;

// "[64, 784]": how every error message and the tape print a shape.
std::string shape_str(const Shape& shape);
template <class S>
std::string shape_str(const S& shape) {
    return shape_str(Shape(shape.begin(), shape.end()));
}

}  // namespace tapegrad
