// Trains and evaluates digit classifiers on MNIST; compares losses; predicts a digit from a PGM.
//
//   mnist                                   the CNN with cross-entropy (the quick start)
//   mnist --model mlp --loss squared        the tutorial's sigmoid MLP with squared error
//   mnist --compare-losses --plot cmp.png   squared error vs cross-entropy, same everything else
//   mnist --model mlp --loss squared --audit audit.csv --plot audit.png
//                                           the gradient audit of each layer as it trains
//   mnist --load cnn.npz --predict 7.pgm    the digit in a 28x28 PGM image
//   mnist --checkpoint run.npz              a checkpoint after every epoch (and on Ctrl-C);
//   mnist --checkpoint run.npz --resume run.npz    continues that run exactly where it stopped
//   mpirun -np 2 mnist --distributed        the same training on two processes (tapegrad::distributed)
//
// The training story is here; checkpoint.cpp keeps and restores a run, models.cpp and heads.cpp
// hold the networks and the ways of reading their outputs as digits.
#include <CLI/CLI.hpp>

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>

#include <tapegrad/distributed/distributed.hpp>
#include <tapegrad/tapegrad.hpp>

#include "../common/cli.hpp"
#include "../common/progress.hpp"
#include "../common/run_control.hpp"
#include "../common/training.hpp"
#include "checkpoint.hpp"
#include "heads.hpp"
#include "models.hpp"
#include "options.hpp"
#include "plot.hpp"

