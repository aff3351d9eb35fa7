// The graph of one training step: a two-layer network on one sample, drawn by Graphviz.
//
//   backprop_graph [DIR]    writes DIR/backprop_graph.dot, and DIR/backprop_graph.png when
//                           Graphviz's `dot` is installed (apt-get install graphviz)
//
//   z1 = x · W1T + b1    h = tanh(z1)    z2 = h · W2T + b2    loss = cross_entropy(z2, class 1)
//
// Each box is a tensor with its value and, in red, its gradient after backward(); each oval is
// one record of the tape. Follow the arrows forward for the values, backward for the gradients.
#include <cstdlib>
#include <iostream>
#include <string>

#include <tapegrad/tapegrad.hpp>

using namespace tapegrad;

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : ".";
    manual_seed(1);
    nn::Linear layer1(2, 3), layer2(3, 2);
    Tensor x(Array{{0.5f, -1.0f}});  // one sample, two features
    Tensor label(Array{1.0f});       // its class (a target: the loss reads it, the tape does not)

    TapeRecorder recorder;
    recorder.name(x, "x");
    recorder.name(layer1.weight, "W1");
    recorder.name(layer1.bias, "b1");
    recorder.name(layer2.weight, "W2");
    recorder.name(layer2.bias, "b2");

    Tensor z1 = layer1(x);
    Tensor h = tanh(z1);
    Tensor z2 = layer2(h);
    Tensor loss = nn::LossRegistry::instance().get("cross_entropy")(z2, label);
    recorder.name(z1, "z1");
    recorder.name(h, "h");
    recorder.name(z2, "z2");
    recorder.name(loss, "loss");
    loss.backward();
    print_tape();

    const std::string dot_path = dir + "/backprop_graph.dot";
    DotOptions options;
    options.title = "Two-layer network, one sample: values and gradients";
    write_file_atomic(dot_path, to_dot(recorder.last_sweep(), options), "backprop_graph");
    std::cout << "wrote " << dot_path << "\n";

    const std::string png_path = dir + "/backprop_graph.png";
    if (std::system("command -v dot > /dev/null 2>&1") != 0) {
        std::cout << "Graphviz's dot is not installed (apt-get install graphviz): no PNG; render "
                     "it later with: dot -Tpng " << dot_path << " -o " << png_path << "\n";
        return 0;
    }
    const std::string command = "dot -Tpng '" + dot_path + "' -o '" + png_path + "'";
    if (std::system(command.c_str()) != 0) {
        std::cerr << "backprop_graph: " << command << " failed\n";
        return 1;
    }
    std::cout << "wrote " << png_path << "\n";
}
