#include "matmul.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <xtensor-blas/xblas.hpp>
#include <xtensor/xreducer.hpp>

#include "../core/runtime/blas.hpp"
#include "../core/tape.hpp"
#include "reduce.hpp"
#include "shape.hpp"

namespace tapegrad {

void gemm(const Array& a, bool transpose_a, const Array& b, bool transpose_b, Array& c,
          float alpha, float beta) {
    init_blas();
    xt::blas::gemm(a, b, c, transpose_a, transpose_b, alpha, beta);
}

namespace {

void require_2d(const char* op, const char* name, const Tensor& t) {
    if (t.dim() != 2)
        throw std::invalid_argument(std::string(op) + ": " + name + " must be 2-D, but its shape is " +
                                    shape_str(t.shape()));
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
    require_2d("matmul", "a", a);
    require_2d("matmul", "b", b);
    const Shape sa = a.shape(), sb = b.shape();
    if (sa[1] != sb[0])
        throw std::invalid_argument("matmul: inner dimensions differ: a is " + shape_str(sa) +
                                    ", b is " + shape_str(sb));
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

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    require_2d("linear", "x", x);
    require_2d("linear", "weight", weight);
    const Shape sx = x.shape(), sw = weight.shape();
    if (sx[1] != sw[1])
        throw std::invalid_argument("linear: x has " + std::to_string(sx[1]) +
                                    " features per row but weight " + shape_str(sw) +
                                    " expects " + std::to_string(sw[1]) + " (x is " +
                                    shape_str(sx) + ")");
    if (bias.defined() && bias.shape() != Shape{sw[0]})
        throw std::invalid_argument("linear: bias must have shape " + shape_str(Shape{sw[0]}) +
                                    ", but it is " + shape_str(bias.shape()));
    // y starts as the bias in every row, then the product is added to it (beta = 1).
    Array y = Array::from_shape({sx[0], sw[0]});
    if (bias.defined()) {
        const float* b = bias.value().data();
        for (std::size_t i = 0; i < sx[0]; ++i)
            std::copy(b, b + sw[0], y.data() + i * sw[0]);
    }
    gemm(x.value(), false, weight.value(), true, y, 1.0f, bias.defined() ? 1.0f : 0.0f);
    return record("linear", {x, weight, bias}, std::move(y),
                  [x, weight, bias](const Array& dy, const Array&) {
                      if (x.requires_grad()) {
                          Array dx = Array::from_shape(x.shape());
                          gemm(dy, false, weight.value(), false, dx);
                          x.accumulate_grad(std::move(dx));
                      }
                      if (weight.requires_grad()) {
                          Array dw = Array::from_shape(weight.shape());
                          gemm(dy, true, x.value(), false, dw);
                          weight.accumulate_grad(std::move(dw));
                      }
                      if (bias.defined() && bias.requires_grad()) {  // db = sum of dy's rows
                          const std::size_t rows = dy.shape()[0], cols = dy.shape()[1];
                          Array db = xt::zeros<float>({cols});
                          for (std::size_t i = 0; i < rows; ++i) {
                              const float* __restrict row = dy.data() + i * cols;
                              float* __restrict sum = db.data();
                              for (std::size_t j = 0; j < cols; ++j) sum[j] += row[j];
                          }
                          bias.accumulate_grad(std::move(db));
                      }
                  },
                  [](const std::vector<Tensor>& in, const Tensor&, const Tensor& dy) {
                      // dx = dy W, dW = dyT x, db = sum of dy's rows
                      std::vector<Tensor> d{matmul(dy, in[1]), matmul(transpose(dy), in[0])};
                      if (in.size() == 3) d.push_back(sum(dy, 0));
                      return d;
                  });
}

}  // namespace tapegrad
