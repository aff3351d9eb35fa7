#include "matmul.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <cblas.h>
#include <xtensor/xbroadcast.hpp>
#include <xtensor/xreducer.hpp>

#include "../backend/blas.hpp"
#include "../backend/narrow_gemm.hpp"
#include "../core/tape.hpp"
#include "elementwise.hpp"
#include "reduce.hpp"
#include "shape.hpp"

namespace tapegrad {

void gemm(const Array& a, bool transpose_a, const Array& b, bool transpose_b, Array& c,
          float alpha, float beta) {
    const std::size_t m = c.shape()[0], n = c.shape()[1];
    const std::size_t k = transpose_a ? a.shape()[0] : a.shape()[1];
    sgemm(transpose_a, transpose_b, m, n, k, a.data(), b.data(), c.data(), beta, alpha);
}

void sgemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k,
           const float* a, const float* b, float* c, float beta, float alpha) {
    if (m == 0 || n == 0) return;
    init_blas();  // the kernels this CPU supports, as for every OpenBLAS product (backend/blas.hpp)
    if (k == 0) {  // BLAS rejects a leading dimension of 0; the empty sum is 0
        if (beta == 0.0f) std::fill(c, c + m * n, 0.0f);
        return;
    }
    if (!transpose_a && transpose_b && alpha == 1.0f && (beta == 0.0f || beta == 1.0f) &&
        narrow_gemm_applies(m, n, k)) {  // a few long dot products per row
        narrow_gemm_nt(m, n, k, a, k, b, k, c, n, beta == 1.0f);
        return;
    }
    cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
                transpose_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(m),
                static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
                static_cast<blasint>(transpose_a ? m : k), b,
                static_cast<blasint>(transpose_b ? k : n), beta, c, static_cast<blasint>(n));
}

namespace {

void require_2d(const char* op, const char* name, const Tensor& t) {  // linear's arguments
    if (t.dim() != 2)
        throw std::invalid_argument(std::string(op) + ": " + name + " must be 2-D, but its shape is " +
                                    shape_str(t.shape()));
}

}  // namespace

namespace {

// [M, K] · [K, N]: one GEMM.
Tensor mm(const Tensor& a, const Tensor& b) {
    const Shape sa = a.shape(), sb = b.shape();
    Array y = Array::from_shape({sa[0], sb[1]});
    gemm(a.value(), false, b.value(), false, y);
    // da = dy bT, db = aT dy. The fast path multiplies by the transposes in place; the tensor
    // form copies them first.
    return record("matmul", {a, b}, std::move(y),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{in[0].requires_grad() ? matmul(dy, transpose(in[1])) : Tensor(),
                                   in[1].requires_grad() ? matmul(transpose(in[0]), dy) : Tensor()};
                  },
                  fast_path([](const Inputs& in, const Tensor&, const Tensor& dy) {
                      Grads d{Tensor(), Tensor()};
                      if (in[0].requires_grad()) {
                          Array da = Array::from_shape(in[0].value().shape());
                          gemm(dy.value(), false, in[1].value(), true, da);
                          d[0] = Tensor(std::move(da));
                      }
                      if (in[1].requires_grad()) {
                          Array db = Array::from_shape(in[1].value().shape());
                          gemm(in[0].value(), true, dy.value(), false, db);
                          d[1] = Tensor(std::move(db));
                      }
                      return d;
                  }));
}

// x's values as contiguous matrices for the batch axes `batch`: x's own data when it has those
// axes, else a broadcast copy made in `storage`.
const float* batched(const Array& x, const Shape& batch, Array& storage) {
    Shape shape = batch;
    shape.push_back(x.shape()[x.dimension() - 2]);
    shape.push_back(x.shape()[x.dimension() - 1]);
    if (std::equal(shape.begin(), shape.end(), x.shape().begin(), x.shape().end())) return x.data();
    storage = xt::broadcast(x, shape);
    return storage.data();
}

