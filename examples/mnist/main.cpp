// Trains and evaluates digit classifiers on MNIST; compares losses; predicts a digit from a PGM.
//
//   mnist                                   the CNN with cross-entropy (the quick start)
//   mnist --model mlp --loss squared        the tutorial's sigmoid MLP with squared error
//   mnist --compare-losses --plot cmp.png   squared error vs cross-entropy, same everything else
//   mnist --load cnn.npz --predict 7.pgm    the digit in a 28x28 PGM image
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include <tapegrad/tapegrad.hpp>

#include "../common/progress.hpp"
#include "heads.hpp"
#include "models.hpp"

namespace {

using namespace tapegrad;
using examples::EpochMetrics;
using mnist::Head;

struct Options {
    std::string model = "cnn";
    std::string loss = "cross_entropy";
    std::size_t epochs = 8;
    std::size_t batch_size = 64;
    float lr = 0.05f;
    float momentum = 0.9f;
    std::string optimizer = "sgd";
    std::string schedule = "cosine";
    std::uint64_t seed = 1;
    int threads = 0;
    std::string data = "datasets/mnist";
    std::string save, load, predict, metrics, plot;
    bool compare_losses = false;
    std::size_t limit = 0;
    bool verbose = false;
};

// The first `n` examples of a dataset (all of them when n is 0).
class Prefix : public Dataset {
  public:
    Prefix(const Dataset& base, std::size_t n)
        : base_(base), n_(n == 0 ? base.size() : std::min(n, base.size())) {}
    std::size_t size() const override { return n_; }
    Batch get_batch(const std::vector<std::size_t>& indices) const override {
        return base_.get_batch(indices);
    }

  private:
    const Dataset& base_;
    std::size_t n_;
};

std::unique_ptr<optim::Optimizer> make_optimizer(const Options& o, const nn::Module& model) {
    if (o.optimizer == "sgd")
        return std::make_unique<optim::SGD>(model.parameters(), o.lr, o.momentum);
    return std::make_unique<optim::Adam>(model.parameters(), o.lr);
}

nn::LossFn loss_function(const Head& head) {
    return nn::LossRegistry::instance().get(head.loss == "digit_squared" ? "squared" : head.loss);
}

// Mean loss and accuracy over a dataset, without recording.
std::pair<double, double> evaluate(nn::Module& model, const Head& head, const Dataset& data) {
    NoGrad no_grad;
    model.eval();
    const nn::LossFn loss_fn = loss_function(head);
    DataLoader loader(data, 1000);
    double loss_sum = 0, correct = 0;
    for (const Batch& batch : loader.epoch(0)) {
        const Tensor outputs = model(Tensor(batch.inputs));
        const double n = static_cast<double>(batch.targets.size());
        loss_sum += n * loss_fn(mnist::predict(head, outputs),
                                Tensor(mnist::targets(head, batch.targets))).item();
        const Array predicted = mnist::classes(head, outputs.value());
        for (std::size_t i = 0; i < predicted.size(); ++i)
            correct += predicted(i) == batch.targets(i) ? 1 : 0;
    }
    model.train();
    return {loss_sum / data.size(), correct / data.size()};
}

// Trains one model from scratch; returns the metrics of every epoch.
std::vector<EpochMetrics> train(const Options& o, const Head& head, const Dataset& train_set,
                                const Dataset& test_set, const std::string& tag) {
    manual_seed(o.seed);
    auto model = mnist::make_model(o.model, head.outputs);
    if (!o.load.empty()) nn::load(*model, o.load);
    auto optimizer = make_optimizer(o, *model);
    const nn::LossFn loss_fn = loss_function(head);
    DataLoader loader(train_set, o.batch_size, /*shuffle=*/true, o.seed);

    std::vector<EpochMetrics> history;
    for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
        if (o.schedule == "cosine")  // from lr down towards 0 over the run, set per epoch
            optimizer->set_lr(static_cast<float>(
                0.5 * o.lr * (1 + std::cos(M_PI * static_cast<double>(epoch - 1) / o.epochs))));
        examples::Progress progress(tag + "epoch " + std::to_string(epoch) + "/" +
                                        std::to_string(o.epochs),
                                    loader.num_batches(), o.batch_size);
        double loss_sum = 0;
        std::size_t seen = 0, b = 0;
        for (const Batch& batch : loader.epoch(epoch)) {
            ++b;
            const Tensor outputs = (*model)(Tensor(batch.inputs));
            const Tensor loss = loss_fn(mnist::predict(head, outputs),
                                        Tensor(mnist::targets(head, batch.targets)));
            const float value = loss.item();
            if (!std::isfinite(value))
                throw std::runtime_error(
                    "training diverged: the loss is " + std::to_string(value) + " at epoch " +
                    std::to_string(epoch) + ", batch " + std::to_string(b) +
                    "; the learning rate (" + std::to_string(o.lr) + ") is likely too high");
            optimizer->zero_grad();
            loss.backward();
            optimizer->step();
            loss_sum += value * batch.targets.size();
            seen += batch.targets.size();
            progress.update(b, static_cast<float>(loss_sum / seen));
        }
        progress.finish();
        EpochMetrics m;
        m.epoch = epoch;
        m.seconds = progress.seconds();
        m.train_loss = loss_sum / seen;
        m.images_per_second = seen / m.seconds;
        std::tie(m.test_loss, m.test_accuracy) = evaluate(*model, head, test_set);
        std::cout << tag << "epoch " << epoch << "/" << o.epochs << std::fixed
                  << std::setprecision(4) << "  train loss " << m.train_loss << "  test loss "
                  << m.test_loss << "  test accuracy " << std::setprecision(2)
                  << 100 * m.test_accuracy << " %  " << std::setprecision(1) << m.seconds
                  << " s  " << std::setprecision(0) << m.images_per_second << " img/s"
                  << std::defaultfloat << std::endl;
        history.push_back(m);
        if (!o.metrics.empty()) examples::write_metrics(o.metrics, history);
    }
    if (!o.save.empty()) {
        nn::save(*model, o.save);
        std::cout << "saved the model to " << o.save << "\n";
    }
    return history;
}

