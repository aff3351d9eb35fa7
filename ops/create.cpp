#include "create.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace tapegrad {

Tensor full(const Shape& shape, float value, bool requires_grad) {
    Array a = Array::from_shape(shape);
    a.fill(value);
    return Tensor(std::move(a), requires_grad);
}

Tensor zeros(const Shape& shape, bool requires_grad) { return full(shape, 0.0f, requires_grad); }
Tensor ones(const Shape& shape, bool requires_grad) { return full(shape, 1.0f, requires_grad); }
Tensor zeros_like(const Tensor& t, bool requires_grad) { return zeros(t.shape(), requires_grad); }
Tensor ones_like(const Tensor& t, bool requires_grad) { return ones(t.shape(), requires_grad); }

Tensor arange(float begin, float end, float step, bool requires_grad) {
    auto number = [](float v) {
        std::ostringstream s;
        s << v;
        return s.str();
    };
    if (step == 0.0f || !std::isfinite(step) || !std::isfinite(begin) || !std::isfinite(end))
        throw std::invalid_argument("arange: begin, end and step must be finite and step non-zero, "
                                    "but they are " + number(begin) + ", " + number(end) + ", " +
                                    number(step));
    // As torch: ceil((end - begin) / step) values, none when the step points away from end.
    const double count = std::ceil((static_cast<double>(end) - begin) / step);
    if (count > 1e9)
        throw std::invalid_argument("arange: " + number(begin) + " to " + number(end) +
                                    " by " + number(step) + " would make " + number(count) +
                                    " values");
    const std::size_t n = count > 0 ? static_cast<std::size_t>(count) : 0;
    Array a = Array::from_shape({n});
    for (std::size_t i = 0; i < n; ++i)
        a(i) = static_cast<float>(begin + static_cast<double>(i) * step);
    return Tensor(std::move(a), requires_grad);
}

Tensor linspace(float start, float end, std::size_t steps, bool requires_grad) {
    Array a = Array::from_shape({steps});
    for (std::size_t i = 0; i < steps; ++i)
        a(i) = steps == 1 ? start
                          : static_cast<float>(start + (static_cast<double>(end) - start) *
                                                           static_cast<double>(i) /
                                                           static_cast<double>(steps - 1));
    return Tensor(std::move(a), requires_grad);
}

}  // namespace tapegrad
