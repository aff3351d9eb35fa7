// The MNIST workloads (training one epoch, inference on the test set) and the tape-overhead chain.
// bench/torch_bench.py does the same work on the PyTorch side; keep the two in step.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <stdexcept>

#include <tapegrad/tapegrad.hpp>

#include "../examples/char_model/model.hpp"
#include "../examples/mnist/models.hpp"
#include "bench.hpp"

namespace bench {

namespace {

using namespace tapegrad;

MnistLayout layout_for(const std::string& model) {
    return mnist::takes_images(model) ? MnistLayout::image : MnistLayout::flat;
}

double mean_of(const std::vector<double>& v, std::size_t from, std::size_t to) {
    if (to <= from) return NAN;
    double total = 0.0;
    for (std::size_t i = from; i < to; ++i) total += v[i];
    return total / static_cast<double>(to - from);
}

bool all_finite(const nn::Module& model) {
    for (const Tensor& p : model.parameters())
        for (float v : p.value())
            if (!std::isfinite(v)) return false;
    return true;
}

}  // namespace

// One epoch: shuffled batches, the example's model, cross-entropy, SGD(lr 0.01, momentum 0.9).
// The clock covers the whole loop, including turning each batch's bytes into floats (PyTorch's
// side does the same per batch); reading the files is before it.
int run_train(const Options& o) {
    const MNIST train_set(o.data, MnistSplit::train, layout_for(o.model));
    const Prefix data(train_set, o.limit);
    manual_seed(o.seed);
    auto model = mnist::make_model(o.model, 10);
    optim::SGD sgd(model->parameters(), optim::SGDOptions(0.01).momentum(0.9));
    const nn::LossFn loss_fn = nn::LossRegistry::instance().get("cross_entropy");
    const DataLoader loader(data, o.batch, /*shuffle=*/true, o.seed);

    std::vector<double> losses;
    losses.reserve(loader.num_batches());
    std::size_t images = 0;
    const double start = now();
    for (Batch batch : loader.epoch(0)) {  // each batch is made anew: its arrays move in
        images += batch.targets.size();
        const Tensor loss =
            loss_fn((*model)(Tensor(std::move(batch.inputs))), Tensor(std::move(batch.targets)));
        sgd.zero_grad(/*set_to_none=*/true);
        loss.backward();
        sgd.step();
        losses.push_back(loss.item());
    }
    const double seconds = now() - start;

    const std::size_t n = losses.size(), window = std::min<std::size_t>(50, n);
    bool finite = all_finite(*model);
    for (double l : losses) finite = finite && std::isfinite(l);
    std::cout << Json()
                     .str("side", "tapegrad")
                     .str("workload", "train_" + o.model)
                     .num("threads", o.threads)
                     .num("batch", static_cast<double>(o.batch))
                     .num("images", static_cast<double>(images))
                     .num("seconds", seconds)
                     .num("value", images / seconds)
                     .str("unit", "images/s")
                     .num("loss_first", mean_of(losses, 0, window))
                     .num("loss_last", mean_of(losses, n - window, n))
                     .num("loss_mean", mean_of(losses, 0, n))
                     .boolean("ok", finite)
                     .num("peak_rss_mb", peak_rss_mb())
                     .dump()
              << std::endl;
    return 0;
}

// Forward passes over the test images under NoGrad, in eval mode. The batches are converted to
// floats before the clock starts (so this measures the model, not the data); passes repeat until
// a second has gone by, after one untimed pass over a few batches to warm up.
int run_infer(const Options& o) {
    const MNIST test_set(o.data, MnistSplit::test, layout_for(o.model));
    const Prefix data(test_set, o.limit);
    manual_seed(1);
    auto model = mnist::make_model(o.model, 10);
    model->eval();
    const DataLoader loader(data, o.batch);  // named: an Epoch points to its loader
    std::vector<Tensor> inputs;
    for (const Batch& batch : loader.epoch(0)) inputs.emplace_back(batch.inputs);

    NoGrad no_grad;
    double checksum = 0.0;  // uses every output, and shows the two sides ran the same shapes
    for (std::size_t b = 0; b < std::min<std::size_t>(5, inputs.size()); ++b)
        (*model)(inputs[b]);
    std::size_t images = 0, passes = 0;
    const double start = now();
    double seconds = 0.0;
    do {
        for (const Tensor& x : inputs) {
            const Tensor y = (*model)(x);
            checksum += static_cast<double>(y.value()(0, 0));
            images += x.shape()[0];
        }
        ++passes;
        seconds = now() - start;
    } while (seconds < 1.0);

    std::cout << Json()
                     .str("side", "tapegrad")
                     .str("workload", "infer_" + o.model)
                     .num("threads", o.threads)
                     .num("batch", static_cast<double>(o.batch))
                     .num("images", static_cast<double>(images))
                     .num("passes", static_cast<double>(passes))
                     .num("seconds", seconds)
                     .num("value", images / seconds)
                     .str("unit", "images/s")
                     .boolean("ok", std::isfinite(checksum))
                     .num("peak_rss_mb", peak_rss_mb())
                     .dump()
              << std::endl;
    return 0;
}

// The character models of examples/char_model: `steps` AdamW steps (lr 3e-3, gradients clipped
// to norm 1) on windows of 64 random characters of a 76-letter alphabet, --batch windows a step
// (the example's 32 by default in bench/compare.py); tokens/s. The windows are drawn before the
// clock starts.
int run_seq(const Options& o) {
    const std::size_t alphabet = 76, length = 64, steps = o.limit ? o.limit : 20;
    char_model::ModelSize size;
    if (o.model == "transformer") {
        size.dim = 128;
        size.layers = 2;
    }
    size.context = length;
    manual_seed(o.seed);
    char_model::CharModel model(o.model, alphabet, size);
    optim::AdamW adamw(optim::decay_groups(model.parameters()), 3e-3f);
    std::vector<Tensor> inputs, targets;
    for (std::size_t s = 0; s <= steps; ++s) {  // step 0 warms up and is not counted
        Array x = uniform_array({length, o.batch}, 0.0f, static_cast<float>(alphabet));
        Array y = uniform_array({length * o.batch}, 0.0f, static_cast<float>(alphabet));
        inputs.emplace_back(Array(xt::floor(x)));
        targets.emplace_back(Array(xt::floor(y)));
    }
    std::vector<double> losses;
    double start = 0.0;
    for (std::size_t s = 0; s <= steps; ++s) {
        if (s == 1) start = now();
        const Tensor logits = model(inputs[s]);
        const Tensor loss = cross_entropy(reshape(logits, {length * o.batch, alphabet}), targets[s]);
        adamw.zero_grad(/*set_to_none=*/true);
        loss.backward();
        optim::clip_grad_norm(adamw.params(), 1.0);
        adamw.step();
        losses.push_back(loss.item());
    }
    const double seconds = now() - start;
    bool finite = all_finite(model);
    for (double l : losses) finite = finite && std::isfinite(l);
    const double tokens = static_cast<double>(steps * length * o.batch);
    std::cout << Json()
                     .str("side", "tapegrad")
                     .str("workload", "seq_" + o.model)
                     .num("threads", o.threads)
                     .num("batch", static_cast<double>(o.batch))
                     .num("steps", static_cast<double>(steps))
                     .num("seconds", seconds)
                     .num("value", tokens / seconds)
                     .str("unit", "tokens/s")
                     .num("loss_first", losses.front())
                     .num("loss_last", losses.back())
                     .boolean("ok", finite)
                     .num("peak_rss_mb", peak_rss_mb())
                     .dump()
              << std::endl;
    return 0;
}

// y = x, then y = y * 1.0001 and y = y + 0.0001 alternately, `ops` ops in all, on a one-element
// tensor that requires grad; then y.backward(). dy/dx = 1.0001^(number of multiplications).
int run_tape(const Options& o) {
    const Tensor x(Array{1.0f}, true);
    std::vector<double> forward, backward, release;
    float grad = NAN;
    for (std::size_t rep = 0; rep <= o.reps; ++rep) {  // rep 0 warms up and is not counted
        x.zero_grad();
        const double t0 = now();
        Tensor y = x;
        for (std::size_t i = 0; i < o.ops; ++i) y = (i % 2 == 0) ? y * 1.0001f : y + 0.0001f;
        const double t1 = now();
        y.backward();
        const double t2 = now();
        y = Tensor();
        const double t3 = now();
        grad = x.grad()(0);
        if (rep == 0) continue;
        forward.push_back(t1 - t0);
        backward.push_back(t2 - t1);
        release.push_back(t3 - t2);
    }
    const double expected = std::pow(1.0001, static_cast<double>((o.ops + 1) / 2));
    const bool correct = std::isfinite(grad) && std::abs(grad - expected) <= 1e-2 * expected;
    const double per_op = 1e9 / static_cast<double>(o.ops);
    std::cout << Json()
                     .str("side", "tapegrad")
                     .str("workload", "tape")
                     .num("threads", o.threads)
                     .num("ops", static_cast<double>(o.ops))
                     .num("reps", static_cast<double>(o.reps))
                     .num("value", (median(forward) + median(backward)) * per_op)
                     .str("unit", "ns/op")
                     .num("forward_ns_per_op", median(forward) * per_op)
                     .num("backward_ns_per_op", median(backward) * per_op)
                     .num("release_ns_per_op", median(release) * per_op)
                     .num("grad", grad)
                     .num("grad_expected", expected)
                     .boolean("ok", correct)
                     .num("peak_rss_mb", peak_rss_mb())
                     .dump()
              << std::endl;
    return 0;
}

}  // namespace bench
