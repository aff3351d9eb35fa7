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
    return record("matmul", {a, b}, std::move(y), [a, b](const Array& dy, const Array&) {
        if (a.requires_grad()) {
            Array da = Array::from_shape(a.shape());
            gemm(dy, false, b.value(), true, da);
            a.accumulate_grad(std::move(da));
        }
        if (b.requires_grad()) {
            Array db = Array::from_shape(b.shape());
            gemm(a.value(), true, dy, false, db);
            b.accumulate_grad(std::move(db));
        }
    }, [](const std::vector<Tensor>& in, const Tensor&, const Tensor& dy) {
        // da = dy bT, db = aT dy
        return std::vector<Tensor>{matmul(dy, transpose(in[1])), matmul(transpose(in[0]), dy)};
    });
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
    return record("matmul", {a, b}, std::move(y),
        [a, b, batch, count, m, n, k](const Array& dy, const Array&) {
            Shape full = batch;
            if (a.requires_grad()) {  // da = dy bT, summed over the batch axes a was broadcast on
                Array copy;
                const float* bv = batched(b.value(), batch, copy);
                full.insert(full.end(), {m, k});
                Array da = Array::from_shape(full);
                gemm_batch(false, true, count, m, k, n, dy.data(), bv, da.data());
                a.accumulate_grad(unbroadcast(da, a.shape()));
                full.resize(batch.size());
            }
            if (b.requires_grad()) {  // db = aT dy
                Array copy;
                const float* av = batched(a.value(), batch, copy);
                full.insert(full.end(), {k, n});
                Array db = Array::from_shape(full);
                // op(a) = aT is [k, m]: transpose_a with a stored as [m, k]
                for (std::size_t i = 0; i < count; ++i)
                    sgemm(true, false, k, n, m, av + i * m * k, dy.data() + i * m * n,
                          db.data() + i * k * n);
                b.accumulate_grad(unbroadcast(db, b.shape()));
            }
        },
        [](const std::vector<Tensor>& in, const Tensor&, const Tensor& dy) {
            const Tensor da = matmul(dy, transpose(in[1], -1, -2));
            const Tensor db = matmul(transpose(in[0], -1, -2), dy);
            return std::vector<Tensor>{sum_to(da, in[0].shape()), sum_to(db, in[1].shape())};
        });
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
        return reshape(mm(reshape(a, {a.size() / ka, ka}), b), out);
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
    return record("linear", {x, weight, bias}, std::move(y),
                  [x, weight, bias, rows, in, out](const Array& dy, const Array&) {
                      if (x.requires_grad()) {  // dx = dy W
                          Array dx = Array::from_shape(x.shape());
                          sgemm(false, false, rows, in, out, dy.data(), weight.value().data(),
                                dx.data());
                          x.accumulate_grad(std::move(dx));
                      }
                      if (weight.requires_grad()) {  // dW = dyT x
                          Array dw = Array::from_shape(weight.shape());
                          sgemm(true, false, out, in, rows, dy.data(), x.value().data(),
                                dw.data());
                          weight.accumulate_grad(std::move(dw));
                      }
                      if (bias.defined() && bias.requires_grad()) {  // db = sum of dy's rows
                          Array db = xt::zeros<float>({out});
                          for (std::size_t i = 0; i < rows; ++i) {
                              const float* __restrict row = dy.data() + i * out;
                              float* __restrict sum = db.data();
                              for (std::size_t j = 0; j < out; ++j) sum[j] += row[j];
                          }
                          bias.accumulate_grad(std::move(db));
                      }
                  },
                  [rows, in, out](const std::vector<Tensor>& in_, const Tensor&, const Tensor& dy) {
                      // dx = dy W, dW = dyT x, db = sum of dy's rows, on [rows, ...] views
                      const Tensor g = dy.dim() == 2 ? dy : reshape(dy, {rows, out});
                      const Tensor x = in_[0].dim() == 2 ? in_[0] : reshape(in_[0], {rows, in});
                      Tensor dx = matmul(g, in_[1]);
                      if (in_[0].dim() != 2) dx = reshape(dx, in_[0].shape());
                      std::vector<Tensor> d{dx, matmul(transpose(g), x)};
                      if (in_.size() == 3) d.push_back(sum(g, 0));
                      return d;
                  });
}

}  // namespace tapegrad
