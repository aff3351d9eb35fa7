// Pages to step through backprop in a browser (core/inspect/explorer.hpp), one per lesson:
//
//   softmax_cross_entropy   the lesson's softmax of (3, 1, -3) and cross-entropy for class 0,
//                           composed of softmax, log, mul, sum and neg
//   neuron_squared          one sigmoid neuron, confidently wrong (a = 0.98 for target 0), under
//   neuron_cross_entropy    squared error and under cross-entropy: watch sigmoid's derivative
//                           a (1 - a) = 0.018 shrink the first gradient and not the second
//   mlp_shared_weight       a 2-2-1 MLP with an L2 penalty on W1: W1 is used twice (three times,
//                           counting w * w), so its gradient is a sum you can watch grow
//   transformer_block       a TransformerEncoderLayer (d_model 4, 2 heads) on 3 positions
//   mnist_cnn_step          the MNIST CNN of examples/mnist (unfused: one record per layer) on
//                           one drawn digit
//
//   backprop_explorer [DIR] [--expected]
//
// writes DIR/NAME.html (DIR defaults to docs/explorer), and with --expected also
// DIR/NAME.expected.json: every leaf's gradient as backward() left it, which the browser test
// (tests/browser/explorer_test.mjs) compares with what the page shows.
#include <cstdio>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <tapegrad/tapegrad.hpp>

using namespace tapegrad;

namespace {

// Gives a tensor its name on the page; returns it, so it reads inside an expression.
using Namer = std::function<Tensor(const Tensor&, const char*)>;

struct Page {
    std::string file, title;
    std::vector<std::pair<std::string, Tensor>> leaves;  // named on the page and in the json
    std::function<Tensor(const Namer&)> loss;            // the forward pass, from the leaves
};

std::string json_numbers(const Array& a) {
    std::string out = "[";
    for (std::size_t i = 0; i < a.size(); ++i) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.9g", a.data()[i]);
        out += (i ? "," : "") + std::string(buffer);
    }
    return out + "]";
}

void write_page(const std::string& dir, const Page& page, bool expected) {
    TapeRecorder names;
    for (const auto& [name, t] : page.leaves) names.name(t, name);
    const Namer name = [&](const Tensor& t, const char* n) {
        names.name(t, n);
        return t;
    };
    const Namer quiet = [](const Tensor& t, const char*) { return t; };
    ExplorerOptions options;
    options.title = page.title;
    options.check_gradients = [&] { return page.loss(quiet); };
    const std::string path = dir + "/" + page.file + ".html";
    Tensor loss = page.loss(name);
    names.name(loss, "loss");
    write_explorer(loss, path, options);
    std::cout << "wrote " << path << "  (loss " << loss.item() << ")\n";
    if (!expected) return;
    std::string json = "{";
    for (const auto& [leaf, t] : page.leaves) {
        if (!t.requires_grad()) continue;
        json += (json.size() > 1 ? ",\n" : "") + std::string("\"") + leaf + "\": {\"shape\": [";
        for (std::size_t d = 0; d < t.dim(); ++d) json += (d ? "," : "") + std::to_string(t.shape()[d]);
        json += "], \"grad\": " + json_numbers(t.grad()) + "}";
    }
    write_file_atomic(dir + "/" + page.file + ".expected.json", json + "}\n", "backprop_explorer");
}

Tensor scalar(float v, bool requires_grad = true) { return Tensor(Array{v}, requires_grad); }

Page softmax_page() {
    Tensor z(Array{3.0f, 1.0f, -3.0f}, true);
    Tensor one_hot(Array{1.0f, 0.0f, 0.0f});
    return {"softmax_cross_entropy", "Softmax of (3, 1, -3), cross-entropy for class 0",
            {{"z", z}, {"one_hot", one_hot}},
            [=](const Namer& name) {
                Tensor p = name(softmax(z), "p");
                return -sum(name(log(p), "log_p") * one_hot);
            }};
}

// The lecture notes' neuron: x = 1, target 0, w = b = 2, so z = 4 and a = 0.98.
Page neuron_page(bool cross_entropy) {
    Tensor w = scalar(2.0f), b = scalar(2.0f), x = scalar(1.0f, false), t = scalar(0.0f, false);
    return {cross_entropy ? "neuron_cross_entropy" : "neuron_squared",
            cross_entropy ? "A sigmoid neuron, confidently wrong, under cross-entropy"
                          : "A sigmoid neuron, confidently wrong, under squared error",
            {{"w", w}, {"b", b}, {"x", x}, {"t", t}},
            [=](const Namer& name) {
                Tensor z = name(w * x + b, "z");
                Tensor a = name(sigmoid(z), "a");
                return cross_entropy ? log_loss(a, t) : squared_loss(a, t);
            }};
}

