#include "helpers.hpp"

using namespace tapegrad;
using test::random_array;

TEST_CASE("gradcheck catches a wrong backward and names the input and element") {
    // y = 2x recorded with the derivative of 3x: gradcheck must fail.
    auto wrong = [](const std::vector<Tensor>& t) {
        const Tensor x = t[0];
        return record("wrong_double", {x}, x.value() * 2.0f,
                      [](const Inputs&, const Tensor&, const Tensor& dy) { return Grads{dy * 3.0f}; });
    };
    GradcheckResult result = gradcheck(wrong, {random_array({2, 2})});
    CHECK_FALSE(result.ok);
    CHECK(result.message.find("input 0") != std::string::npos);
    CHECK(result.message.find("element 0") != std::string::npos);
}

TEST_CASE("gradcheck passes a correct composite function of two inputs") {
    auto f = [](const std::vector<Tensor>& t) { return sum(tanh(matmul(t[0], t[1])) * t[0]); };
    CHECK_GRAD(gradcheck(f, {random_array({3, 3}, -1, 1, 4), random_array({3, 3}, -1, 1, 5)}));
}
