// For the test that kills a checkpoint writer at random moments (examples_test.sh,
// checkpoint_survives_sigkill). Version k of the checkpoint has every parameter and every
// optimizer moment equal to k, and extra.version = k: a file that mixes two versions, or is cut
// short, cannot pass `check`.
//   checkpoint_writer write PATH [COUNT]   writes versions after the one in PATH (1 if there is
//                                          none), COUNT of them, or until killed
//   checkpoint_writer check PATH           loads PATH, checks it is one whole version, prints k
#include <cstdlib>
#include <iostream>
#include <string>
#include <sys/stat.h>

#include <tapegrad/tapegrad.hpp>

using namespace tapegrad;

namespace {

// About 16 MB of parameters, and as much again of Adam moments: a write takes a while.
std::shared_ptr<nn::Sequential> make_model() {
    return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(1000, 2000),
                                            std::make_shared<nn::Linear>(2000, 1000));
}

// The version held by the checkpoint at `path`; throws if it is not one whole version.
long check(const std::string& path, nn::Module& model, optim::Adam& adam) {
    const NamedTypedArrays extra = optim::load_checkpoint(path, model, adam);
    const auto* version = extra.size() == 1 && extra[0].first == "version"
                              ? std::get_if<xt::xarray<std::int64_t>>(&extra[0].second)
                              : nullptr;
    if (!version || version->size() != 1) throw std::runtime_error(path + ": no extra.version");
    const auto k = static_cast<float>((*version)(0));
    auto all_k = [&](const Array& a, const std::string& what) {
        for (float v : a)
            if (v != k)
                throw std::runtime_error(path + ": " + what + " holds " + std::to_string(v) +
                                         " in version " + std::to_string(k));
    };
    for (const auto& [name, p] : model.named_parameters()) all_k(p.value(), "parameter " + name);
    std::size_t moments = 0;
    for (const auto& [name, a] : adam.state())
        if (name.rfind("exp_avg", 0) == 0) {
            all_k(std::get<Array>(a), "optimizer " + name);
            ++moments;
        }
    if (moments != 2 * model.parameters().size())
        throw std::runtime_error(path + ": the optimizer moments are missing");
    return static_cast<long>(k);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: checkpoint_writer write|check PATH [COUNT]\n";
        return 2;
    }
    const std::string mode = argv[1], path = argv[2];
    auto model = make_model();
    optim::Adam adam(model->parameters(), 0.01f);
    const optim::State settings = adam.state();  // lr, betas, ...: no moments before a step
    try {
        struct stat st {};
        long k = ::stat(path.c_str(), &st) == 0 ? check(path, *model, adam) : 0;
        if (mode == "check") {
            std::cout << k << "\n";
            return 0;
        }
        const long count = argc > 3 ? std::atol(argv[3]) : -1;
        std::cout << "writing" << std::endl;  // the test kills the writer only from here on
        for (long n = 0; count < 0 || n < count; ++n) {
            ++k;
            const float v = static_cast<float>(k);
            optim::State state = settings;
            const std::vector<Tensor> params = model->parameters();
            for (std::size_t i = 0; i < params.size(); ++i) {
                params[i].mutable_value().fill(v);
                const std::string at = "." + std::to_string(i);
                Array moment = Array::from_shape(params[i].value().shape());
                moment.fill(v);
                state.put("step" + at, 1.0f);
                state.put("exp_avg" + at, moment);
                state.put("exp_avg_sq" + at, moment);
            }
            adam.load_state(state);
            optim::save_checkpoint(path, *model, adam, {{"version", xt::xarray<std::int64_t>{k}}});
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "checkpoint_writer: " << e.what() << "\n";
        return 1;
    }
}
