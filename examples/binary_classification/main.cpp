// A binary classifier with a single sigmoid output: the tumour example of the teaching material,
// on the Wisconsin breast-cancer data (569 tumours, 30 features). Class 1 is "malignant".
//
//   binary_classification                          log loss on the sigmoid output
//   binary_classification --loss squared           squared error on the sigmoid output
//   binary_classification --compare-losses         how fast each loss learns, with numbers
//   binary_classification --csv my.csv --label-column 4
//
// Losses: log, squared, absolute compare the sigmoid output a = sigmoid(z) with y in {0, 1};
// hinge and exponential take the raw score z with y in {-1, +1}; log_with_logits takes z with
// y in {0, 1}. zero_one is the error rate, reported every epoch.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <sstream>

#include <tapegrad/tapegrad.hpp>

#include "../common/cli.hpp"
#include "../common/progress.hpp"
#include "../common/training.hpp"

namespace {

using namespace tapegrad;
using examples::EpochMetrics;

struct Options {
    std::string csv;  // empty: examples::find_dataset("breast_cancer.csv"), malignant = 1
    int label_column = -1;
    std::string loss = "log";
    std::size_t epochs = 100;
    std::size_t batch_size = 32;
    float lr = 0.05f;
    float test_fraction = 0.25f;
    std::size_t hidden = 0;
    std::uint64_t seed = 1;
    std::string metrics;
    bool compare_losses = false;
    bool quiet = false;
    bool keep_going_on_nan = false;
};

const std::vector<std::string> binary_losses{"log",   "squared",     "absolute",
                                             "hinge", "exponential", "log_with_logits"};

// Whether the loss sees the sigmoid output (else the raw score) and wants -1/+1 targets.
bool on_probability(const std::string& loss) {
    return loss == "log" || loss == "squared" || loss == "absolute";
}
bool plus_minus_one(const std::string& loss) { return loss == "hinge" || loss == "exponential"; }

struct Split {
    Array x_train, y_train, x_test, y_test;  // y as 0/1, [n, 1]
};

// Reads the table, takes the label column as 0/1, splits by class with a seeded shuffle (the
// same fraction of each class goes to the test set) and standardises the features with the
// training set's mean and standard deviation.
Split load(const Options& o) {
    const bool sklearn = o.csv.empty();
    const std::string path = sklearn ? examples::find_dataset("breast_cancer.csv") : o.csv;
    const CsvTable table =
        read_csv(path, sklearn ? CsvOptions{CsvHeader::absent, 1} : CsvOptions{});
    const Array& v = table.values;
    const std::size_t rows = v.shape()[0], cols = v.shape()[1];
    if (cols < 2) throw std::invalid_argument(path + ": needs at least one feature and a label");
    const int c = o.label_column < 0 ? static_cast<int>(cols) + o.label_column : o.label_column;
    if (c < 0 || c >= static_cast<int>(cols))
        throw std::invalid_argument("--label-column " + std::to_string(o.label_column) + ": " +
                                    path + " has " + std::to_string(cols) + " columns");
    const std::size_t label_col = static_cast<std::size_t>(c);

    std::vector<std::size_t> by_class[2];
    std::vector<float> y(rows);
    for (std::size_t i = 0; i < rows; ++i) {
        const float raw = v(i, label_col);
        if (raw != 0 && raw != 1 && raw != -1)
            throw std::invalid_argument(path + ": row " + std::to_string(i + 1) + ", label column " +
                                        std::to_string(label_col) + " is " + std::to_string(raw) +
                                        "; labels must be 0/1 or -1/+1");
        y[i] = raw == 1 ? 1.0f : 0.0f;
        if (sklearn) y[i] = 1.0f - y[i];  // sklearn's target 0 is malignant
        by_class[static_cast<int>(y[i])].push_back(i);
    }
    std::vector<std::size_t> train_rows, test_rows;
    for (int k = 0; k < 2; ++k) {
        std::vector<std::size_t>& idx = by_class[k];
        const std::vector<std::size_t> order = shuffled_indices(idx.size(), o.seed, k);
        const auto n_test = static_cast<std::size_t>(std::lround(o.test_fraction * idx.size()));
        for (std::size_t j = 0; j < idx.size(); ++j)
            (j < n_test ? test_rows : train_rows).push_back(idx[order[j]]);
    }
    const std::size_t features = cols - 1;
    auto gather = [&](const std::vector<std::size_t>& rs, Array& x, Array& t) {
        x = Array::from_shape({rs.size(), features});
        t = Array::from_shape({rs.size(), 1});
        for (std::size_t r = 0; r < rs.size(); ++r) {
            for (std::size_t j = 0, f = 0; j < cols; ++j)
                if (j != label_col) x(r, f++) = v(rs[r], j);
            t(r, 0) = y[rs[r]];
        }
    };
    Split s;
    gather(train_rows, s.x_train, s.y_train);
    gather(test_rows, s.x_test, s.y_test);
    Array mean = xt::mean(s.x_train, {0});
    Array sd = xt::sqrt(xt::mean(xt::square(s.x_train - mean), {0}));
    sd = xt::where(sd > 0, sd, 1.0f);  // a constant feature stays 0
    s.x_train = (s.x_train - mean) / sd;
    s.x_test = (s.x_test - mean) / sd;
    return s;
}

std::shared_ptr<nn::Sequential> make_model(const Options& o, std::size_t features) {
    auto model = std::make_shared<nn::Sequential>();
    if (o.hidden > 0) {
        model->push_back(std::make_shared<nn::Linear>(features, o.hidden));
        model->push_back(std::make_shared<nn::Tanh>());
        model->push_back(std::make_shared<nn::Linear>(o.hidden, 1));
    } else {
        model->push_back(std::make_shared<nn::Linear>(features, 1));
    }
    return model;
}

struct Run {
    std::vector<EpochMetrics> epochs;
    std::vector<double> train_accuracy;
    std::vector<double> mean_abs_dz;  // mean |dL/dz| per sample at the output, per epoch
};

// Loss and accuracy (threshold 0.5 on the sigmoid output) without recording.
std::pair<double, double> evaluate(nn::Module& model, const nn::LossFn& loss_fn,
                                   const std::string& loss, const Array& x, const Array& y) {
    NoGrad no_grad;
    const Tensor z = model(Tensor(x));
    const Tensor prediction = on_probability(loss) ? sigmoid(z) : z;
    const Array target = plus_minus_one(loss) ? Array(2.0f * y - 1.0f) : y;
    const double value = loss_fn(prediction, Tensor(target)).item();
    return {value, binary_accuracy(z, Tensor(y), 0.0f)};  // z > 0 means a > 0.5
}

Run train(const Options& o, const std::string& loss, const Split& s) {
    manual_seed(o.seed);
    auto model = make_model(o, s.x_train.shape()[1]);
    optim::SGD optimizer(model->parameters(), o.lr);
    const nn::LossFn loss_fn = nn::LossRegistry::instance().get(loss);
    const TensorDataset train_set(s.x_train, s.y_train);
    DataLoader loader(train_set, o.batch_size, /*shuffle=*/true, o.seed);

    Run run;
    for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
        examples::Progress progress("epoch " + std::to_string(epoch), loader.num_batches(),
                                    o.batch_size);
        double loss_sum = 0, dz_sum = 0;
        std::size_t seen = 0, b = 0, non_finite = 0;
        for (const Batch& batch : loader.epoch(epoch)) {
            ++b;
            const std::size_t n = batch.targets.shape()[0];
            const Tensor z = (*model)(Tensor(batch.inputs));
            z.retain_grad();  // dL/dz, reported per epoch below
            const Tensor prediction = on_probability(loss) ? sigmoid(z) : z;
            const Array target = plus_minus_one(loss) ? Array(2.0f * batch.targets - 1.0f)
                                                      : batch.targets;
            const Tensor value = loss_fn(prediction, Tensor(target));
            if (!examples::check_loss(value.item(), "the " + loss + " loss", epoch, b,
                                      loader.num_batches(), o.lr, o.keep_going_on_nan) &&
                non_finite++ == 0 && !o.quiet)
                std::cout << "warning: the " << loss << " loss is "
                          << examples::format_number(value.item()) << " at epoch " << epoch
                          << ", batch " << b << "/" << loader.num_batches()
                          << "; training goes on (--keep-going-on-nan)\n";
            optimizer.zero_grad();
            value.backward();
            optimizer.step();
            // The mean loss spreads dL/dz over n samples; times n it is each sample's own.
            dz_sum += xt::sum(xt::abs(z.grad()))() * static_cast<double>(n);
            loss_sum += value.item() * static_cast<double>(n);
            seen += n;
        }
        progress.finish();
        EpochMetrics m;
        m.epoch = epoch;
        m.seconds = progress.seconds();
        m.train_loss = loss_sum / static_cast<double>(seen);
        m.images_per_second = static_cast<double>(seen) / std::max(m.seconds, 1e-9);
        std::tie(m.test_loss, m.test_accuracy) =
            evaluate(*model, loss_fn, loss, s.x_test, s.y_test);
        run.train_accuracy.push_back(evaluate(*model, loss_fn, loss, s.x_train, s.y_train).second);
        run.mean_abs_dz.push_back(dz_sum / static_cast<double>(seen));
        run.epochs.push_back(m);
        if (!o.quiet && (epoch == 1 || epoch % 10 == 0 || epoch == o.epochs))
            std::cout << "epoch " << std::setw(3) << epoch << std::fixed << std::setprecision(4)
                      << "  train loss " << m.train_loss << "  test loss " << m.test_loss
                      << "  test accuracy " << std::setprecision(2) << 100 * m.test_accuracy
                      << " %  error rate (zero_one) " << 100 * (1 - m.test_accuracy)
                      << " %  mean |dL/dz| " << std::setprecision(4) << run.mean_abs_dz.back()
                      << std::defaultfloat << "\n";
        if (!o.metrics.empty()) examples::write_metrics(o.metrics, run.epochs);
    }
    return run;
}

