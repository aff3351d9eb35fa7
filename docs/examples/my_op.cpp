// softplus: y = ln(1 + e^x)      dy/dx = e^x / (1 + e^x) = sigmoid(x)      x, y, dy: any shape
//
// A smooth relu. Computed as max(x, 0) + ln(1 + e^-|x|): the same number, but e^-|x| is at
// most 1, so it never overflows (ln(1 + e^x) is inf for x > 88 in float).
#include <tapegrad/tapegrad.hpp>

namespace my {

using namespace tapegrad;

Tensor softplus(const Tensor& x) {
    const Array& v = x.value();
    Array y = xt::maximum(v, 0.0f) + xt::log1p(xt::exp(-xt::abs(v)));
    return record("softplus", {x}, std::move(y),
                  [](const Inputs& in, const Tensor&, const Tensor& dy) {
                      return Grads{dy * sigmoid(in[0])};  // dx = dy * sigmoid(x)
                  });
}

// The backward against central finite differences, at points on both sides of 0.
GradcheckResult check_softplus() {
    return gradcheck([](const std::vector<Tensor>& t) { return my::softplus(t[0]); },
                     {Array{-4.0f, -0.5f, 0.0f, 0.5f, 4.0f}});
}

}  // namespace my
