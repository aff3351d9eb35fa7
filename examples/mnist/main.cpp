// Trains and evaluates digit classifiers on MNIST; compares losses; predicts a digit from a PGM.
//
//   mnist                                   the CNN with cross-entropy (the quick start)
//   mnist --model mlp --loss squared        the tutorial's sigmoid MLP with squared error
//   mnist --compare-losses --plot cmp.png   squared error vs cross-entropy, same everything else
//   mnist --load cnn.npz --predict 7.pgm    the digit in a 28x28 PGM image
//   mnist --checkpoint run.npz              a checkpoint after every epoch (and on Ctrl-C);
//   mnist --checkpoint run.npz --resume run.npz    continues that run exactly where it stopped
#include <CLI/CLI.hpp>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
    std::string checkpoint, resume;
    std::size_t stop_after = 0;  // 0: run all the epochs
    bool keep_going_on_nan = false;
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

// ---- stopping and resuming ------------------------------------------------------------------
//
// Ctrl-C (SIGINT) or SIGTERM: the handler only sets a flag, all a signal handler may safely do;
// training looks at it after every batch, writes a checkpoint and stops. SA_RESETHAND: a second
// Ctrl-C ends the program at once.
std::atomic<int> stop_signal{0};

void on_stop_signal(int signal) { stop_signal = signal; }

void catch_stop_signals() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

// Thrown when training stops on a signal, after the checkpoint is written; main exits 128 + signal.
struct Stopped : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Where a run is: `epochs_done` whole epochs, then `batch_losses.size()` batches of the next.
struct RunState {
    std::size_t epochs_done = 0;
    std::vector<float> batch_losses;  // loss x batch size of each batch of that epoch, in order
    std::vector<EpochMetrics> history;
};

// An .npz holds float32 arrays only, so a checkpoint keeps a double bit for bit as its four
// 16-bit quarters (whole numbers, which a float holds exactly) and text as its bytes.
Array pack_doubles(const std::vector<double>& values) {
    Array a = Array::from_shape({values.size(), std::size_t{4}});
    for (std::size_t i = 0; i < values.size(); ++i) {
        std::uint64_t bits;
        std::memcpy(&bits, &values[i], 8);
        for (std::size_t q = 0; q < 4; ++q) a(i, q) = static_cast<float>((bits >> (16 * q)) & 0xffff);
    }
    return a;
}

Array pack_text(const std::string& text) {
    Array a = Array::from_shape({text.size()});
    for (std::size_t i = 0; i < text.size(); ++i) a(i) = static_cast<unsigned char>(text[i]);
    return a;
}

