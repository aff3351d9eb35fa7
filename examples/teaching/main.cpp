// The claims of the teaching material, as numbers computed by the library.
//
//   teaching softmax          softmax of (3, 1, -3); cross-entropy's gradient is softmax - one-hot
//   teaching sigmoid          squared error vs log loss behind a sigmoid, for z from -10 to 10
//   teaching landscape [DIR]  both losses over two weights of a sigmoid neuron: DIR/landscape.dat,
//                             and DIR/landscape.png when gnuplot is installed
//
// Every gradient comes from the tape: a tensor that requires a gradient, the ops, backward(),
// then .grad(). The formulas printed next to them are computed from the same values, so the two
// columns can be compared.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

using namespace tapegrad;

namespace {

std::string row(const Array& a, const char* format = "%.4f") {
    std::string out = "(";
    for (std::size_t i = 0; i < a.size(); ++i) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, format, a.data()[i]);
        out += (i ? ", " : "") + std::string(buffer);
    }
    return out + ")";
}

void softmax_claims() {
    const Array scores{3.0f, 1.0f, -3.0f};
    const Array p = softmax(Tensor(scores)).value();
    std::cout << "softmax" << row(scores, "%g") << " = " << row(p) << " ~ " << row(p, "%.2f")
              << "\n\n";

    // Cross-entropy for logits (1, 5, 3) and class 1, as one fused record of the registry ...
    Tensor z(Array{{1.0f, 5.0f, 3.0f}}, true);
    nn::LossRegistry::instance().get("cross_entropy")(z, Tensor(Array{1.0f})).backward();
    const Array fused = z.grad();
    // ... and composed from softmax, log, mul and sum: the same gradient, four records long.
    Tensor z2(Array{{1.0f, 5.0f, 3.0f}}, true);
    const Tensor one_hot(Array{{0.0f, 1.0f, 0.0f}});
    (-sum(log(softmax(z2)) * one_hot)).backward();
    const Array s = softmax(Tensor(z.value())).value();

    std::cout << "cross-entropy, logits z = (1, 5, 3), class 1:  L = -ln softmax(z)_1 = "
              << -std::log(s(0, 1)) << "\n"
              << "  softmax(z)                              = " << row(s) << "\n"
              << "  dL/dz from the tape (cross_entropy)     = " << row(fused) << "\n"
              << "  dL/dz from the tape (softmax, log, ...) = " << row(z2.grad()) << "\n"
              << "  softmax(z) - one-hot (0, 1, 0)          = " << row(s - one_hot.value())
              << "\n";
}

// dL/dz for each z of a batch, through a = sigmoid(z) and the registry's loss (summed, so that
// each element's gradient is its own).
Array gradient_at_z(const Array& zs, const std::string& loss, float y) {
    Tensor z(zs, true);
    Array target = Array::from_shape(zs.shape());
    target.fill(y);
    nn::LossRegistry::instance().get(loss, Reduction::sum)(sigmoid(z), Tensor(target)).backward();
    return z.grad();
}

void sigmoid_claims() {
    const Array zs = xt::arange<float>(-10.0f, 10.5f, 1.0f);
    std::cout << "A sigmoid output a = sigmoid(z) = 1 / (1 + e^-z), and its derivative a (1 - a).\n"
              << "squared error L = (a - y)^2: dL/dz = 2 (a - y) a (1 - a)   (the factor 2: the\n"
              << "                  library's squared loss is (a - y)^2, without a 1/2)\n"
              << "log loss      L = -[y ln a + (1 - y) ln(1 - a)]: dL/dz = a - y\n"
              << "Both dL/dz come from the tape (z.grad()); the formula columns recompute them.\n";
    for (float y : {1.0f, 0.0f}) {
        const Array squared = gradient_at_z(zs, "squared", y);
        const Array log_loss = gradient_at_z(zs, "log", y);
        std::printf("\ny = %g (the prediction is wrong where z %s 0)\n", y, y == 1 ? "<" : ">");
        std::printf("%6s %11s | %14s %19s | %11s %11s\n", "z", "a", "squared dL/dz",
                    "2(a-y) a(1-a)", "log dL/dz", "a - y");
        float worst_z = 0, worst_squared = 0, worst_log = 0;
        for (std::size_t i = 0; i < zs.size(); ++i) {
            const float z = zs(i), a = 1.0f / (1.0f + std::exp(-z));
            const bool wrong = (a > 0.5f) != (y == 1);
            const bool vanishes = wrong && std::abs(squared(i)) < 0.01f;
            std::printf("%6g %11.4g | %14.4g %19.4g | %11.4g %11.4g%s\n", z, a, squared(i),
                        2 * (a - y) * a * (1 - a), log_loss(i), a - y,
                        vanishes ? "  <- wrong, yet squared error's gradient vanishes" : "");
            if (wrong && std::abs(log_loss(i)) > std::abs(worst_log))
                worst_z = z, worst_squared = squared(i), worst_log = log_loss(i);
        }
        std::printf("At z = %g the prediction is as wrong as it gets: squared error's dL/dz = %.3g,"
                    "\nlog loss's = %.4g, %.0f times larger.\n",
                    worst_z, worst_squared, worst_log, worst_log / worst_squared);
    }
}

