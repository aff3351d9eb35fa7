// What the two loss files share (ops/loss.cpp, the classic losses; ops/torch_losses.cpp,
// PyTorch's): the checks every loss makes, whose messages name the op, the element and the
// value, and reduced(), where every elementwise loss ends.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "../core/tape.hpp"
#include "elementwise.hpp"
#include "loss.hpp"
#include "shape.hpp"

namespace tapegrad::loss_parts {

// "[3, 1]": the position of flat element `flat` in an array of shape `shape`, for messages.
template <class S>
std::string index_str(const S& shape, std::size_t flat) {
    Shape index(shape.size());
    for (std::size_t d = shape.size(); d-- > 0;) {
        index[d] = flat % shape[d];
        flat /= shape[d];
    }
    return shape_str(index);
}

// A float as a message prints it ("0.401529").
std::string number_str(float v);

// The elementwise losses take a target of the prediction's shape.
void check_same_shape(const char* op, const Tensor& prediction, const Tensor& target);

// Values in [0, 1]; `what` names them and `hint` says what to do instead.
void check_probabilities(const char* op, const char* what, const Array& a, const char* hint);

// Reduction::batchmean given to a loss other than kl_div.
[[noreturn]] void throw_batchmean(const char* op);

// The loss of the whole batch from the per-element `losses`: their mean, sum, or themselves.
Array reduce_values(Array&& losses, Reduction reduction, float scale);

// dl/dl_i of the batch's loss: 1 / n for the mean, 1 otherwise.
float mean_scale(const Array& losses, Reduction reduction);

// Every loss ends here: reduces the per-element `losses` and records one op. Its derivative turns
// dy into dl, the gradient of each per-element loss (for the mean dl = dy / n, for the sum
// dl = dy, for none dl = dy), and hands it to the loss's own `derivative`, which returns dl times
// dl/da in tensor ops: Tensor derivative(const Tensor& prediction, const Tensor& dl). A loss may
// add a fast path (docs/performance.md): `fast(prediction, dl)` returns the same as an array,
// where dl(i) gives element i's dl.
template <class D, class... Fast>
Tensor reduced(const char* op, const Tensor& prediction, Array losses, Reduction reduction,
               D derivative, Fast... fast) {
    static_assert(sizeof...(Fast) <= 1, "one fast path at most");
    if (reduction == Reduction::batchmean) throw_batchmean(op);
    const Shape shape(losses.shape().begin(), losses.shape().end());
    const float scale = mean_scale(losses, reduction);
    const bool each = reduction == Reduction::none;
    auto tensor_form = [derivative, shape, scale, each](const Inputs& in, const Tensor&, const Tensor& dy) {
        const Tensor dl = each ? dy : expand(dy * scale, shape);
        return Grads{derivative(in[0], dl)};
    };
    Array y = reduce_values(std::move(losses), reduction, scale);
    if constexpr (sizeof...(Fast) == 0) {
        return record(op, {prediction}, std::move(y), std::move(tensor_form));
    } else {
        return record(op, {prediction}, std::move(y), std::move(tensor_form),
                      fast_path([fast..., scale, each](const Inputs& in, const Tensor&, const Tensor& dy) {
                          const float* d = dy.value().data();
                          auto dl = [d, scale, each](std::size_t i) { return each ? d[i] : d[0] * scale; };
                          return Grads{Tensor(fast(in[0], dl)...)};
                      }));
    }
}

// cross_entropy's one fused record (ops/loss.cpp), which cross_entropy with options also takes
// when it has none to apply.
Tensor fused_cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction);

}  // namespace tapegrad::loss_parts