Page mlp_page() {
    Tensor x(Array{{1.0f, -2.0f}});
    Tensor W1(Array{{0.5f, -0.3f}, {0.8f, 0.2f}}, true), b1(Array{0.1f, -0.1f}, true);
    Tensor W2(Array{{1.2f, -0.7f}}, true), b2 = Tensor::from({0.05f}, {1}, true);
    Tensor target = Tensor::from({1.0f}, {1, 1});
    return {"mlp_shared_weight", "A 2-2-1 MLP with an L2 penalty: W1 used twice",
            {{"x", x}, {"W1", W1}, {"b1", b1}, {"W2", W2}, {"b2", b2}, {"target", target}},
            [=](const Namer& name) {
                Tensor h = name(sigmoid(name(linear(x, W1, b1), "z1")), "h");
                Tensor out = name(linear(h, W2, b2), "out");
                Tensor fit = name(squared_loss(out, target), "fit");
                return fit + 0.1f * sum(W1 * W1);
            }};
}

Page transformer_page() {
    manual_seed(3);
    auto layer = std::make_shared<nn::TransformerEncoderLayer>(
        nn::TransformerEncoderLayerOptions(4, 2).dim_feedforward(8).dropout(0.0));
    Tensor x = randn({3, 1, 4});
    Tensor target = randn({3, 1, 4});
    Page page{"transformer_block", "A transformer encoder layer (d_model 4, 2 heads) on 3 positions",
              {{"x", x}, {"target", target}},
              [=](const Namer& name) { return mse_loss(name((*layer)(x), "y"), target); }};
    for (const auto& [n, p] : layer->named_parameters()) page.leaves.emplace_back(n, p);
    return page;
}

// A 7 drawn in a 28x28 image: a bar across the top and a stroke down to the left.
Tensor drawn_seven() {
    Array image = xt::zeros<float>({1, 1, 28, 28});
    for (int c = 6; c <= 21; ++c)
        for (int r = 5; r <= 7; ++r) image(0, 0, r, c) = 1.0f;
    for (int r = 8; r <= 23; ++r) {
        const int c = 20 - (r - 8) * 9 / 15;
        for (int d = -1; d <= 1; ++d) image(0, 0, r, c + d) = 1.0f;
    }
    return Tensor(std::move(image));
}

Page mnist_page() {
    using namespace nn;
    manual_seed(1);
    auto model = std::make_shared<Sequential>(
        std::make_shared<Conv2D>(Conv2dOptions(1, 20, 5).padding(2)), std::make_shared<ReLU>(),
        std::make_shared<MaxPool2D>(2), std::make_shared<Conv2D>(Conv2dOptions(20, 20, 5).padding(2)),
        std::make_shared<ReLU>(), std::make_shared<MaxPool2D>(2), std::make_shared<Flatten>(),
        std::make_shared<Linear>(980, 10));
    Tensor image = drawn_seven();
    Tensor label(Array{7.0f});
    Page page{"mnist_cnn_step", "One step of the MNIST CNN on one image (a drawn 7)",
              {{"image", image}},
              [=](const Namer& name) { return cross_entropy(name((*model)(image), "logits"), label); }};
    for (const auto& [n, p] : model->named_parameters()) page.leaves.emplace_back(n, p);
    return page;
}

}  // namespace

int main(int argc, char** argv) {
    std::string dir = "docs/explorer";
    bool expected = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--expected") expected = true;
        else if (!arg.empty() && arg[0] == '-') {
            std::cerr << "backprop_explorer: unknown option '" << arg << "'\n"
                      << "usage: backprop_explorer [DIR] [--expected]\n";
            return 2;
        } else dir = arg;
    }
    try {
        for (const Page& page : {softmax_page(), neuron_page(false), neuron_page(true), mlp_page(),
                                 transformer_page(), mnist_page()})
            write_page(dir, page, expected);
    } catch (const std::exception& e) {
        std::cerr << "backprop_explorer: " << e.what() << "\n";
        return 1;
    }
}