namespace {

using namespace tapegrad;
using examples::EpochMetrics;
using mnist::Head;
using mnist::Options;
using mnist::RunState;

// With --distributed: this process's place in the MPI job (null: training alone).
distributed::Session* session = nullptr;
bool lead() { return !session || session->rank() == 0; }  // prints and writes files

std::unique_ptr<optim::Optimizer> make_optimizer(const Options& o, const nn::Module& model) {
    if (o.optimizer == "sgd")
        return std::make_unique<optim::SGD>(model.parameters(),
                                            optim::SGDOptions(o.lr).momentum(o.momentum));
    if (o.optimizer == "adamw") return std::make_unique<optim::AdamW>(model.parameters(), o.lr);
    if (o.optimizer == "rmsprop")
        return std::make_unique<optim::RMSprop>(model.parameters(),
                                                optim::RMSpropOptions(o.lr).momentum(o.momentum));
    return std::make_unique<optim::Adam>(model.parameters(), o.lr);
}

// The learning rate of each epoch (set with restart(epoch - 1) before it), or null for a constant
// one: --warmup epochs rising linearly from lr / 10, then --schedule over the remaining epochs.
// onecycle instead steps after every batch, up to --lr and down again (its own warm-up).
std::shared_ptr<optim::Scheduler> make_schedule(const Options& o, optim::Optimizer& optimizer,
                                                std::size_t batches_per_epoch) {
    using namespace optim;
    if (o.schedule == "onecycle")
        return std::make_shared<OneCycleLR>(optimizer, OneCycleLROptions(o.lr, o.epochs * batches_per_epoch));
    const std::size_t rest = o.epochs > o.warmup ? o.epochs - o.warmup : 1;
    std::shared_ptr<Scheduler> main;
    if (o.schedule == "cosine") main = std::make_shared<CosineAnnealingLR>(optimizer, rest);
    if (o.schedule == "step")
        main = std::make_shared<StepLR>(optimizer, StepLROptions(std::max<std::size_t>(1, rest / 3)).gamma(0.1));
    if (o.warmup == 0) return main;
    auto warm = std::make_shared<LinearLR>(
        optimizer, LinearLROptions().start_factor(0.1).end_factor(1.0).total_iters(o.warmup));
    if (!main) main = std::make_shared<LinearLR>(  // constant after it
        optimizer, LinearLROptions().start_factor(1.0).end_factor(1.0).total_iters(1));
    return std::make_shared<SequentialLR>(optimizer, std::vector<std::shared_ptr<Scheduler>>{warm, main},
                                          std::vector<std::size_t>{o.warmup});
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

// Where --resume says the run was (a new run: nowhere yet). Distributed, every process reads
// its own copy of the file.
RunState resume(const Options& o, nn::Module& model, optim::Optimizer& optimizer,
                optim::Scheduler* schedule, std::size_t batches_per_epoch) {
    if (o.resume.empty()) return {};
    Options local = o;
    local.resume = session ? distributed::local_copy(*session, o.resume) : o.resume;
    RunState state = mnist::resume_run(local, model, optimizer, schedule, batches_per_epoch);
    if (local.resume != o.resume) std::remove(local.resume.c_str());
    return state;
}

// An epoch's metrics, the test set's included, printed as one line.
EpochMetrics epoch_metrics(nn::Module& model, const Head& head, const Dataset& test_set,
                           std::size_t epoch, double train_loss, std::size_t seen,
                           const examples::Progress& progress, const std::string& tag,
                           const Options& o) {
    EpochMetrics m;
    m.epoch = epoch;
    m.seconds = progress.seconds();
    m.train_loss = train_loss;
    m.images_per_second = seen / m.seconds;
    std::tie(m.test_loss, m.test_accuracy) = evaluate(model, head, test_set);
    std::cout << tag << "epoch " << epoch << "/" << o.epochs << std::fixed << std::setprecision(4)
              << "  train loss " << m.train_loss << "  test loss " << m.test_loss
              << "  test accuracy " << std::setprecision(2) << 100 * m.test_accuracy << " %  "
              << std::setprecision(1) << m.seconds << " s  " << std::setprecision(0)
              << m.images_per_second << " img/s" << std::defaultfloat << std::endl;
    return m;
}

// How long each process waited for the others' gradients.
void print_waits(const std::vector<double>& waits) {
    std::cout << "waited for gradients (s), by process:";
    for (double w : waits) std::cout << " " << std::fixed << std::setprecision(2) << w;
    std::cout << std::defaultfloat << "\n";
}

// Trains one model (from scratch, or from --load or --resume); returns the metrics of every
// epoch. Writes --checkpoint after every epoch; stops after --stop-after epochs, or on a signal.
std::vector<EpochMetrics> train(const Options& o, const Head& head, const Dataset& train_set,
                                const Dataset& test_set, const std::string& tag) {
    manual_seed(o.seed);
    auto model = mnist::make_model(o.model, head.outputs);
    if (!o.load.empty()) nn::load(*model, o.load);
    if (session) distributed::broadcast_parameters(*session, *model);  // rank 0's weights everywhere
    auto optimizer = make_optimizer(o, *model);
    const nn::LossFn loss_fn = loss_function(head);
    DataLoader loader(train_set, o.batch_size, /*shuffle=*/true, o.seed);
    // Made before --resume loads the optimizer's state: its base is --lr, not the rate saved.
    const std::shared_ptr<optim::Scheduler> schedule = make_schedule(o, *optimizer, loader.num_batches());
    const bool per_batch = o.schedule == "onecycle";
    RunState state = resume(o, *model, *optimizer, schedule.get(), loader.num_batches());
    examples::RunControl run(session, *model, *optimizer,
                             {"mnist", tag, o.lr, o.keep_going_on_nan, o.clip_grad_norm, o.checkpoint},
                             [&](const std::string& path) {
                                 mnist::save_run(path, o, *model, *optimizer, schedule.get(), state);
                             });
    // --audit: every audit_every steps (and after the first), a row per layer (nn/audit.hpp).
    std::unique_ptr<nn::AuditWatch> watch;
    if (!o.audit.empty()) watch = std::make_unique<nn::AuditWatch>(*model);
    std::string audit_rows = nn::audit_csv_header();
    std::size_t steps = 0;
    const std::size_t last_epoch = o.stop_after ? std::min(o.stop_after, o.epochs) : o.epochs;
    for (std::size_t epoch = state.epochs_done + 1; epoch <= last_epoch; ++epoch) {
        if (schedule && !per_batch) schedule->restart(epoch - 1);  // this epoch's rate, also on --resume
        const DataLoader::Epoch batches = loader.epoch(epoch);
        examples::Progress progress(tag + "epoch " + std::to_string(epoch) + "/" +
                                        std::to_string(o.epochs), batches.size(), o.batch_size);
        double loss_sum = 0;  // resumed in this epoch: with the batches done before the stop
        for (float weighted : state.batch_losses) loss_sum += weighted;
        std::size_t seen = state.batch_losses.size() * o.batch_size;
        for (std::size_t b = state.batch_losses.size(); b < batches.size(); ++b) {  // resumed: from there
            const std::vector<std::size_t> indices = batches.batch_indices(b);
            const std::vector<std::size_t> mine = run.part(indices);  // distributed: this process's part
            Tensor loss;
            if (!mine.empty()) {
                const Batch batch = train_set.get_batch(mine);
                loss = loss_fn(mnist::predict(head, (*model)(Tensor(batch.inputs))),
                               Tensor(mnist::targets(head, batch.targets)));
            }
            const float value = run.step(loss, {epoch, b + 1, batches.size()});  // backward, step
            if (per_batch) schedule->step();  // onecycle: the next batch's rate
            if (watch && run.lead() && (++steps == 1 || steps % o.audit_every == 0)) {
                audit_rows += nn::audit_csv(nn::audit(*model), steps);
                write_file_atomic(o.audit, audit_rows, "--audit");
            }
            state.batch_losses.push_back(value * indices.size());
            loss_sum += value * indices.size();
            seen += indices.size();
            progress.update(b + 1, static_cast<float>(loss_sum / seen));
            if (b + 1 < batches.size() && run.asked_to_stop()) {
                progress.finish();
                run.stop("in epoch " + std::to_string(epoch) + " after batch " +
                         std::to_string(b + 1) + "/" + std::to_string(batches.size()));
            }
        }
        progress.finish();
        state.history.push_back(
            epoch_metrics(*model, head, test_set, epoch, loss_sum / seen, seen, progress, tag, o));
        state.epochs_done = epoch;
        state.batch_losses.clear();
        if (!o.metrics.empty() && run.lead()) examples::write_metrics(o.metrics, state.history);
        run.end_epoch(epoch, batches.size());
    }
    if (session) print_waits(run.wait_seconds());
    if (watch && run.lead()) {
        std::cout << "gradient audit after step " << steps << " (all of them in " << o.audit << "):\n";
        nn::print_audit(std::cout, nn::audit(*model));
        if (!o.plot.empty()) mnist::plot_audit(o.plot, o.audit, tag.empty() ? o.model + ", " + o.loss : tag);
    }
    if (last_epoch < o.epochs) {
        std::cout << "stopped after epoch " << last_epoch << " of " << o.epochs << " (--stop-after)"
                  << (o.checkpoint.empty() ? std::string() : "; continue with --resume " + o.checkpoint)
                  << "\n";
    } else if (!o.save.empty() && run.lead()) {
        nn::save(*model, o.save);
        std::cout << "saved the model to " << o.save << "\n";
    }
    return state.history;
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
    if (!o.plot.empty()) mnist::plot(o.plot, titles, runs);
    return 0;
}

int run(const Options& o) {
    if (o.threads > 0) set_num_threads(o.threads);
    else if (session) set_num_threads(session->default_threads());  // the host's cores, shared
    if (o.verbose)
        std::cout << "threads: " << num_threads() << "; BLAS: " << to_string(blas_info()) << "\n";
    if (!o.predict.empty()) return predict(o);

    const MnistLayout layout = mnist::takes_images(o.model) ? MnistLayout::image : MnistLayout::flat;
    const std::string data = o.data.empty() ? examples::find_dataset("mnist") : o.data;
    const MNIST train_full(data, MnistSplit::train, layout);
    const MNIST test_full(data, MnistSplit::test, layout);
    const Prefix train_set(train_full, o.limit), test_set(test_full, o.limit);
    std::cout << "MNIST: " << train_set.size() << " training and " << test_set.size()
              << " test images from " << data << "; model " << o.model << ", batch "
              << o.batch_size << ", " << o.optimizer << " lr " << o.lr << "\n";
    if (o.compare_losses) return compare_losses(o, train_set, test_set);
    const Head head = mnist::head_for(o.loss);
    std::cout << "loss: " << o.loss << " (" << head.description << ")\n";
    examples::catch_stop_signals();
    if (session)
        std::cout << "distributed: " << session->size() << " processes, " << num_threads()
                  << " threads each; batch " << o.batch_size << " split among them\n";
    train(o, head, train_set, test_set, "");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    tune_malloc();  // large arrays reused, not page-faulted (backend/memory.hpp)
    Options o;
    CLI::App app{"Train a digit classifier on MNIST with tapegrad"};
    app.add_option("--model", o.model, "cnn, cnn_bn (with BatchNorm and Dropout), mlp (784-10-10-10 sigmoid) or relu_mlp "
                   "(784-256-256-10)")
        ->check(CLI::IsMember(mnist::model_names()))->capture_default_str();
    app.add_option("--loss", o.loss, "a LossRegistry loss that fits a 10-class output")
        ->capture_default_str();
    app.add_option("--epochs", o.epochs, "passes over the training set")
        ->check(CLI::Range(1, 1000))->capture_default_str();
    app.add_option("--batch-size", o.batch_size, "images per step")
        ->check(CLI::Range(1, 60000))->capture_default_str();
    app.add_option("--lr", o.lr, "learning rate")
        ->check(examples::positive())->capture_default_str();
    app.add_option("--momentum", o.momentum, "SGD momentum")
        ->check(CLI::Range(0.0, 0.999999))->capture_default_str();
    app.add_option("--optimizer", o.optimizer,
                   "sgd, adam, adamw (weight decay 0.01) or rmsprop (with --momentum)")
        ->check(CLI::IsMember({"sgd", "adam", "adamw", "rmsprop"}))->capture_default_str();
    app.add_option("--schedule", o.schedule, "learning rate per epoch: constant, cosine (lr "
                   "decaying towards 0 over the epochs), step (a tenth every third of them) or "
                   "onecycle (per batch, from lr/25 up to lr and down to lr/250000)")
        ->check(CLI::IsMember({"constant", "cosine", "step", "onecycle"}))->capture_default_str();
    app.add_option("--warmup", o.warmup, "epochs of linear warm-up from lr/10 before --schedule (cnn_bn: 1)")
        ->check(CLI::Range(0, 1000))->capture_default_str();
    app.add_option("--clip-grad-norm", o.clip_grad_norm,
                   "clip the gradients' total 2-norm to this (0: no clipping)")
        ->check(CLI::Range(0.0, 1e30))->capture_default_str();
    app.add_option("--seed", o.seed, "seeds the weights and the shuffling")->capture_default_str();
    app.add_option("--threads", o.threads, "threads for tapegrad and OpenBLAS (default: all cores)")
        ->check(CLI::Range(1, 256));
    app.add_option("--data", o.data, "folder with the MNIST IDX files (default: datasets/mnist of "
                   "$TAPEGRAD_DATA, this folder or the repository; scripts/fetch_data.sh)");
    app.add_option("--save", o.save, "write the trained model (.npz)");
    app.add_option("--load", o.load, "start from (or predict with) a saved model");
    app.add_option("--predict", o.predict, "print the digit in a 28x28 PGM image, with --load");
    app.add_option("--metrics", o.metrics, "write per-epoch metrics to a CSV file");
    app.add_flag("--compare-losses", o.compare_losses,
                 "train with squared error (two ways) and cross-entropy, and compare");
    app.add_option("--plot", o.plot, "with --compare-losses: draw the curves to a PNG (gnuplot); "
                   "with --audit: draw the audit");
    app.add_option("--audit", o.audit, "write the gradient audit to this CSV file: per layer, the "
                   "gradient norm, update-to-weight ratio, dead ReLUs, saturated sigmoids and flags");
    app.add_option("--audit-every", o.audit_every, "steps between two audits")
        ->check(CLI::Range(1, 1000000))->capture_default_str();
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
    app.add_flag("--distributed", o.distributed,
                 "train on every process of an MPI job (mpirun -np 2 mnist --distributed), each "
                 "on its part of every batch, with the result of one process");
    CLI11_PARSE(app, argc, argv);
    // cnn_bn's first steps at 0.05 with momentum 0.9 diverge (in PyTorch as here): its first
    // epoch runs at a tenth of the rate unless told otherwise.
    if (o.model == "cnn_bn" && app.count("--warmup") == 0 && o.schedule != "onecycle" && o.epochs > 1)
        o.warmup = 1;
    std::unique_ptr<distributed::Session> own_session;
    std::streambuf* cout_buffer = std::cout.rdbuf();
    try {
        if (o.distributed) {
            if (!distributed::available())
                throw std::invalid_argument("--distributed: this build has no MPI; " +
                                            distributed::how_to_get_mpi());
            if (o.compare_losses || !o.predict.empty() || o.model == "cnn_bn")
                throw std::invalid_argument(
                    "--distributed trains one model; it takes no --compare-losses or --predict, "
                    "and not --model cnn_bn (BatchNorm's batch statistics would be each "
                    "process's own, not the global batch's)");
            own_session = std::make_unique<distributed::Session>(argc, argv);
            session = own_session.get();
            if (session->rank() != 0) std::cout.rdbuf(nullptr);  // rank 0 speaks for all
        }
        if (o.compare_losses && (!o.checkpoint.empty() || !o.resume.empty() || o.stop_after))
            throw std::invalid_argument("--compare-losses trains three models: it takes no "
                                        "--checkpoint, --resume or --stop-after");
        if (o.warmup >= o.epochs)
            throw std::invalid_argument("--warmup " + std::to_string(o.warmup) +
                                        " must be fewer epochs than --epochs " +
                                        std::to_string(o.epochs));
        if (o.warmup > 0 && o.schedule == "onecycle")
            throw std::invalid_argument("--warmup: --schedule onecycle warms up by itself (over "
                                        "the first 30 % of the steps); leave --warmup out");
        if (!o.resume.empty() && !o.load.empty() && o.predict.empty())
            throw std::invalid_argument("--resume continues a run, model included: it takes no "
                                        "--load");
        return run(o);
    } catch (const examples::Stopped& e) {
        std::cout << "mnist: " << e.what() << std::endl;
        std::cout.rdbuf(cout_buffer);
        return 128 + e.signal;
    } catch (const distributed::CollectiveError& e) {  // every rank has it: all end normally
        std::cout.rdbuf(cout_buffer);
        if (lead()) std::cerr << "mnist: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cout.rdbuf(cout_buffer);
        if (session && session->size() > 1) session->abort(std::string("mnist: ") + e.what());
        std::cerr << "mnist: " << e.what() << "\n";
        return 1;
    }
}