// Eight points, four of each class, on two circles: class 1 around (1.5, 1), class 0 around
// (-1.5, -1). A neuron a = sigmoid(w1 x1 + w2 x2) separates them for any w pointing that way.
struct Points {
    Array x = Array::from_shape({8, 2});
    Array y = Array::from_shape({8, 1});
    Points() {
        for (std::size_t k = 0; k < 4; ++k) {
            const float angle = static_cast<float>(k) * 1.5707963f;
            const float dx = 0.5f * std::cos(angle), dy = 0.5f * std::sin(angle);
            x(k, 0) = 1.5f + dx, x(k, 1) = 1.0f + dy, y(k, 0) = 1.0f;
            x(k + 4, 0) = -1.5f + dx, x(k + 4, 1) = -1.0f + dy, y(k + 4, 0) = 0.0f;
        }
    }
};

struct LossAndGradient {
    float loss;
    float grad_norm;  // |dL/dw|
};

// The mean loss over the points at weights (w1, w2), and the norm of its gradient, via the tape.
// Squared error sees a = sigmoid(z); cross-entropy is the registry's log_with_logits, the log
// loss of a computed from z (equal to it, and finite for any z).
LossAndGradient evaluate(const Points& data, float w1, float w2, const std::string& loss) {
    Tensor w(Array{{w1, w2}}, true);
    const Tensor z = linear(Tensor(data.x), w);  // [8, 1]
    const Tensor prediction = loss == "squared" ? sigmoid(z) : z;
    const Tensor l = nn::LossRegistry::instance().get(loss)(prediction, Tensor(data.y));
    l.backward();
    return {l.item(), static_cast<float>(std::sqrt(xt::sum(w.grad() * w.grad())()))};
}

