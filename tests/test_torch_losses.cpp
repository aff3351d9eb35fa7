// The losses with PyTorch's names (ops/loss.hpp) against torch 1.13's values and gradients, from
// tests/data/torch_losses.npz (written by tests/data/make_loss_references.py), and their errors.

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace tapegrad;

namespace {

using T = const std::vector<Tensor>&;

// Each case of the reference file, as the same call in tapegrad.
const std::map<std::string, std::function<Tensor(T)>>& losses() {
    static const std::map<std::string, std::function<Tensor(T)>> table{
        {"mse_mean", [](T t) { return mse_loss(t[0], t[1]); }},
        {"l1_sum", [](T t) { return l1_loss(t[0], t[1], Reduction::sum); }},
        {"bce_soft_targets", [](T t) { return binary_cross_entropy(t[0], t[1]); }},
        {"bce_weight_none", [](T t) { return binary_cross_entropy(t[0], t[1], t[2], Reduction::none); }},
        {"bce_at_0_and_1", [](T t) { return binary_cross_entropy(t[0], t[1], {}, Reduction::sum); }},
        {"bce_with_logits", [](T t) { return binary_cross_entropy_with_logits(t[0], t[1]); }},
        {"bce_with_logits_pos_weight",
         [](T t) { return binary_cross_entropy_with_logits(t[0], t[1], t[2], t[3], Reduction::sum); }},
        {"nll_mean", [](T t) { return nll_loss(t[0], t[1]); }},
        {"nll_weight_ignore", [](T t) { return nll_loss(t[0], t[1], t[2], 1); }},
        {"nll_none", [](T t) { return nll_loss(t[0], t[1], {}, -100, Reduction::none); }},
        {"cross_entropy_weight_ignore_smoothing",
         [](T t) {
             return cross_entropy(t[0], t[1],
                                  CrossEntropyOptions().weight(t[2]).ignore_index(2).label_smoothing(0.1));
         }},
        {"cross_entropy_ignore_smoothing",
         [](T t) { return cross_entropy(t[0], t[1], CrossEntropyOptions().ignore_index(2).label_smoothing(0.2)); }},
        {"cross_entropy_smoothing_none",
         [](T t) {
             return cross_entropy(t[0], t[1], CrossEntropyOptions().label_smoothing(0.3).reduction(Reduction::none));
         }},
        {"cross_entropy_smoothing_sum",
         [](T t) {
             return cross_entropy(t[0], t[1], CrossEntropyOptions().label_smoothing(0.3).reduction(Reduction::sum));
         }},
        {"cross_entropy_probabilities_weight_smoothing",
         [](T t) { return cross_entropy(t[0], t[1], CrossEntropyOptions().weight(t[2]).label_smoothing(0.2)); }},
        {"smooth_l1_beta", [](T t) { return smooth_l1_loss(t[0], t[1], Reduction::mean, 0.5); }},
        {"smooth_l1_beta0", [](T t) { return smooth_l1_loss(t[0], t[1], Reduction::sum, 0.0); }},
        {"huber_delta", [](T t) { return huber_loss(t[0], t[1], Reduction::none, 0.7); }},
        {"kl_div_batchmean", [](T t) { return kl_div(t[0], t[1], Reduction::batchmean); }},
        {"kl_div_log_target_sum", [](T t) { return kl_div(t[0], t[1], Reduction::sum, true); }},
    };
    return table;
}

std::map<std::string, Array> references() {
    std::map<std::string, Array> arrays;
    for (auto& [name, typed] : load_npz(std::string(TAPEGRAD_TEST_DATA) + "/torch_losses.npz")) {
        const auto* a = std::get_if<xt::xarray<double>>(&typed);
        REQUIRE_MESSAGE(a, name << " is not float64");
        arrays[name] = xt::cast<float>(*a);
    }
    return arrays;
}

}  // namespace

TEST_CASE("torch's losses agree with PyTorch 1.13 on values and gradients") {
    const std::map<std::string, Array> refs = references();
    std::set<std::string> cases;
    for (const auto& entry : refs)
        if (entry.first.size() > 2 && entry.first.compare(entry.first.size() - 2, 2, ".y") == 0)
            cases.insert(entry.first.substr(0, entry.first.size() - 2));
    CHECK(cases.size() == losses().size());
    for (const std::string& name : cases) {
        INFO("case " << name);
        REQUIRE_MESSAGE(losses().count(name), "no C++ call for the case " << name);
        std::vector<Tensor> inputs;
        for (std::size_t k = 0; refs.count(name + ".in" + std::to_string(k)); ++k)
            inputs.emplace_back(refs.at(name + ".in" + std::to_string(k)), k == 0);
        const Tensor y = losses().at(name)(inputs);
        test::check_close(name + " value", y.value(), refs.at(name + ".y"));
        sum(y * Tensor(refs.at(name + ".w"))).backward();
        test::check_close(name + " gradient", inputs[0].grad(), refs.at(name + ".grad0"));
    }
}