int predict(const Options& o) {
    if (o.load.empty())
        throw std::invalid_argument("--predict needs a trained model: add --load MODEL.npz");
    const PgmImage image = read_pgm(o.predict, 28, 28);
    auto model = mnist::make_model(o.model, 10);
    nn::load(*model, o.load);
    model->eval();
    Array x = image.pixels;
    if (mnist::takes_images(o.model)) x.reshape({1, 1, 28, 28});
    else x.reshape({1, 784});
    NoGrad no_grad;
    const Array p = softmax_array((*model)(Tensor(x)).value());
    std::size_t best = 0;
    for (std::size_t k = 1; k < 10; ++k)
        if (p(0, k) > p(0, best)) best = k;
    std::cout << "digit " << best << "\n";
    for (std::size_t k = 0; k < 10; ++k)
        std::cout << "  " << k << "  " << std::fixed << std::setprecision(4) << p(0, k) << "\n";
    return 0;
}

void plot(const std::string& path, const std::vector<std::string>& names,
          const std::vector<std::vector<EpochMetrics>>& runs) {
    if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
        std::cout << "(--plot skipped: gnuplot is not installed; apt-get install gnuplot-nox)\n";
        return;
    }
    const std::string data = path + ".dat", script = path + ".gp";
    {
        std::ofstream out(data);
        for (std::size_t r = 0; r < runs.size(); ++r) {
            out << "# " << names[r] << "\n";
            for (const EpochMetrics& m : runs[r]) out << m.epoch << ' ' << 100 * m.test_accuracy << '\n';
            out << "\n\n";
        }
        std::ofstream gp(script);
        gp << "set terminal pngcairo size 800,500\nset output '" << path << "'\n"
           << "set title 'MNIST test accuracy per epoch: squared error vs cross-entropy'\n"
           << "set xlabel 'epoch'\nset ylabel 'test accuracy (%)'\nset key bottom right\n"
           << "set grid\nplot ";
        for (std::size_t r = 0; r < runs.size(); ++r)
            gp << (r ? ", " : "") << "'" << data << "' index " << r
               << " with linespoints lw 2 title '" << names[r] << "'";
        gp << "\n";
    }
    const int code = std::system(("gnuplot '" + script + "'").c_str());
    std::remove(data.c_str());
    std::remove(script.c_str());
    if (code != 0) throw std::runtime_error("--plot: gnuplot failed to draw " + path);
    std::cout << "plotted " << path << "\n";
}

int compare_losses(const Options& o, const Dataset& train_set, const Dataset& test_set) {
    const std::vector<std::string> losses{"digit_squared", "squared", "cross_entropy"};
    const std::vector<std::string> titles{"(a) squared, 1 output = digit",
                                          "(b) squared, softmax vs one-hot",
                                          "(c) cross-entropy on logits"};
    std::vector<std::vector<EpochMetrics>> runs;
    for (std::size_t i = 0; i < losses.size(); ++i) {
        std::cout << "== " << titles[i] << "\n";
        runs.push_back(train(o, mnist::head_for(losses[i]), train_set, test_set,
                             std::string(1, "abc"[i]) + ") "));
    }
    std::cout << "\nTest accuracy (%) per epoch, model " << o.model << ", same seed (" << o.seed
              << "), data, optimizer and learning rate (" << o.lr << "):\n\n| epoch |";
    for (const auto& t : titles) std::cout << " " << t << " |";
    std::cout << "\n|---|";
    for (std::size_t i = 0; i < titles.size(); ++i) std::cout << "---|";
    std::cout << "\n";
    for (std::size_t e = 0; e < o.epochs; ++e) {
        std::cout << "| " << e + 1 << " |";
        for (const auto& run : runs)
            std::cout << " " << std::fixed << std::setprecision(2) << 100 * run[e].test_accuracy
                      << " |";
        std::cout << "\n";
    }
    std::vector<std::size_t> order{0, 1, 2};
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return runs[a].back().test_accuracy > runs[b].back().test_accuracy;
    });
    std::cout << "\nRanking by final test accuracy:\n";
    for (std::size_t r = 0; r < order.size(); ++r)
        std::cout << "  " << r + 1 << ". " << titles[order[r]] << "  " << std::setprecision(2)
                  << 100 * runs[order[r]].back().test_accuracy << " %\n";
    if (!o.plot.empty()) plot(o.plot, titles, runs);
    return 0;
}

