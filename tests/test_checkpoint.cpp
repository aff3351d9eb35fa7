#include <cstdio>
#include <filesystem>

#include "helpers.hpp"

using namespace tapegrad;

namespace {

std::shared_ptr<nn::Sequential> small_model() {
    return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(3, 4),
                                            std::make_shared<nn::Tanh>(),
                                            std::make_shared<nn::Linear>(4, 2));
}

void train_steps(nn::Module& model, optim::Optimizer& opt, int steps) {
    const Array x = test::random_array({5, 3}, -1, 1, 11);
    const Array y{0.0f, 1.0f, 1.0f, 0.0f, 1.0f};
    for (int i = 0; i < steps; ++i) {
        Tensor loss = cross_entropy(model(Tensor(x)), Tensor(y));
        opt.zero_grad();
        loss.backward();
        opt.step();
    }
}

std::string temp_path(const char* name) {
    return (std::filesystem::temp_directory_path() / name).string();
}

}  // namespace

TEST_CASE("a resumed run continues bit for bit like an uninterrupted one") {
    for (const bool adam : {false, true}) {
        CAPTURE(adam);
        manual_seed(3);
        auto straight = small_model();
        std::unique_ptr<optim::Optimizer> opt_a =
            adam ? std::unique_ptr<optim::Optimizer>(new optim::Adam(straight->parameters(), 0.01f))
                 : std::unique_ptr<optim::Optimizer>(new optim::SGD(straight->parameters(), optim::SGDOptions(0.1).momentum(0.9).nesterov(true)));
        train_steps(*straight, *opt_a, 3);
        const std::string path = temp_path("tapegrad_test_checkpoint.npz");
        optim::save_checkpoint(path, *straight, *opt_a,
                               {{"epoch", xt::xarray<std::int64_t>{3}},
                                {"loss", xt::xarray<double>{0.1}},
                                {"note", text_array("three steps")}});
        train_steps(*straight, *opt_a, 3);

        manual_seed(99);  // different weights: the checkpoint must overwrite them
        auto resumed = small_model();
        std::unique_ptr<optim::Optimizer> opt_b =
            adam ? std::unique_ptr<optim::Optimizer>(new optim::Adam(resumed->parameters(), 0.5f))
                 : std::unique_ptr<optim::Optimizer>(new optim::SGD(resumed->parameters(), optim::SGDOptions(0.5).momentum(0.9).nesterov(true)));
        const NamedTypedArrays extra = optim::load_checkpoint(path, *resumed, *opt_b);
        REQUIRE(extra.size() == 3);
        CHECK(extra[0].first == "epoch");
        CHECK(std::get<xt::xarray<std::int64_t>>(extra[0].second)(0) == 3);
        CHECK(std::get<xt::xarray<double>>(extra[1].second)(0) == 0.1);  // every bit of 0.1
        CHECK(array_text(extra[2].second, "note") == "three steps");
        train_steps(*resumed, *opt_b, 3);
        const auto a = straight->named_parameters(), b = resumed->named_parameters();
        for (std::size_t i = 0; i < a.size(); ++i) {
            CAPTURE(a[i].first);
            CHECK(a[i].second.value() == b[i].second.value());
        }
        std::remove(path.c_str());
    }
}

