// Training on several threads at once: each thread has its own tape, and what the threads share
// (the thread pool, OpenBLAS, the node and array caches, the random generator) must neither
// race nor change a result. scripts/sanitize.sh thread runs this under ThreadSanitizer.
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace tapegrad;

namespace {

// A small CNN whose steps reach both kinds of threads: the convolution splits its 16 images
// over tapegrad's pool (parallel_for), and the 256 -> 64 Linear's products (16 x 64 x 256) are
// large enough for OpenBLAS to split over its own threads.
std::shared_ptr<nn::Sequential> make_model(std::uint64_t seed) {
    manual_seed(seed);
    return std::make_shared<nn::Sequential>(
        std::make_shared<nn::Conv2D>(nn::Conv2dOptions(1, 4, 3).padding(1)), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(256, 64),
        std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(64, 10));
}

struct Data {
    std::vector<Array> images, labels;
};

// Four batches of 16 images 8 x 8 and their labels, different for every model.
Data make_data(std::uint32_t seed) {
    Data d;
    for (std::uint32_t b = 0; b < 4; ++b) {
        d.images.push_back(test::random_array({16, 1, 8, 8}, -1.0f, 1.0f, seed * 10 + b));
        Array labels = Array::from_shape({16});
        for (std::size_t i = 0; i < 16; ++i) labels(i) = float((seed + b * 3 + i * 7) % 10);
        d.labels.push_back(std::move(labels));
    }
    return d;
}

// SGD with momentum for `steps` steps; returns the parameters' values.
std::vector<Array> train(nn::Sequential& model, const Data& data, int steps) {
    optim::SGD sgd(model.parameters(), optim::SGDOptions(0.05).momentum(0.9));
    for (int step = 0; step < steps; ++step) {
        const std::size_t b = std::size_t(step) % data.images.size();
        const Tensor loss = cross_entropy(model(Tensor(data.images[b])), Tensor(data.labels[b]));
        sgd.zero_grad();
        loss.backward();
        sgd.step();
    }
    std::vector<Array> values;
    for (const Tensor& p : model.parameters()) values.push_back(p.value());
    return values;
}

}  // namespace

TEST_CASE("four models trained on four threads at once each equal the same training alone, bit for bit") {
    test::ScopedThreads threads(2);
    constexpr int models = 4, steps = 2000;
    std::vector<Data> data;
    for (int m = 0; m < models; ++m) data.push_back(make_data(std::uint32_t(m + 1)));

    std::vector<std::vector<Array>> alone;
    for (int m = 0; m < models; ++m) alone.push_back(train(*make_model(100 + m), data[m], steps));

    // The models are made first (their weights come from the one generator, in order), then
    // trained at once.
    std::vector<std::shared_ptr<nn::Sequential>> shared;
    for (int m = 0; m < models; ++m) shared.push_back(make_model(100 + m));
    std::vector<std::vector<Array>> together(models);
    std::vector<std::string> errors(models);
    std::vector<std::thread> workers;
    for (int m = 0; m < models; ++m)
        workers.emplace_back([&, m] {
            try {
                together[m] = train(*shared[m], data[m], steps);
            } catch (const std::exception& e) {
                errors[m] = e.what();
            }
        });
    for (std::thread& t : workers) t.join();

    for (int m = 0; m < models; ++m) {
        CAPTURE(m);
        REQUIRE(errors[m] == "");
        REQUIRE(together[m].size() == alone[m].size());
        for (std::size_t p = 0; p < alone[m].size(); ++p) {
            CAPTURE(p);
            // Training did move the weights, and every bit of them is the same either way.
            CHECK(together[m][p].shape() == alone[m][p].shape());
            CHECK(std::equal(together[m][p].begin(), together[m][p].end(), alone[m][p].begin()));
        }
        CHECK_FALSE(std::equal(alone[m][0].begin(), alone[m][0].end(),
                               make_model(100 + m)->parameters()[0].value().begin()));
    }
}

TEST_CASE("a graph built on one thread refuses backward on another, and both threads stay usable") {
    const Tensor x(Array{1.0f, 2.0f}, true);
    const Tensor y = sum(x * x);
    std::string message;
    std::thread other([&] {
        try {
            y.backward();
        } catch (const std::exception& e) {
            message = e.what();
        }
        // This thread's own graph still works.
        const Tensor z(Array{3.0f}, true);
        sum(z * z).backward();
        CHECK(z.grad()(0) == 6.0f);
    });
    other.join();
    CHECK(message.find("another thread") != std::string::npos);
    y.backward();
    CHECK(x.grad()(0) == 2.0f);
    CHECK(x.grad()(1) == 4.0f);
}
