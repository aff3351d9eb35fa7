// Gradients of gradients, three ways. grad(..., create_graph) records the backward pass on the
// tape, so the gradient it returns is an ordinary tensor that can be differentiated again.
//
//   higher_order hvp       a Hessian-vector product of a small MLP, against finite differences
//   higher_order newton    Newton's method against gradient descent on a logistic regression
//   higher_order pinn      a network u(x) trained so that u'' = -pi^2 sin(pi x), u(0) = u(1) = 0
//   higher_order           all three
//
// Every figure printed is computed by the program; nothing is copied from elsewhere.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

using namespace tapegrad;
using nn::init::uniform;

namespace {

GradOptions create_graph() {
    GradOptions options;
    options.create_graph = true;
    return options;
}

// ---- (a) a Hessian-vector product ---------------------------------------------------------
//
// H v for the weights W1 of a 2-3-1 tanh MLP: g = dL/dW1 recorded, then d(g . v)/dW1. The check:
// central differences of the gradient, (g(W1 + e v) - g(W1 - e v)) / 2e, which is H v up to e^2.
void hessian_vector_product() {
    manual_seed(3);
    const Array x{{0.5f, -1.0f}, {1.5f, 0.25f}, {-0.75f, 0.8f}, {0.1f, -0.3f}};
    Array t{1.0f, -1.0f, 0.5f, 0.0f};
    t.reshape({4, 1});
    const Array w2 = uniform({1, 3}, -1.0f, 1.0f);
    const Array w1_0 = uniform({3, 2}, -1.0f, 1.0f);
    const Array v = uniform({3, 2}, -1.0f, 1.0f);
    auto loss = [&](const Tensor& w1) {
        const Tensor out = linear(tanh(linear(Tensor(x), w1)), Tensor(w2));
        return mean((out - Tensor(t)) * (out - Tensor(t)));
    };
    Tensor w1(w1_0, true);
    const Tensor g = grad(loss(w1), {w1}, create_graph())[0];
    const Array hv = grad(sum(g * Tensor(v)), {w1})[0].value();

    auto gradient_at = [&](const Array& at) {
        Tensor p(at, true);
        return grad(loss(p), {p})[0].value();
    };
    const float e = 1e-2f;
    const Array fd = (gradient_at(w1_0 + e * v) - gradient_at(w1_0 - e * v)) / (2.0f * e);

    std::printf("(a) Hessian-vector product H v of a 2-3-1 tanh MLP, w.r.t. W1 [3, 2]\n\n");
    std::printf("| element | H v (create_graph) | H v (finite differences, e = %g) | |difference| |\n",
                e);
    std::printf("|---|---|---|---|\n");
    double worst = 0;
    for (std::size_t i = 0; i < hv.size(); ++i) {
        const double d = std::abs(hv.data()[i] - fd.data()[i]);
        worst = std::max(worst, d);
        std::printf("| W1[%zu, %zu] | %+.6f | %+.6f | %.1e |\n", i / 2, i % 2, hv.data()[i],
                    fd.data()[i], d);
    }
    std::printf("\nlargest difference %.1e\n\n", worst);
}

// ---- (b) Newton's method -----------------------------------------------------------------
//
// Logistic regression on two features: L(w) = mean(ln(1 + e^(-y z))), z = w0 x0 + w1 x1 + w2,
// labels y = +-1 from two overlapping clouds (so the minimum is finite). Newton: w -= H^-1 g,
// with H built column by column from Hessian-vector products. Gradient descent: w -= lr g.
struct Logistic {
    Array x, y;  // [n, 3] with a column of ones for the bias; [n]
    Tensor loss(const Tensor& w) const {
        const Tensor z = sum(Tensor(x) * w, 1);  // [n]
        return mean(log(exp(-(Tensor(y) * z)) + 1.0f));
    }
};

Logistic make_clouds(std::size_t n) {
    std::mt19937 gen(11);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    Logistic d{Array::from_shape({n, 3}), Array::from_shape({n})};
    for (std::size_t i = 0; i < n; ++i) {
        const float label = i % 2 ? 1.0f : -1.0f;
        d.x(i, 0) = 0.8f * label + noise(gen);
        d.x(i, 1) = -0.5f * label + noise(gen);
        d.x(i, 2) = 1.0f;
        d.y(i) = label;
    }
    return d;
}

double norm(const Array& a) {
    double s = 0;
    for (float v : a) s += static_cast<double>(v) * v;
    return std::sqrt(s);
}

// Solves H s = g for 3x3 H by Gaussian elimination with partial pivoting, in double.
std::vector<double> solve3(std::vector<std::vector<double>> h, std::vector<double> g) {
    for (int c = 0; c < 3; ++c) {
        int p = c;
        for (int r = c + 1; r < 3; ++r)
            if (std::abs(h[r][c]) > std::abs(h[p][c])) p = r;
        std::swap(h[c], h[p]);
        std::swap(g[c], g[p]);
        for (int r = c + 1; r < 3; ++r) {
            const double f = h[r][c] / h[c][c];
            for (int k = c; k < 3; ++k) h[r][k] -= f * h[c][k];
            g[r] -= f * g[c];
        }
    }
    std::vector<double> s(3);
    for (int r = 2; r >= 0; --r) {
        double v = g[r];
        for (int k = r + 1; k < 3; ++k) v -= h[r][k] * s[k];
        s[r] = v / h[r][r];
    }
    return s;
}

void newton_against_gradient_descent() {
    const Logistic d = make_clouds(200);
    const double target = 1e-6;
    std::printf("(b) Logistic regression, 200 points, 2 features + bias: steps until |grad| < %g\n\n",
                target);
    std::printf("| method | step | loss | |grad| |\n|---|---|---|---|\n");

    Array w = xt::zeros<float>({3});
    int newton_steps = 0;
    for (; newton_steps < 50; ++newton_steps) {
        Tensor p(w, true);
        const Tensor g = grad(d.loss(p), {p}, create_graph())[0];
        const double gn = norm(g.value());
        std::printf("| Newton | %d | %.8f | %.2e |\n", newton_steps, d.loss(Tensor(w)).item(), gn);
        if (gn < target) break;
        std::vector<std::vector<double>> h(3, std::vector<double>(3));
        for (int j = 0; j < 3; ++j) {  // column j of H: d(g . e_j)/dw
            Array e = xt::zeros<float>({3});
            e(j) = 1.0f;
            GradOptions keep;
            keep.retain_graph = j < 2;
            const Array col = grad(sum(g * Tensor(e)), {p}, keep)[0].value();
            for (int i = 0; i < 3; ++i) h[i][j] = col(i);
        }
        const std::vector<double> step =
            solve3(h, {g.value()(0), g.value()(1), g.value()(2)});
        for (int i = 0; i < 3; ++i) w(i) -= static_cast<float>(step[i]);
    }

    Array v = xt::zeros<float>({3});
    const float lr = 1.0f;
    int gd_steps = 0;
    double gn = 0;
    const int limit = 100000;
    for (; gd_steps < limit; ++gd_steps) {
        Tensor p(v, true);
        const Array g = grad(d.loss(p), {p})[0].value();
        gn = norm(g);
        if (gn < target) break;
        v -= lr * g;
    }
    std::printf("| gradient descent, lr %g | %d%s | %.8f | %.2e |\n", lr, gd_steps,
                gd_steps == limit ? " (stopped)" : "", d.loss(Tensor(v)).item(), gn);
    std::printf("\nNewton: %d steps; gradient descent: %d steps. Weights: Newton (%.5f, %.5f, "
                "%.5f), gradient descent (%.5f, %.5f, %.5f)\n\n",
                newton_steps, gd_steps, w(0), w(1), w(2), v(0), v(1), v(2));
}

// ---- (c) a physics-informed network ---------------------------------------------------------
//
// u(x) = W2 tanh(W1 x + b1) + b2 with 20 hidden units. The loss asks u'' = -pi^2 sin(pi x) at
// collocation points in [0, 1] and u(0) = u(1) = 0; the answer is sin(pi x). u'' comes from two
// create_graph gradients with respect to the input, and the training gradient from a third
// backward through both.
void physics_informed(int steps) {
    const float pi = static_cast<float>(M_PI);
    manual_seed(5);
    const std::size_t hidden = 20;
    Tensor w1(uniform({hidden, 1}, -2.0f, 2.0f), true), b1(uniform({hidden}, -2.0f, 2.0f), true);
    Tensor w2(uniform({1, hidden}, -0.5f, 0.5f), true), b2(Array{0.0f}, true);
    auto u = [&](const Tensor& x) { return linear(tanh(linear(x, w1, b1)), w2, b2); };
    optim::Adam adam({w1, b1, w2, b2}, 1e-2f);

    const std::size_t n = 32;
    Array xs = Array::from_shape({n, 1});
    for (std::size_t i = 0; i < n; ++i) xs(i, 0) = (static_cast<float>(i) + 0.5f) / n;
    const Array rhs = -pi * pi * xt::sin(pi * xs);
    Array end_points{0.0f, 1.0f};
    end_points.reshape({2, 1});
    const Tensor ends(end_points);

    const auto start = std::chrono::steady_clock::now();
    float last = 0;
    for (int step = 1; step <= steps; ++step) {
        Tensor x(xs, true);
        const Tensor ux = u(x);
        const Tensor du = grad(sum(ux), {x}, create_graph())[0];   // u'(x), [n, 1]
        const Tensor d2u = grad(sum(du), {x}, create_graph())[0];  // u''(x)
        const Tensor residual = d2u - Tensor(rhs);
        const Tensor boundary = u(ends);
        const Tensor loss = mean(residual * residual) / (pi * pi * pi * pi) +
                            sum(boundary * boundary) * 10.0f;
        if (step == steps / 2) adam.set_lr(3e-3f);
        if (step == 3 * steps / 4) adam.set_lr(1e-3f);
        adam.zero_grad();
        loss.backward();
        adam.step();
        last = loss.item();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    NoGrad no_grad;
    Array grid = Array::from_shape({101, 1});
    for (std::size_t i = 0; i <= 100; ++i) grid(i, 0) = static_cast<float>(i) / 100;
    const Array predicted = u(Tensor(grid)).value();
    double worst = 0;
    for (std::size_t i = 0; i <= 100; ++i)
        worst = std::max<double>(worst, std::abs(predicted(i, 0) - std::sin(pi * grid(i, 0))));
    std::printf("(c) Physics-informed fit of u'' = -pi^2 sin(pi x), u(0) = u(1) = 0, on [0, 1]\n\n");
    std::printf("| hidden units | collocation points | Adam steps | final loss | max |u - sin(pi x)| "
                "on 101 points | seconds |\n|---|---|---|---|---|---|\n");
    std::printf("| %zu | %zu | %d | %.2e | %.2e | %.1f |\n\n", hidden, n, steps, last, worst,
                seconds);
}

}  // namespace

int main(int argc, char** argv) {
    tune_malloc();
    const std::string what = argc > 1 ? argv[1] : "all";
    int steps = 4000;
    if (argc > 2) steps = std::atoi(argv[2]);
    try {
        if (what == "hvp" || what == "all") hessian_vector_product();
        if (what == "newton" || what == "all") newton_against_gradient_descent();
        if (what == "pinn" || what == "all") physics_informed(steps);
        if (what != "hvp" && what != "newton" && what != "pinn" && what != "all") {
            std::cerr << "usage: higher_order [hvp|newton|pinn|all] [pinn steps]\n";
            return 2;
        }
    } catch (const std::exception& e) {
        std::cerr << "higher_order: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
