// Uses the loss of my_loss.cpp by name, as the built-in ones: a line fitted to points with one
// outlier, by log_cosh and by squared error.
#include <cstdio>
#include <string>

#include "my_loss.cpp"  // in a project of your own: a header that declares my::register_log_cosh

int main() {
    using namespace tapegrad;
    my::register_log_cosh();
    const GradcheckResult check = my::check_log_cosh();
    std::printf("%s\n", check ? "log_cosh: the gradient agrees with finite differences"
                              : check.message.c_str());

    // y = 2x, except the last point, an outlier.
    const Tensor x(Array{0.0f, 1.0f, 2.0f, 3.0f, 4.0f});
    const Tensor y(Array{0.0f, 2.0f, 4.0f, 6.0f, 30.0f});
    for (const std::string name : {"log_cosh", "squared"}) {
        const nn::LossFn loss_fn = nn::LossRegistry::instance().get(name);
        Tensor slope(Array{0.0f}, true);  // [1], broadcast over the 5 points
        for (int step = 0; step < 500; ++step) {
            Tensor loss = loss_fn(x * slope, y);
            slope.zero_grad();
            loss.backward();
            slope.mutable_value() -= 0.02f * slope.grad();
        }
        std::printf("%-9s fits the slope %.3f\n", name.c_str(), slope.value()(0));
    }
}
