// The ports of docs/porting_from_pytorch.md (docs/examples/port_*.cpp) follow PyTorch's loss from
// the same initial weights: relative 1e-5 at step 1, 1e-3 after (float32 rounding grows with the
// steps). The references come from tests/data/make_port_references.py.
#include "helpers.hpp"

#include "../docs/examples/port_mlp.cpp"
#include "../docs/examples/port_vae.cpp"
#include "../docs/examples/port_cnn.cpp"
#include "../docs/examples/port_char_lstm.cpp"
#include "../docs/examples/port_transformer.cpp"

using namespace tapegrad;

namespace {

template <class T>
void check_path(const std::string& name, const std::vector<T>& losses, const std::string& key = "losses") {
    const NamedTypedArrays data = load_npz(std::string(TAPEGRAD_TEST_DATA) + "/ports/" + name + "_data.npz");
    const auto& want = std::get<xt::xarray<double>>(array_named(data, key));
    REQUIRE(losses.size() == want.size());
    for (std::size_t step = 0; step < losses.size(); ++step) {
        INFO(name << " " << key << ", step " << step + 1 << ": tapegrad " << losses[step] << ", torch " << want(step));
        const double tolerance = step == 0 ? 1e-5 : 1e-3;
        CHECK(std::abs(losses[step] - want(step)) <= tolerance * std::abs(want(step)));
    }
    if (key == "losses") CHECK(losses.back() < losses.front());  // it trained
}

const std::string folder = std::string(TAPEGRAD_TEST_DATA) + "/ports";

}  // namespace

TEST_CASE("port: an MLP with SGD follows PyTorch's losses for 15 steps") {
    check_path("mlp", port::train_mlp(folder, 15));
}

TEST_CASE("port: a VAE with Adam follows PyTorch's losses for 15 steps") {
    check_path("vae", port::train_vae(folder, 15));
}

TEST_CASE("port: a CNN with BatchNorm and Adam follows PyTorch's losses for 15 steps") {
    check_path("cnn", port::train_cnn(folder, 15));
}

TEST_CASE("port: a character LSTM with AdamW, clipping and a cosine schedule follows PyTorch's losses") {
    const port::CharLSTMRun run = port::train_char_lstm(folder, 15);
    check_path("char_lstm", run.losses);
    check_path("char_lstm", run.grad_norms, "grad_norms");
}

TEST_CASE("port: a pre-norm GELU transformer block with a mask and RMSprop follows PyTorch's losses") {
    check_path("transformer", port::train_transformer(folder, 15));
}