int compare_losses(Options o, const Split& s) {
    o.quiet = true;
    std::cout << "\n| loss | model output | epochs to 95 % train accuracy | final test accuracy "
                 "| mean abs dL/dz, epoch 1 | mean abs dL/dz, epoch " << o.epochs << " |\n"
              << "|---|---|---|---|---|---|\n";
    for (const std::string& loss : binary_losses) {
        const Run run = train(o, loss, s);
        std::string reached = "not in " + std::to_string(o.epochs);
        for (std::size_t e = 0; e < run.train_accuracy.size(); ++e)
            if (run.train_accuracy[e] >= 0.95) {
                reached = std::to_string(e + 1);
                break;
            }
        std::cout << "| " << loss << " | " << (on_probability(loss) ? "sigmoid" : "raw score")
                  << " | " << reached << " | " << std::fixed << std::setprecision(2)
                  << 100 * run.epochs.back().test_accuracy << " % | " << std::setprecision(4)
                  << run.mean_abs_dz.front() << " | " << run.mean_abs_dz.back() << " |\n"
                  << std::defaultfloat;
    }
    std::cout << "\nSame seed, split, initial weights, batches and learning rate (" << o.lr
              << ") for every loss. dL/dz is the gradient at the output's pre-activation z:\n"
                 "log loss gives a - y, squared error 2 (a - y) a (1 - a), which vanishes when "
                 "the sigmoid saturates.\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    tune_malloc();  // large arrays reused, not page-faulted (backend/memory.hpp)
    Options o;
    CLI::App app{"Binary classification with a sigmoid output (breast-cancer data by default)"};
    app.add_option("--csv", o.csv, "a numeric CSV instead of datasets/breast_cancer.csv");
    app.add_option("--label-column", o.label_column,
                   "the 0/1 (or -1/+1) label column of --csv, from 0; negative counts from the end")
        ->capture_default_str();
    app.add_option("--loss", o.loss, "log, squared, absolute, hinge, exponential or log_with_logits")
        ->check(CLI::IsMember(binary_losses))->capture_default_str();
    app.add_option("--epochs", o.epochs)->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--batch-size", o.batch_size)->check(CLI::Range(1, 1000000))->capture_default_str();
    app.add_option("--lr", o.lr, "SGD learning rate")->check(examples::positive())->capture_default_str();
    app.add_option("--test-fraction", o.test_fraction, "held out per class")
        ->check(CLI::Range(0.05, 0.95))->capture_default_str();
    app.add_option("--hidden", o.hidden, "a tanh hidden layer of this width (0: none)")
        ->capture_default_str();
    app.add_option("--seed", o.seed)->capture_default_str();
    app.add_option("--metrics", o.metrics, "write per-epoch metrics to a CSV file");
    app.add_flag("--compare-losses", o.compare_losses, "train with every loss and compare");
    app.add_flag("--keep-going-on-nan", o.keep_going_on_nan,
                 "train on when the loss is NaN or infinite (default: stop with an error)");
    CLI11_PARSE(app, argc, argv);
    try {
        const Split s = load(o);
        std::cout << "data: " << s.x_train.shape()[0] << " training and " << s.x_test.shape()[0]
                  << " test samples, " << s.x_train.shape()[1] << " features\n";
        if (o.compare_losses) return compare_losses(o, s);
        train(o, o.loss, s);
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "binary_classification: " << e.what() << "\n";
        return 1;
    }
}