TEST_CASE("a checkpoint that does not fit the optimizer leaves the model unchanged") {
    manual_seed(1);
    auto model = small_model();
    optim::SGD sgd(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    train_steps(*model, sgd, 1);
    const std::string path = temp_path("tapegrad_test_checkpoint_sgd.npz");
    optim::save_checkpoint(path, *model, sgd);

    manual_seed(2);
    auto other = small_model();
    const Array before = other->named_parameters()[0].second.value();
    optim::Adam adam(other->parameters());
    CHECK_THROWS_WITH_AS(optim::load_checkpoint(path, *other, adam),
                         doctest::Contains("the optimizer state does not fit"), std::runtime_error);
    CHECK(other->named_parameters()[0].second.value() == before);
    std::remove(path.c_str());
}

TEST_CASE("a plain model file is not a checkpoint and says so") {
    manual_seed(1);
    auto model = small_model();
    optim::SGD sgd(model->parameters(), 0.1f);
    const std::string path = temp_path("tapegrad_test_model_only.npz");
    nn::save(*model, path);
    CHECK_THROWS_WITH_AS(optim::load_checkpoint(path, *model, sgd),
                         doctest::Contains("not model.*, optimizer.*, scheduler.*, random.generator or extra.*"), std::runtime_error);
    std::remove(path.c_str());
}

TEST_CASE("a checkpoint carries the scheduler's state, and a missing or unfit one changes nothing") {
    test::TempDir dir;
    auto make = [] {
        manual_seed(5);
        return std::make_shared<nn::Linear>(3, 2);
    };
    auto model = make();
    optim::SGD sgd(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    optim::CosineAnnealingLR schedule(sgd, 10);
    for (int t = 0; t < 4; ++t) schedule.step();
    optim::save_checkpoint(dir.file("run.npz"), *model, sgd, schedule, {{"epoch", xt::xarray<std::int64_t>(4)}});
    optim::save_checkpoint(dir.file("plain.npz"), *model, sgd);

    auto model2 = make();
    optim::SGD sgd2(model2->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    optim::CosineAnnealingLR schedule2(sgd2, 10);
    const NamedTypedArrays extra = optim::load_checkpoint(dir.file("run.npz"), *model2, sgd2, schedule2);
    CHECK(extra.size() == 1);
    CHECK(schedule2.epoch() == 4);
    CHECK(sgd2.lr() == sgd.lr());
    schedule.step();
    schedule2.step();
    CHECK(sgd2.lr() == sgd.lr());

    // A file without scheduler state, or with one that does not fit: nothing changes.
    optim::CosineAnnealingLR fresh(sgd2, 10);
    CHECK_THROWS_WITH_AS(optim::load_checkpoint(dir.file("plain.npz"), *model2, sgd2, fresh),
                         doctest::Contains("holds no scheduler state"), std::runtime_error);
    NamedTypedArrays arrays = load_npz(dir.file("run.npz"));
    for (auto& [name, value] : arrays)
        if (name == "scheduler.epoch") value = xt::xarray<std::int64_t>(-1);
    save_npz(dir.file("bad.npz"), arrays);
    model2->weight.mutable_value().fill(7.0f);
    CHECK_THROWS_WITH_AS(optim::load_checkpoint(dir.file("bad.npz"), *model2, sgd2, fresh),
                         doctest::Contains("the scheduler state does not fit"), std::runtime_error);
    CHECK(model2->weight.value()(0, 0) == 7.0f);
    CHECK(fresh.epoch() == 0);
    // The plain overload skips the scheduler's entries.
    CHECK_NOTHROW(optim::load_checkpoint(dir.file("run.npz"), *model2, sgd2));
}

TEST_CASE("a checkpoint keeps the random generator, so dropout draws the same masks after a resume") {
    test::TempDir dir;
    manual_seed(11);
    nn::Sequential model{nn::Linear(4, 4), nn::Dropout(0.5f)};
    optim::SGD sgd(model.parameters(), 0.1f);
    const Tensor x(test::random_array({3, 4}));
    optim::save_checkpoint(dir.file("ck.npz"), model, sgd);
    const Array first = model(x).value();   // draws a mask
    const Array second = model(x).value();  // and another
    optim::load_checkpoint(dir.file("ck.npz"), model, sgd);
    CHECK(model(x).value() == first);
    CHECK(model(x).value() == second);
    CHECK_THROWS_WITH_AS(set_generator_state("not a state"),
                         doctest::Contains("set_generator_state: the text is not a state"),
                         std::invalid_argument);
}