int run(const Options& o) {
    if (o.threads > 0) set_num_threads(o.threads);
    if (o.verbose)
        std::cout << "threads: " << num_threads() << "; BLAS: " << to_string(blas_info()) << "\n";
    if (!o.predict.empty()) return predict(o);

    const MnistLayout layout = mnist::takes_images(o.model) ? MnistLayout::image : MnistLayout::flat;
    const MNIST train_full(o.data, MnistSplit::train, layout);
    const MNIST test_full(o.data, MnistSplit::test, layout);
    const Prefix train_set(train_full, o.limit), test_set(test_full, o.limit);
    std::cout << "MNIST: " << train_set.size() << " training and " << test_set.size()
              << " test images from " << o.data << "; model " << o.model << ", batch "
              << o.batch_size << ", " << o.optimizer << " lr " << o.lr << "\n";
    if (o.compare_losses) return compare_losses(o, train_set, test_set);
    const Head head = mnist::head_for(o.loss);
    std::cout << "loss: " << o.loss << " (" << head.description << ")\n";
    train(o, head, train_set, test_set, "");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    const CLI::Validator positive(
        [](std::string& s) {
            return std::strtod(s.c_str(), nullptr) > 0 ? "" : "must be above 0, got " + s;
        },
        "> 0");
    CLI::App app{"Train a digit classifier on MNIST with tapegrad"};
    app.add_option("--model", o.model, "cnn, mlp (784-10-10-10 sigmoid) or relu_mlp (784-256-256-10)")
        ->check(CLI::IsMember(mnist::model_names()))->capture_default_str();
    app.add_option("--loss", o.loss, "a LossRegistry loss that fits a 10-class output")
        ->capture_default_str();
    app.add_option("--epochs", o.epochs, "passes over the training set")
        ->check(CLI::Range(1, 1000))->capture_default_str();
    app.add_option("--batch-size", o.batch_size, "images per step")
        ->check(CLI::Range(1, 60000))->capture_default_str();
    app.add_option("--lr", o.lr, "learning rate")->check(positive)->capture_default_str();
    app.add_option("--momentum", o.momentum, "SGD momentum")
        ->check(CLI::Range(0.0, 0.999999))->capture_default_str();
    app.add_option("--optimizer", o.optimizer, "sgd or adam")
        ->check(CLI::IsMember({"sgd", "adam"}))->capture_default_str();
    app.add_option("--schedule", o.schedule, "learning rate per epoch: constant, or cosine (lr "
                   "decaying towards 0 over the epochs)")
        ->check(CLI::IsMember({"constant", "cosine"}))->capture_default_str();
    app.add_option("--seed", o.seed, "seeds the weights and the shuffling")->capture_default_str();
    app.add_option("--threads", o.threads, "threads for tapegrad and OpenBLAS (default: all cores)")
        ->check(CLI::Range(1, 256));
    app.add_option("--data", o.data, "folder with the MNIST IDX files (scripts/fetch_data.sh)")
        ->capture_default_str();
    app.add_option("--save", o.save, "write the trained model (.npz)");
    app.add_option("--load", o.load, "start from (or predict with) a saved model");
    app.add_option("--predict", o.predict, "print the digit in a 28x28 PGM image, with --load");
    app.add_option("--metrics", o.metrics, "write per-epoch metrics to a CSV file");
    app.add_flag("--compare-losses", o.compare_losses,
                 "train with squared error (two ways) and cross-entropy, and compare");
    app.add_option("--plot", o.plot, "with --compare-losses: draw the curves to a PNG (gnuplot)");
    app.add_option("--limit", o.limit, "use only the first N training and test images");
    app.add_flag("--verbose", o.verbose, "print the thread count and the BLAS set-up");
    CLI11_PARSE(app, argc, argv);
    try {
        return run(o);
    } catch (const std::exception& e) {
        std::cerr << "mnist: " << e.what() << "\n";
        return 1;
    }
}