// The shortest text that reads back as the same float: 0.05, not 0.0500000007.
std::string shortest(float v) {
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// The settings that decide a run's numbers: resuming with other ones would not continue it.
std::string run_settings(const Options& o) {
    std::ostringstream s;
    s << "--model " << o.model << " --loss " << o.loss << " --optimizer " << o.optimizer
      << " --lr " << shortest(o.lr) << " --momentum " << shortest(o.momentum) << " --schedule "
      << o.schedule << " --epochs " << o.epochs << " --batch-size " << o.batch_size << " --seed "
      << o.seed << " --limit " << o.limit;
    return s.str();
}

void save_run(const std::string& path, const Options& o, const nn::Module& model,
              const optim::Optimizer& optimizer, const RunState& state) {
    std::vector<double> history;
    for (const EpochMetrics& m : state.history)
        for (double v : {static_cast<double>(m.epoch), m.train_loss, m.test_loss, m.test_accuracy,
                         m.seconds, m.images_per_second})
            history.push_back(v);
    Array losses = Array::from_shape({state.batch_losses.size()});
    std::copy(state.batch_losses.begin(), state.batch_losses.end(), losses.begin());
    optim::save_checkpoint(path, model, optimizer,
                           {{"epoch", Array{static_cast<float>(state.epochs_done)}},
                            {"batch_losses", losses},
                            {"history", pack_doubles(history)},
                            {"settings", pack_text(run_settings(o))}});
}

// Loads model and optimizer state from a checkpoint of save_run and returns where the run was.
// Everything in the file is checked: it comes from the user and may be from another program.
RunState resume_run(const Options& o, nn::Module& model, optim::Optimizer& optimizer,
                    std::size_t batches_per_epoch) {
    const nn::NamedArrays extra = optim::load_checkpoint(o.resume, model, optimizer);
    auto bad = [&](const std::string& what) {
        return std::runtime_error("--resume: '" + o.resume + "' " + what);
    };
    std::map<std::string, Array> found(extra.begin(), extra.end());
    for (const char* name : {"epoch", "batch_losses", "history", "settings"})
        if (!found.count(name))
            throw bad(std::string("has no extra.") + name +
                      ": it is not a checkpoint written by mnist --checkpoint");
    // Whole numbers in [0, limit], as a float holds them exactly.
    auto whole = [&](const Array& a, float limit, const char* what) {
        for (float v : a)
            if (!(v >= 0 && v <= limit && v == std::floor(v)))
                throw bad(std::string("is corrupted: ") + what + " holds " + std::to_string(v));
    };
    const Array& settings = found["settings"];
    whole(settings, 255, "extra.settings");
    std::string text;
    for (float c : settings) text.push_back(static_cast<char>(static_cast<unsigned char>(c)));
    if (text != run_settings(o))
        throw bad("was written by a run with other settings; resume with the same ones:\n"
                  "  checkpoint: " + text + "\n  this run:   " + run_settings(o));

    RunState state;
    const Array& epoch = found["epoch"];
    if (epoch.size() != 1) throw bad("is corrupted: extra.epoch is not one number");
    whole(epoch, static_cast<float>(o.epochs), "extra.epoch");
    state.epochs_done = static_cast<std::size_t>(epoch(0));
    const Array& losses = found["batch_losses"];
    if (losses.dimension() != 1 || losses.size() >= batches_per_epoch ||
        (state.epochs_done == o.epochs && losses.size() > 0))
        throw bad("is corrupted: extra.batch_losses has shape " + shape_str(losses.shape()));
    state.batch_losses.assign(losses.begin(), losses.end());
    const Array& history = found["history"];
    if (history.dimension() != 2 || history.shape()[1] != 4 ||
        history.shape()[0] != 6 * state.epochs_done)
        throw bad("is corrupted: extra.history has shape " + shape_str(history.shape()) +
                  " for " + std::to_string(state.epochs_done) + " epochs");
    whole(history, 65535, "extra.history");
    std::vector<double> v(history.shape()[0]);
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::uint64_t bits = 0;
        for (std::size_t q = 0; q < 4; ++q)
            bits |= static_cast<std::uint64_t>(history(i, q)) << (16 * q);
        std::memcpy(&v[i], &bits, 8);
    }
    for (std::size_t e = 0; e < state.epochs_done; ++e) {
        const double* r = &v[6 * e];
        if (r[0] != static_cast<double>(e + 1))
            throw bad("is corrupted: extra.history has no row for epoch " + std::to_string(e + 1));
        EpochMetrics m;
        m.epoch = e + 1;
        m.train_loss = r[1];
        m.test_loss = r[2];
        m.test_accuracy = r[3];
        m.seconds = r[4];
        m.images_per_second = r[5];
        state.history.push_back(m);
    }
    std::cout << "resumed from " << o.resume << " after " << state.epochs_done << " epochs and "
              << state.batch_losses.size() << " batches\n";
    return state;
}