// out[i] = op(a[i]) · op(b[i]) for each of `count` matrices laid one after another.
void gemm_batch(bool ta, bool tb, std::size_t count, std::size_t m, std::size_t n, std::size_t k,
                const float* a, const float* b, float* out) {
    for (std::size_t i = 0; i < count; ++i)
        sgemm(ta, tb, m, n, k, a + i * m * k, b + i * k * n, out + i * m * n);
}

// [..., M, K] · [..., K, N] with broadcast batch axes: one GEMM per matrix of the batch.
Tensor bmm(const Tensor& a, const Tensor& b) {
    const Shape sa = a.shape(), sb = b.shape();
    const Shape batch = broadcast_shapes("matmul", Shape(sa.begin(), sa.end() - 2),
                                         Shape(sb.begin(), sb.end() - 2));
    std::size_t count = 1;
    for (std::size_t d : batch) count *= d;
    const std::size_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
    Array a_copy, b_copy;
    const float* av = batched(a.value(), batch, a_copy);
    const float* bv = batched(b.value(), batch, b_copy);
    Shape out = batch;
    out.push_back(m);
    out.push_back(n);
    Array y = Array::from_shape(out);
    gemm_batch(false, false, count, m, n, k, av, bv, y.data());
    // da = dy bT and db = aT dy, each summed back over the batch axes its input was broadcast on
    return record("matmul", {a, b}, std::move(y),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{in[0].requires_grad()
                                       ? sum_to(matmul(dy, transpose(in[1], -1, -2)), in[0].shape())
                                       : Tensor(),
                                   in[1].requires_grad()
                                       ? sum_to(matmul(transpose(in[0], -1, -2), dy), in[1].shape())
                                       : Tensor()};
                  },
                  fast_path([batch, count, m, n, k](const Inputs& in, const Tensor&, const Tensor& dy) {
                      Grads d{Tensor(), Tensor()};
                      Shape full = batch;
                      if (in[0].requires_grad()) {
                          Array copy;
                          const float* bv = batched(in[1].value(), batch, copy);
                          full.insert(full.end(), {m, k});
                          Array da = Array::from_shape(full);
                          gemm_batch(false, true, count, m, k, n, dy.value().data(), bv, da.data());
                          d[0] = Tensor(unbroadcast(da, in[0].shape()));
                          full.resize(batch.size());
                      }
                      if (in[1].requires_grad()) {
                          Array copy;
                          const float* av = batched(in[0].value(), batch, copy);
                          full.insert(full.end(), {k, n});
                          Array db = Array::from_shape(full);
                          // op(a) = aT is [k, m]: transpose_a with a stored as [m, k]
                          for (std::size_t i = 0; i < count; ++i)
                              sgemm(true, false, k, n, m, av + i * m * k, dy.value().data() + i * m * n,
                                    db.data() + i * k * n);
                          d[1] = Tensor(unbroadcast(db, in[1].shape()));
                      }
                      return d;
                  }));
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
    if (a.dim() == 0 || b.dim() == 0)
        throw std::invalid_argument("matmul: both arguments need at least one dimension, but a "
                                    "is " + shape_str(a.shape()) + " and b is " +
                                    shape_str(b.shape()));
    const Shape sa = a.shape(), sb = b.shape();
    const std::size_t ka = sa.back(), kb = sb.size() == 1 ? sb[0] : sb[sb.size() - 2];
    if (ka != kb)
        throw std::invalid_argument("matmul: inner dimensions differ: a is " + shape_str(sa) +
                                    ", b is " + shape_str(sb));
    // A vector is a matrix of one row (a) or one column (b), removed again from the result.
    if (a.dim() == 1 && b.dim() == 1) return reshape(mm(reshape(a, {1, ka}), reshape(b, {kb, 1})), {});
    if (a.dim() == 1) return squeeze(matmul(unsqueeze(a, 0), b), -2);
    if (b.dim() == 1) return squeeze(matmul(a, unsqueeze(b, -1)), -1);
    if (a.dim() == 2 && b.dim() == 2) return mm(a, b);
    if (b.dim() == 2) {  // [..., M, K] · [K, N]: the rows of every matrix in one GEMM
        Shape out = sa;
        out.back() = sb[1];
        std::size_t rows = 1;  // not a.size() / ka: K may be 0
        for (std::size_t d = 0; d + 1 < sa.size(); ++d) rows *= sa[d];
        return reshape(mm(reshape(a, {rows, ka}), b), out);
    }
    return bmm(a, b);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    require_2d("linear", "weight", weight);
    if (x.dim() == 0)
        throw std::invalid_argument("linear: x must be [..., in], but it is a single number");
    const Shape sw = weight.shape();
    if (x.shape().back() != sw[1])
        throw std::invalid_argument("linear: x has " + std::to_string(x.shape().back()) +
                                    " features per row but weight " + shape_str(sw) +
                                    " expects " + std::to_string(sw[1]) + " (x is " +
                                    shape_str(x.shape()) + ")");
    // x [..., in] as torch: all its rows in one GEMM, read in place (rows of x and of y are
    // contiguous whatever the leading axes), so no reshaped copies on the way in or out.
    const Shape sx = x.shape();
    const std::size_t in = sw[1], out = sw[0];
    std::size_t rows = 1;
    for (std::size_t d = 0; d + 1 < sx.size(); ++d) rows *= sx[d];
    if (bias.defined() && bias.shape() != Shape{out})
        throw std::invalid_argument("linear: bias must have shape " + shape_str(Shape{out}) +
                                    ", but it is " + shape_str(bias.shape()));
    Shape sy = sx;
    sy.back() = out;
    // y starts as the bias in every row, then the product is added to it (beta = 1).
    Array y = Array::from_shape(sy);
    if (bias.defined()) {
        const float* b = bias.value().data();
        for (std::size_t i = 0; i < rows; ++i) std::copy(b, b + out, y.data() + i * out);
    }
    sgemm(false, true, rows, out, in, x.value().data(), weight.value().data(), y.data(),
          bias.defined() ? 1.0f : 0.0f);
    // dx = dy W, dW = dyT x, db = sum of dy's rows, on [rows, ...] views of x and dy. The fast
    // path reads them in place; the tensor form reshapes and transposes copies.
    return record("linear", {x, weight, bias}, std::move(y),
                  [rows, in, out](const Inputs& args, const Tensor&, const Tensor& dy) {
                      const Tensor g = dy.dim() == 2 ? dy : reshape(dy, {rows, out});
                      Grads d{Tensor(), Tensor()};
                      if (args[0].requires_grad()) {
                          const Tensor dx = matmul(g, args[1]);
                          d[0] = args[0].dim() == 2 ? dx : reshape(dx, args[0].shape());
                      }
                      if (args[1].requires_grad()) {
                          const Tensor x = args[0].dim() == 2 ? args[0] : reshape(args[0], {rows, in});
                          d[1] = matmul(transpose(g), x);
                      }
                      if (args.size() == 3) d.push_back(args[2].requires_grad() ? sum(g, 0) : Tensor());
                      return d;
                  },
                  fast_path([rows, in, out](const Inputs& args, const Tensor&, const Tensor& dy) {
                      const Tensor &x = args[0], &weight = args[1];
                      Grads d{Tensor(), Tensor()};
                      if (x.requires_grad()) {
                          Array dx = Array::from_shape(x.value().shape());
                          sgemm(false, false, rows, in, out, dy.value().data(), weight.value().data(),
                                dx.data());
                          d[0] = Tensor(std::move(dx));
                      }
                      if (weight.requires_grad()) {
                          Array dw = Array::from_shape(weight.value().shape());
                          sgemm(true, false, out, in, rows, dy.value().data(), x.value().data(), dw.data());
                          d[1] = Tensor(std::move(dw));
                      }
                      if (args.size() == 3) {
                          if (!args[2].requires_grad()) return d;
                          Array db = xt::zeros<float>({out});
                          for (std::size_t i = 0; i < rows; ++i) {
                              const float* __restrict row = dy.value().data() + i * out;
                              float* __restrict sum = db.data();
                              for (std::size_t j = 0; j < out; ++j) sum[j] += row[j];
                          }
                          d.push_back(Tensor(std::move(db)));
                      }
                      return d;
                  }));
}

}  // namespace tapegrad