TEST_CASE("torch's losses have second derivatives: gradgradcheck") {
    const Tensor target = Tensor::from({0.2f, 0.9f, 0.5f, 0.0f, 1.0f, 0.35f}, {2, 3});
    const Tensor classes = Tensor::from({2.0f, 0.0f}, {2});
    const Tensor weight = Tensor::from({0.5f, 1.5f, 2.0f}, {3});
    const Array start = Tensor::from({0.3f, -0.8f, 1.1f, -0.4f, 0.7f, 0.2f}, {2, 3}).value();
    const Array probabilities = Tensor::from({0.3f, 0.6f, 0.8f, 0.45f, 0.2f, 0.7f}, {2, 3}).value();
    CHECK_GRADGRAD(gradgradcheck([&](T x) { return binary_cross_entropy(x[0], target, weight); },
                                 {probabilities}));
    CHECK_GRADGRAD(gradgradcheck(
        [&](T x) { return binary_cross_entropy_with_logits(x[0], target, {}, weight); }, {start}));
    CHECK_GRADGRAD(gradgradcheck(
        [&](T x) {
            return cross_entropy(x[0], classes, CrossEntropyOptions().weight(weight).label_smoothing(0.1));
        },
        {start}));
    CHECK_GRADGRAD(gradgradcheck([&](T x) { return smooth_l1_loss(x[0], target, Reduction::sum, 0.5); },
                                 {start}));
    CHECK_GRADGRAD(gradgradcheck([&](T x) { return kl_div(log_softmax(x[0], 1), target); }, {start}));
}

// Runs f, which must throw E with a message holding each of `parts`.
template <class E, class F>
void check_error(F f, const std::vector<std::string>& parts) {
    try {
        f();
        FAIL("no exception; expected one mentioning " << parts.front());
    } catch (const E& e) {
        const std::string what = e.what();
        INFO(what);
        for (const std::string& part : parts) CHECK(what.find(part) != std::string::npos);
    }
}

TEST_CASE("torch's losses refuse bad input with errors naming it") {
    const Tensor p = Tensor::from({0.2f, 0.7f}, {2}, true);
    check_error<std::invalid_argument>(
        [&] { binary_cross_entropy(p, Tensor::from({0.5f, 1.5f}, {2})); },
        {"binary_cross_entropy", "targets", "[1]", "1.5"});
    check_error<std::invalid_argument>(
        [&] { binary_cross_entropy(Tensor::from({0.2f, 1.7f}, {2}), Tensor::from({0.0f, 1.0f}, {2})); },
        {"binary_cross_entropy", "input", "1.7", "binary_cross_entropy_with_logits"});
    const Tensor logits = Tensor::from({0.1f, 0.2f, 0.3f, 0.4f}, {2, 2}, true);
    check_error<std::invalid_argument>(
        [&] { nll_loss(logits, Tensor::from({0.0f, 5.0f}, {2})); },
        {"nll_loss", "sample 1", "5", "ignore_index"});
    check_error<std::invalid_argument>(
        [&] { nll_loss(logits, Tensor::from({0.0f, 1.0f}, {2}), Tensor::from({1.0f}, {1})); },
        {"nll_loss", "weight", "[2]", "[1]"});
    check_error<std::invalid_argument>(
        [&] { cross_entropy(logits, Tensor::from({0.0f, 1.0f}, {2}), CrossEntropyOptions().label_smoothing(1.5)); },
        {"cross_entropy", "label_smoothing", "1.5"});
    check_error<std::invalid_argument>(
        [&] { mse_loss(p, Tensor::from({0.0f, 1.0f}, {2}), Reduction::batchmean); }, {"batchmean", "kl_div"});
    check_error<std::invalid_argument>(
        [&] { huber_loss(p, Tensor::from({0.0f, 1.0f}, {2}), Reduction::mean, 0.0); }, {"huber_loss", "delta"});
    check_error<std::invalid_argument>(
        [&] { kl_div(p, Tensor::from({-0.5f, 1.0f}, {2})); }, {"kl_div", "[0]", "-0.5", "log_target"});
}

