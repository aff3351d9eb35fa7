// Every op of the op set through gradcheck and gradgradcheck on random inputs of several shapes
// (1-D, 2-D, 3-D where the op allows them): the per-op files check values and errors, this one
// that the gradients hold whatever the shape.
#include <functional>

#include "helpers.hpp"

using namespace tapegrad;
using test::away_from_zero;
using test::random_array;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

void check_shapes(const char* name, const Fn& f, const std::vector<Shape>& shapes, bool positive = false) {
    std::uint32_t seed = 500;
    for (const Shape& s : shapes) {
        const std::string what = std::string(name) + " on " + shape_str(s);
        INFO(what);
        const Array x = positive ? random_array(s, 0.3f, 2.0f, ++seed) : away_from_zero(s, 0.2f, 1.5f, ++seed);
        CHECK_GRAD(gradcheck(f, {x}));
        CHECK_GRADGRAD(gradgradcheck([&f](const std::vector<Tensor>& t) { return square(f(t)); }, {x}));
    }
}

const std::vector<Shape> any_rank{{5}, {2, 3}, {2, 3, 2}};
const std::vector<Shape> rank2_up{{3, 4}, {2, 3, 4}};

}  // namespace

TEST_CASE("elementwise ops and activations hold their gradients on 1-D, 2-D and 3-D inputs") {
    check_shapes("sin", [](const auto& t) { return sin(t[0]); }, any_rank);
    check_shapes("cos", [](const auto& t) { return cos(t[0]); }, any_rank);
    check_shapes("log1p", [](const auto& t) { return log1p(t[0]); }, any_rank, true);
    check_shapes("expm1", [](const auto& t) { return expm1(t[0]); }, any_rank);
    check_shapes("reciprocal", [](const auto& t) { return reciprocal(t[0]); }, any_rank, true);
    check_shapes("leaky_relu", [](const auto& t) { return leaky_relu(t[0], 0.1f); }, any_rank);
    check_shapes("elu", [](const auto& t) { return elu(t[0]); }, any_rank);
    check_shapes("silu", [](const auto& t) { return silu(t[0]); }, any_rank);
    check_shapes("gelu", [](const auto& t) { return gelu(t[0]); }, any_rank);
    check_shapes("gelu tanh", [](const auto& t) { return gelu(t[0], GeluApproximation::tanh); }, any_rank);
    check_shapes("softplus", [](const auto& t) { return softplus(t[0]); }, any_rank);
    check_shapes("maximum", [](const auto& t) { return maximum(t[0], t[0] * -0.5f + 0.1f); }, any_rank);
    check_shapes("minimum", [](const auto& t) { return minimum(t[0], t[0] * -0.5f + 0.1f); }, any_rank);
    check_shapes("where", [](const auto& t) { return where(sign(relu(t[0])), t[0] * 2.0f, square(t[0])); }, any_rank);
    check_shapes("masked_fill", [](const auto& t) { return masked_fill(t[0] * t[0], sign(relu(t[0])), 3.0f); }, any_rank);
}

TEST_CASE("reductions hold their gradients on every axis of 1-D, 2-D and 3-D inputs") {
    check_shapes("max", [](const auto& t) { return max(t[0]); }, any_rank);
    check_shapes("min over the last axis", [](const auto& t) { return min(t[0], -1); }, any_rank);
    check_shapes("max over axis 0, kept", [](const auto& t) { return max(t[0], 0, true); }, any_rank);
    check_shapes("logsumexp over axis 0", [](const auto& t) { return logsumexp(t[0], 0); }, any_rank);
    check_shapes("logsumexp over the last axis", [](const auto& t) { return logsumexp(t[0], -1, true); }, any_rank);
    check_shapes("var", [](const auto& t) { return var(t[0]); }, any_rank);
    check_shapes("var over axis 0", [](const auto& t) { return var(t[0], 0, false, 0); }, rank2_up);
    check_shapes("var over two axes", [](const auto& t) { return var(t[0], {0, -1}, true); }, rank2_up);
    check_shapes("stddev over the last axis", [](const auto& t) { return stddev(t[0], -1); }, any_rank);
}