std::string format_number(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

// Trains one model (from scratch, or from --load or --resume); returns the metrics of every
// epoch. Writes --checkpoint after every epoch; stops after --stop-after epochs, or on a signal.
std::vector<EpochMetrics> train(const Options& o, const Head& head, const Dataset& train_set,
                                const Dataset& test_set, const std::string& tag) {
    manual_seed(o.seed);
    auto model = mnist::make_model(o.model, head.outputs);
    if (!o.load.empty()) nn::load(*model, o.load);
    auto optimizer = make_optimizer(o, *model);
    const nn::LossFn loss_fn = loss_function(head);
    DataLoader loader(train_set, o.batch_size, /*shuffle=*/true, o.seed);

    RunState state;
    if (!o.resume.empty()) state = resume_run(o, *model, *optimizer, loader.num_batches());
    std::vector<EpochMetrics>& history = state.history;
    // Stopped by a signal: the checkpoint goes to --checkpoint, else beside the program's work.
    const std::string stop_path = o.checkpoint.empty() ? "mnist-interrupted.npz" : o.checkpoint;
    auto stop = [&](const std::string& where) {
        save_run(stop_path, o, *model, *optimizer, state);
        throw Stopped(std::string("stopped by ") +
                      (stop_signal == SIGINT ? "Ctrl-C (SIGINT)" : "SIGTERM") + " " + where +
                      ": saved a checkpoint to " + stop_path + "; continue with --resume " +
                      stop_path + (o.checkpoint.empty() ? "" : " --checkpoint " + stop_path));
    };
    const std::size_t last_epoch = o.stop_after ? std::min(o.stop_after, o.epochs) : o.epochs;
    for (std::size_t epoch = state.epochs_done + 1; epoch <= last_epoch; ++epoch) {
        if (o.schedule == "cosine")  // from lr down towards 0 over the run, set per epoch
            optimizer->set_lr(static_cast<float>(
                0.5 * o.lr * (1 + std::cos(M_PI * static_cast<double>(epoch - 1) / o.epochs))));
        examples::Progress progress(tag + "epoch " + std::to_string(epoch) + "/" +
                                        std::to_string(o.epochs),
                                    loader.num_batches(), o.batch_size);
        // Resumed in the middle of this epoch: count the batches done before the stop.
        double loss_sum = 0;
        for (float weighted : state.batch_losses) loss_sum += weighted;
        std::size_t seen = state.batch_losses.size() * o.batch_size;
        std::size_t non_finite = 0;
        const DataLoader::Epoch batches = loader.epoch(epoch);
        for (std::size_t b = state.batch_losses.size(); b < batches.size(); ++b) {
            const Batch batch = batches.batch(b);
            const Tensor outputs = (*model)(Tensor(batch.inputs));
            const Tensor loss = loss_fn(mnist::predict(head, outputs),
                                        Tensor(mnist::targets(head, batch.targets)));
            const float value = loss.item();
            if (!std::isfinite(value) && !o.keep_going_on_nan)
                throw std::runtime_error(
                    "training diverged: the loss is " + format_number(value) + " at epoch " +
                    std::to_string(epoch) + ", batch " + std::to_string(b + 1) + "/" +
                    std::to_string(batches.size()) + "; the learning rate (--lr " +
                    format_number(o.lr) + ") is likely too high: lower it, or pass "
                    "--keep-going-on-nan to train on regardless");
            if (!std::isfinite(value) && non_finite++ == 0)
                std::cout << tag << "warning: the loss is " << format_number(value)
                          << " at epoch " << epoch << ", batch " << b + 1
                          << "; training goes on (--keep-going-on-nan)" << std::endl;
            optimizer->zero_grad();
            loss.backward();
            optimizer->step();
            const float weighted = value * batch.targets.size();
            loss_sum += weighted;
            seen += batch.targets.size();
            state.batch_losses.push_back(weighted);
            progress.update(b + 1, static_cast<float>(loss_sum / seen));
            if (stop_signal && b + 1 < batches.size()) {
                progress.finish();
                stop("in epoch " + std::to_string(epoch) + " after batch " + std::to_string(b + 1) +
                     "/" + std::to_string(batches.size()));
            }
        }
        progress.finish();
        if (non_finite)
            std::cout << tag << "warning: " << non_finite << " of " << batches.size()
                      << " batches of epoch " << epoch << " had a loss that is not finite\n";
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
        state.epochs_done = epoch;
        state.batch_losses.clear();
        if (!o.metrics.empty()) examples::write_metrics(o.metrics, history);
        if (!o.checkpoint.empty()) save_run(o.checkpoint, o, *model, *optimizer, state);
        if (stop_signal) stop("after epoch " + std::to_string(epoch));
    }
    if (last_epoch < o.epochs) {
        std::cout << "stopped after epoch " << last_epoch << " of " << o.epochs
                  << " (--stop-after)"
                  << (o.checkpoint.empty() ? std::string()
                                           : "; continue with --resume " + o.checkpoint)
                  << "\n";
        return history;
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
    catch_stop_signals();
    train(o, head, train_set, test_set, "");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    tune_malloc();  // large arrays reused, not page-faulted (core/runtime/memory.hpp)
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
    app.add_option("--checkpoint", o.checkpoint,
                   "write model, optimizer and metrics here after every epoch (and on Ctrl-C)");
    app.add_option("--resume", o.resume,
                   "continue the run of this checkpoint, with the same options, exactly");
    app.add_option("--stop-after", o.stop_after,
                   "stop after this epoch of the --epochs schedule (then --resume)")
        ->check(CLI::Range(1, 1000));
    app.add_flag("--keep-going-on-nan", o.keep_going_on_nan,
                 "train on when the loss is NaN or infinite (default: stop with an error)");
    CLI11_PARSE(app, argc, argv);
    try {
        if (o.compare_losses && (!o.checkpoint.empty() || !o.resume.empty() || o.stop_after))
            throw std::invalid_argument("--compare-losses trains three models: it takes no "
                                        "--checkpoint, --resume or --stop-after");
        if (!o.resume.empty() && !o.load.empty() && o.predict.empty())
            throw std::invalid_argument("--resume continues a run, model included: it takes no "
                                        "--load");
        return run(o);
    } catch (const Stopped& e) {
        std::cout << "mnist: " << e.what() << std::endl;
        return 128 + stop_signal;
    } catch (const std::exception& e) {
        std::cerr << "mnist: " << e.what() << "\n";
        return 1;
    }
}