int landscape(const std::string& dir) {
    const Points data;
    const float lo = -6.0f, hi = 6.0f;
    const int steps = 48;
    const std::string dat = dir + "/landscape.dat";
    std::ostringstream out;
    out << "# w1 w2 squared_error cross_entropy |grad squared_error| |grad cross_entropy|\n";
    // Where the neuron does worse than w = (0, 0), which answers 0.5 for every point: how often
    // is the loss nearly flat there (|dL/dw| < 0.01), so that gradient descent barely moves?
    const LossAndGradient sq0 = evaluate(data, 0, 0, "squared");
    const LossAndGradient ce0 = evaluate(data, 0, 0, "log_with_logits");
    int flat_squared = 0, flat_cross_entropy = 0, bad_squared = 0, bad_cross_entropy = 0;
    for (int i = 0; i <= steps; ++i) {
        for (int j = 0; j <= steps; ++j) {
            const float w1 = lo + (hi - lo) * i / steps, w2 = lo + (hi - lo) * j / steps;
            const LossAndGradient sq = evaluate(data, w1, w2, "squared");
            const LossAndGradient ce = evaluate(data, w1, w2, "log_with_logits");
            out << w1 << ' ' << w2 << ' ' << sq.loss << ' ' << ce.loss << ' ' << sq.grad_norm << ' '
                << ce.grad_norm << '\n';
            if (sq.loss > sq0.loss) ++bad_squared, flat_squared += sq.grad_norm < 0.01f;
            if (ce.loss > ce0.loss)
                ++bad_cross_entropy, flat_cross_entropy += ce.grad_norm < 0.01f;
        }
        out << '\n';  // gnuplot: one block per w1
    }
    write_file_atomic(dat, out.str(), "teaching");

    std::cout << "A sigmoid neuron a = sigmoid(w1 x1 + w2 x2) on 8 points (class 1 around\n"
                 "(1.5, 1), class 0 around (-1.5, -1)); mean loss over the points, w1 and w2 in\n"
                 "[-6, 6]. Cross-entropy is the log loss of a, computed from z "
                 "(log_with_logits).\n\n";
    std::printf("%-9s | %-25s | %s\n", "corner", "squared error: L, |dL/dw|",
                "cross-entropy: L, |dL/dw|");
    float worst_loss = -1, worst_w1 = 0, worst_w2 = 0;
    for (float w1 : {lo, hi})
        for (float w2 : {lo, hi}) {
            const LossAndGradient sq = evaluate(data, w1, w2, "squared");
            const LossAndGradient ce = evaluate(data, w1, w2, "log_with_logits");
            std::printf("(%2g, %2g)  | %-11.4g %-13.3g | %-11.4g %.3g\n", w1, w2, sq.loss,
                        sq.grad_norm, ce.loss, ce.grad_norm);
            if (ce.loss > worst_loss) worst_loss = ce.loss, worst_w1 = w1, worst_w2 = w2;
        }
    const LossAndGradient sq = evaluate(data, worst_w1, worst_w2, "squared");
    const LossAndGradient ce = evaluate(data, worst_w1, worst_w2, "log_with_logits");
    std::printf("\nworst corner (%g, %g), every point misclassified:\n"
                "  squared error: L = %.4f, gradient norm |dL/dw| = %.4g  (flat: barely moves)\n"
                "  cross-entropy: L = %.4f, gradient norm |dL/dw| = %.4g  (steep: learns fast)\n",
                worst_w1, worst_w2, sq.loss, sq.grad_norm, ce.loss, ce.grad_norm);
    std::printf("where the neuron does worse than w = (0, 0) (a = 0.5 for every point), the\n"
                "loss is nearly flat (|dL/dw| < 0.01) on %.0f%% of those grid points for squared\n"
                "error, on %.0f%% for cross-entropy\nwrote %s\n",
                100.0 * flat_squared / bad_squared, 100.0 * flat_cross_entropy / bad_cross_entropy,
                dat.c_str());

    if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
        std::cout << "gnuplot is not installed (apt-get install gnuplot-nox): no picture\n";
        return 0;
    }
    const std::string script = dir + "/landscape.gp", png = dir + "/landscape.png";
    auto label = [&](const LossAndGradient& corner) {  // at the worst corner, above the surface
        char text[160];
        std::snprintf(text, sizeof text,
                      "set label 1 'worst corner: |dL/dw| = %.2g' at %g,%g,%g offset 1,1.5 front\n",
                      corner.grad_norm, worst_w1, worst_w2, corner.loss);
        return std::string(text);
    };
    std::ostringstream gp;
    gp  << "set terminal pngcairo size 1400,620 font ',11'\n"
        << "set output '" << png << "'\n"
        << "set multiplot layout 1,2 title 'Loss landscape of a sigmoid neuron over two weights'\n"
        << "set xlabel 'w1'; set ylabel 'w2'; set ticslevel 0; set view 55, 35\n"
        << "set pm3d depthorder border lc rgb '#606060' lw 0.4; set palette rgbformulae 33,13,10\n"
        << "unset colorbox; set key off\n"
        << "set title 'squared error: flat where it is worst'\n"
        << label(sq)
        << "splot '" << dat << "' using 1:2:3 every 2:2 with pm3d\n"
        << "set title 'cross-entropy: steep where it is worst'\n"
        << label(ce)
        << "splot '" << dat << "' using 1:2:4 every 2:2 with pm3d\n"
        << "unset multiplot\n";
    write_file_atomic(script, gp.str(), "teaching");
    if (std::system(("gnuplot '" + script + "'").c_str()) != 0) {
        std::cerr << "teaching: gnuplot " << script << " failed\n";
        return 1;
    }
    std::cout << "wrote " << png << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "softmax") softmax_claims();
    else if (command == "sigmoid") sigmoid_claims();
    else if (command == "landscape") return landscape(argc > 2 ? argv[2] : ".");
    else {
        std::cerr << "usage: teaching softmax | sigmoid | landscape [DIR]\n";
        return 2;
    }
    return 0;
}