TEST_CASE("shape, indexing and joining ops hold their gradients on several shapes") {
    check_shapes("permute", [](const auto& t) {
        std::vector<int> axes(t[0].dim());
        for (std::size_t i = 0; i < axes.size(); ++i) axes[i] = static_cast<int>(axes.size() - 1 - i);
        return permute(t[0], axes);
    }, any_rank);
    check_shapes("transpose of the first and last axes", [](const auto& t) { return transpose(t[0], 0, -1); }, any_rank);
    check_shapes("unsqueeze", [](const auto& t) { return unsqueeze(t[0], -1); }, any_rank);
    check_shapes("squeeze", [](const auto& t) { return squeeze(unsqueeze(t[0], 1), 1); }, any_rank);
    check_shapes("slice", [](const auto& t) { return slice(t[0], 0, -2, 10, 1); }, any_rank);
    check_shapes("slice with a step", [](const auto& t) { return slice(t[0], -1, 0, 10, 2); }, any_rank);
    check_shapes("select", [](const auto& t) { return select(t[0], 0, -1); }, rank2_up);
    check_shapes("index_select", [](const auto& t) { return index_select(t[0], 0, Tensor(Array{1.0f, 0.0f, 1.0f})); }, any_rank);
    check_shapes("gather", [](const auto& t) {
        return gather(t[0], 0, ones(t[0].shape()));
    }, any_rank);
    check_shapes("scatter_add", [](const auto& t) {
        Shape s = t[0].shape();
        s[0] = 1;
        return scatter_add(t[0], 0, zeros(s), slice(t[0] * t[0], 0, 0, 1));
    }, any_rank);
    check_shapes("concat", [](const auto& t) { return concat({t[0], t[0] * t[0]}, 0); }, any_rank);
    check_shapes("stack", [](const auto& t) { return stack({t[0], t[0] * t[0]}, -1); }, any_rank);
    check_shapes("split", [](const auto& t) { return split(t[0], {1, t[0].shape()[0] - 1}, 0)[1]; }, any_rank);
    check_shapes("chunk", [](const auto& t) { return chunk(t[0], 2, -1)[0]; }, any_rank);
    check_shapes("embedding", [](const auto& t) { return embedding(Tensor(Array{{1.0f, 0.0f}, {1.0f, 1.0f}}), t[0]); }, {{3, 4}, {2, 5}});
}

TEST_CASE("matmul, pooling and normalization hold their gradients on several shapes") {
    check_shapes("matmul with itself transposed", [](const auto& t) { return matmul(t[0], transpose(t[0], -1, -2)); }, rank2_up);
    check_shapes("matmul of a vector", [](const auto& t) { return matmul(t[0], t[0]); }, {{3}, {5}});
    check_shapes("avg_pool2d", [](const auto& t) { return avg_pool2d(t[0], 2, 1, 1); }, {{1, 1, 3, 3}, {2, 3, 4, 5}});
    check_shapes("max_pool2d", [](const auto& t) { return max_pool2d(t[0], 2, 2, 1); }, {{1, 1, 3, 3}, {2, 3, 4, 5}});
    check_shapes("layer_norm", [](const auto& t) { return layer_norm(t[0], {t[0].shape().back()}); }, {{4}, {3, 4}, {2, 3, 4}});
    check_shapes("batch_norm", [](const auto& t) {
        return batch_norm(t[0], Tensor(), Tensor(), Tensor(), Tensor(), true);
    }, {{4, 3}, {2, 3, 2, 2}});
    check_shapes("conv2d with groups and dilation", [](const auto& t) {
        const Tensor w(random_array({4, 1, 2, 2}, -1.0f, 1.0f, 9));
        return conv2d(t[0], w, Tensor(), 1, 1, 2, 2);
    }, {{1, 2, 4, 4}, {2, 2, 5, 3}});
}
