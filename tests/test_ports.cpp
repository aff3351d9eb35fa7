// The ports of docs/porting_from_pytorch.md (docs/examples/port_*.cpp) follow PyTorch's loss from
// the same initial weights: relative 1e-5 at step 1, 1e-3 after (float32 rounding grows with the
// steps). The references come from tests/data/make_port_references.py.
#include "helpers.hpp"

#include "../docs/examples/port_mlp.cpp"
#include "../docs/examples/port_vae.cpp"

using namespace tapegrad;

namespace {

void check_path(const std::string& name, const std::vector<float>& losses) {
    const NamedTypedArrays data = load_npz(std::string(TAPEGRAD_TEST_DATA) + "/ports/" + name + "_data.npz");
    const auto& want = std::get<xt::xarray<double>>(array_named(data, "losses"));
    REQUIRE(losses.size() == want.size());
    for (std::size_t step = 0; step < losses.size(); ++step) {
        INFO(name << " step " << step + 1 << ": tapegrad " << losses[step] << ", torch " << want(step));
        const double tolerance = step == 0 ? 1e-5 : 1e-3;
        CHECK(std::abs(losses[step] - want(step)) <= tolerance * std::abs(want(step)));
    }
    CHECK(losses.back() < losses.front());  // it trained
}

const std::string folder = std::string(TAPEGRAD_TEST_DATA) + "/ports";

}  // namespace

TEST_CASE("port: an MLP with SGD follows PyTorch's losses for 15 steps") {
    check_path("mlp", port::train_mlp(folder, 15));
}

TEST_CASE("port: a VAE with Adam follows PyTorch's losses for 15 steps") {
    check_path("vae", port::train_vae(folder, 15));
}
