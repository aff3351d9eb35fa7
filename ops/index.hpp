// Indexing and joining. Axes may be negative (counted from the end). Indices are tensors of
// floats holding whole numbers (what argmax returns and what a data loader gives), checked: a
// fractional, negative or too large index is an error naming the op, its position and value.
//
//   slice(x, a, b, e, s)       rows b, b+s, ... below e along axis a; negative or out-of-range
//                              b and e follow Python's rules; s >= 1.   dx: dy put back in place
//   select(x, a, i)            row i along a, the axis dropped (i < 0 counts from the end)
//   index_select(x, a, idx)    rows idx[0], idx[1], ... along a (1-D idx; repeats allowed)
//                              dx: each row of dy added back to its row, so repeats add up
//   gather(x, a, idx)          y[p] = x[p with p[a] replaced by idx[p]]; idx has x's rank and
//                              no larger size on the other axes; y has idx's shape
//                              dx = scatter_add(0, a, idx, dy)
//   scatter_add(x, a, idx, s)  y = x, then y[p with p[a] = idx[p]] += s[p] for every p of idx
//                              (s has idx's shape: stricter than torch, which allows larger s)
//                              dx = dy, ds = gather(dy, a, idx)
//   concat(xs, a)              along a; the other axes must agree. dx_i: its part of dy
//   stack(xs, a)               along a new axis a; all shapes equal. dx_i: dy's slice i
//   split(x, sizes, a)         parts of the given sizes along a (they must add up to its size)
//   chunk(x, n, a)             n parts of ceil(size / n) rows, the last smaller (fewer parts
//                              when the rows run out first), as torch.chunk
//   embedding(idx, w)          rows of w [num, dim] picked by idx of any shape -> idx's shape
//                              + [dim]; dw: each row of dy added to its row of w
#pragma once

#include <vector>

#include "../core/tensor.hpp"

namespace tapegrad {

Tensor slice(const Tensor& x, int axis, long begin, long end, long step = 1);
Tensor select(const Tensor& x, int axis, long index);
Tensor index_select(const Tensor& x, int axis, const Tensor& indices);
Tensor gather(const Tensor& x, int axis, const Tensor& indices);
Tensor scatter_add(const Tensor& x, int axis, const Tensor& indices, const Tensor& source);
Tensor concat(const std::vector<Tensor>& tensors, int axis);
Tensor stack(const std::vector<Tensor>& tensors, int axis);
std::vector<Tensor> split(const Tensor& x, const std::vector<std::size_t>& sizes, int axis);
std::vector<Tensor> chunk(const Tensor& x, std::size_t chunks, int axis);
Tensor embedding(const Tensor& indices, const Tensor& weight);

}  // namespace tapegrad