TEST_CASE("nll_loss's mean over a batch whose every sample is ignored is 0, with no gradient") {
    const Tensor logits = Tensor::from({0.1f, 0.2f, 0.3f, 0.4f}, {2, 2}, true);
    const Tensor loss = nll_loss(logits, Tensor::from({-100.0f, -100.0f}, {2}));
    CHECK(loss.item() == 0.0f);
    loss.backward();
    CHECK(xt::all(xt::equal(logits.grad(), 0.0f)));
}

TEST_CASE("the registry has torch's loss names, with torch's defaults") {
    auto& registry = nn::LossRegistry::instance();
    const Tensor a = Tensor::from({0.2f, 0.7f, 0.4f, 0.1f}, {2, 2});
    const Tensor y = Tensor::from({0.0f, 1.0f, 0.5f, 0.3f}, {2, 2});
    CHECK(registry.get("mse")(a, y).item() == mse_loss(a, y).item());
    CHECK(registry.get("l1", Reduction::sum)(a, y).item() == l1_loss(a, y, Reduction::sum).item());
    CHECK(registry.get("bce")(a, y).item() == binary_cross_entropy(a, y).item());
    CHECK(registry.get("bce_with_logits")(a, y).item() == binary_cross_entropy_with_logits(a, y).item());
    CHECK(registry.get("nll")(a, Tensor::from({1.0f, 0.0f}, {2})).item() ==
          nll_loss(a, Tensor::from({1.0f, 0.0f}, {2})).item());
    CHECK(registry.get("smooth_l1")(a, y).item() == smooth_l1_loss(a, y).item());
    CHECK(registry.get("huber")(a, y).item() == huber_loss(a, y).item());
    CHECK(registry.get("kl_div", Reduction::batchmean)(log(a), y).item() ==
          kl_div(log(a), y, Reduction::batchmean).item());
    CHECK(registry.get("kl_div")(log(a), y).item() != 0.0f);
}

TEST_CASE("cross_entropy's fast path gives its tensor form's gradients") {
    struct Restore {
        bool before = fast_derivatives();
        ~Restore() { use_fast_derivatives(before); }
    } restore;
    const Array logits = Tensor::from({0.3f, -0.8f, 1.1f, -0.4f, 0.7f, 0.2f, 2.0f, -1.5f, 0.0f}, {3, 3}).value();
    const Tensor classes = Tensor::from({2.0f, 0.0f, 1.0f}, {3});
    const Tensor soft = Tensor::from({0.2f, 0.5f, 0.3f, 0.0f, 1.0f, 0.0f, 0.6f, 0.3f, 0.3f}, {3, 3});
    for (const Tensor& target : {classes, soft})
        for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none}) {
            Array grads[2];
            for (int fast = 0; fast < 2; ++fast) {
                use_fast_derivatives(fast == 1);
                const Tensor a(logits, true);
                const Tensor loss = cross_entropy(a, target, r);
                sum(loss * Tensor(Array(xt::arange<float>(1.0f, 1.0f + static_cast<float>(loss.size()))))).backward();
                grads[fast] = a.grad();
            }
            CAPTURE(static_cast<int>(r));
            test::check_close("cross_entropy fast path", grads[1], grads[0]);
        }
}

TEST_CASE("torch's losses take an empty batch: a sum of 0, and no gradient") {
    const Tensor a(Array::from_shape({0, 3}), true);
    const Tensor p(Array::from_shape({0, 3}), true);
    const Tensor y(Array::from_shape({0, 3}));
    const Tensor classes(Array::from_shape({0}));
    const Tensor w = Tensor::from({1.0f, 2.0f, 3.0f}, {3});
    const std::vector<Tensor> sums{
        mse_loss(a, y, Reduction::sum), l1_loss(a, y, Reduction::sum),
        binary_cross_entropy(p, y, w, Reduction::sum),
        binary_cross_entropy_with_logits(a, y, w, w, Reduction::sum),
        nll_loss(a, classes, w, -100, Reduction::sum),
        cross_entropy(a, classes, CrossEntropyOptions().weight(w).label_smoothing(0.1).reduction(Reduction::sum)),
        cross_entropy(a, y, CrossEntropyOptions().label_smoothing(0.1).reduction(Reduction::sum)),
        smooth_l1_loss(a, y, Reduction::sum, 0.5), huber_loss(a, y, Reduction::sum, 0.5),
        kl_div(a, y, Reduction::sum), kl_div(a, y, Reduction::sum, true)};
    for (const Tensor& loss : sums) {
        CHECK(loss.item() == 0.0f);
        loss.backward();
    }
    CHECK(a.grad().size() == 0);
}
