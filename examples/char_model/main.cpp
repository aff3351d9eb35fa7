// A character-level language model: it reads a text, learns to predict each next character,
// and writes text of its own. The default text is the GNU GPL version 3, which every Debian
// system has (/usr/share/common-licenses/GPL-3).
//
//   char_model                                       an LSTM, 30 epochs on 2 cores
//   char_model --model transformer --save tf.npz     a two-layer transformer
//   char_model --load tf.npz --model transformer --sample 400 --temperature 0.8
//
// The last tenth of the text is held out: each epoch reports its bits per character (the mean
// cross-entropy in bits; lower is better) beside the bigram baseline's, a table of how often
// each character follows each other one. --metrics writes them to a CSV file.
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>

#include <CLI/CLI.hpp>
#include <tapegrad/tapegrad.hpp>

#include "../common/cli.hpp"
#include "../common/progress.hpp"
#include "../common/training.hpp"
#include "model.hpp"
#include "text.hpp"

using namespace tapegrad;
using namespace char_model;

namespace {

struct Options {
    std::string text = "/usr/share/common-licenses/GPL-3";
    std::string model = "lstm";
    std::size_t epochs = 30, batch_size = 32, seq_len = 64;
    ModelSize size;
    float lr = 3e-3f;
    float clip = 1.0f;
    std::uint64_t seed = 1;
    int threads = 0;
    std::size_t limit = 0;  // use only the first `limit` characters (tests)
    std::size_t sample = 0;
    float temperature = 1.0f;
    std::string prompt = "The ";
    std::string save, load, metrics;
};

struct EpochRow {
    std::size_t epoch;
    double train_bpc, valid_bpc, bigram_bpc, seconds;
};

std::string read_text(const std::string& path, std::size_t limit) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("--text " + path + ": cannot open it (any text file will do)");
    std::ostringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    if (limit && text.size() > limit) text.resize(limit);
    if (text.size() < 1000)
        throw std::runtime_error("--text " + path + ": " + std::to_string(text.size()) +
                                 " characters are too few to learn from (at least 1000)");
    return text;
}

const double bits_per_nat = 1.0 / std::log(2.0);

// Bits per character of the model on every window of `text`, without recording.
double evaluate(CharModel& model, const std::vector<std::size_t>& text, const Options& o) {
    NoGrad no_grad;
    model.eval();
    double nats = 0.0;
    std::size_t count = 0;
    for (const Windows& w : all_windows(text, o.seq_len, o.batch_size)) {
        const Tensor logits = model(w.inputs);
        const std::size_t n = w.targets.size();
        nats += cross_entropy(reshape(logits, {n, logits.shape()[2]}), w.targets, Reduction::sum).item();
        count += n;
    }
    model.train();
    return nats / static_cast<double>(count) * bits_per_nat;
}

void write_metrics(const std::string& path, const std::vector<EpochRow>& rows) {
    std::ostringstream csv;
    csv << "epoch,train_bpc,valid_bpc,bigram_bpc,seconds\n" << std::setprecision(6);
    for (const EpochRow& r : rows)
        csv << r.epoch << "," << r.train_bpc << "," << r.valid_bpc << "," << r.bigram_bpc << ","
            << r.seconds << "\n";
    write_file_atomic(path, csv.str(), "--metrics");
}

// `count` characters after `prompt`, each drawn from softmax(logits / temperature) of the last
// position, the model seeing at most the last seq_len characters.
std::string sample(CharModel& model, const Alphabet& alphabet, const Options& o) {
    NoGrad no_grad;
    model.eval();
    std::vector<std::size_t> context = alphabet.encode(o.prompt);
    std::mt19937_64 rng(o.seed);
    std::string out = o.prompt;
    for (std::size_t i = 0; i < o.sample; ++i) {
        const std::size_t from = context.size() > o.seq_len ? context.size() - o.seq_len : 0;
        Array window = Array::from_shape({context.size() - from, 1});
        for (std::size_t t = from; t < context.size(); ++t) window(t - from, 0) = static_cast<float>(context[t]);
        const Tensor logits = model(Tensor(std::move(window)));
        const Array last = select(select(logits, 0, -1), 0, 0).value() / o.temperature;
        const Array p = softmax(Tensor(last)).value();
        std::discrete_distribution<std::size_t> pick(p.begin(), p.end());
        const std::size_t next = pick(rng);
        context.push_back(next);
        out.push_back(alphabet.decode(next));
    }
    return out;
}

int run(Options o) {
    if (o.threads > 0) set_num_threads(o.threads);
    if (o.model == "transformer") o.size.context = o.seq_len;
    const std::string text = read_text(o.text, o.limit);
    const Alphabet alphabet(text);
    const std::vector<std::size_t> all = alphabet.encode(text);
    const std::size_t split = all.size() * 9 / 10;
    const std::vector<std::size_t> train(all.begin(), all.begin() + static_cast<long>(split));
    const std::vector<std::size_t> valid(all.begin() + static_cast<long>(split), all.end());

    manual_seed(o.seed);
    CharModel model(o.model, alphabet.size(), o.size);
    if (!o.load.empty()) nn::load(model, o.load);
    std::cout << o.text << ": " << train.size() << " characters to train on, " << valid.size()
              << " held out, " << alphabet.size() << " distinct; model " << o.model << " ("
              << model.parameter_count() << " parameters)\n";
    if (o.sample > 0 && o.epochs == 0) {
        std::cout << sample(model, alphabet, o) << "\n";
        return 0;
    }

    const double bigram = bigram_bits_per_char(train, valid, alphabet.size());
    std::cout << "bigram baseline: " << std::fixed << std::setprecision(3) << bigram
              << " bits per character on the held-out text" << std::defaultfloat << "\n";
    optim::AdamW adamw(optim::decay_groups(model.parameters()), o.lr);
    optim::CosineAnnealingLR schedule(adamw, optim::CosineAnnealingLROptions(o.epochs).eta_min(o.lr / 20));
    const std::size_t steps = std::max<std::size_t>(1, train.size() / (o.seq_len * o.batch_size));
    std::mt19937_64 rng(o.seed);
    std::vector<EpochRow> rows;
    for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
        examples::Progress progress("epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs),
                                    steps, o.batch_size);
        double nats = 0.0;
        for (std::size_t s = 0; s < steps; ++s) {
            const Windows w = random_windows(train, o.seq_len, o.batch_size, rng);
            const Tensor logits = model(w.inputs);
            const Tensor loss =
                cross_entropy(reshape(logits, {w.targets.size(), alphabet.size()}), w.targets);
            const float value = loss.item();
            examples::check_loss(value, "the loss", epoch, s + 1, steps, o.lr, false);
            adamw.zero_grad();
            loss.backward();
            optim::clip_grad_norm(adamw.params(), o.clip);
            adamw.step();
            nats += value;
            progress.update(s + 1, value);
        }
        progress.finish();
        schedule.step();
        const EpochRow row{epoch, nats / static_cast<double>(steps) * bits_per_nat,
                           evaluate(model, valid, o), bigram, progress.seconds()};
        rows.push_back(row);
        std::cout << "epoch " << epoch << "/" << o.epochs << std::fixed << std::setprecision(3)
                  << "  train " << row.train_bpc << "  held-out " << row.valid_bpc
                  << " bits/char (bigram " << bigram << ")  " << std::setprecision(1) << row.seconds
                  << " s" << std::defaultfloat << std::endl;
        if (!o.metrics.empty()) write_metrics(o.metrics, rows);
    }
    if (!o.save.empty()) {
        nn::save(model, o.save);
        std::cout << "saved the model to " << o.save << "\n";
    }
    if (o.sample > 0) std::cout << "\n" << sample(model, alphabet, o) << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    tune_malloc();
    Options o;
    CLI::App app{"Train a character-level language model with tapegrad"};
    app.add_option("--text", o.text, "the text to learn")->capture_default_str();
    app.add_option("--model", o.model, "lstm, gru or transformer")
        ->check(CLI::IsMember({"lstm", "gru", "transformer"}))->capture_default_str();
    app.add_option("--epochs", o.epochs, "passes of (characters / (seq-len * batch-size)) steps; "
                   "0 with --load and --sample only samples")
        ->check(CLI::Range(0, 100000))->capture_default_str();
    app.add_option("--batch-size", o.batch_size, "windows per step")
        ->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--seq-len", o.seq_len, "characters per window")
        ->check(CLI::Range(2, 100000))->capture_default_str();
    app.add_option("--dim", o.size.dim, "embedding width (the transformer's default: 128)")
        ->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--hidden", o.size.hidden, "the LSTM's or GRU's state")
        ->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--layers", o.size.layers, "stacked layers (the transformer's default: 2)")
        ->check(CLI::Range(1, 100))->capture_default_str();
    app.add_option("--lr", o.lr, "AdamW's learning rate, cosine-annealed to a twentieth")
        ->check(examples::positive())->capture_default_str();
    app.add_option("--clip-grad-norm", o.clip, "the largest gradient norm")
        ->check(examples::positive())->capture_default_str();
    app.add_option("--seed", o.seed, "weights, windows and samples")->capture_default_str();
    app.add_option("--threads", o.threads, "0: every core")->check(CLI::Range(0, 1024));
    app.add_option("--limit", o.limit, "use only the first N characters of the text");
    app.add_option("--sample", o.sample, "write N characters after training (or after --load)");
    app.add_option("--temperature", o.temperature, "below 1: safer choices; above 1: wilder")
        ->check(examples::positive())->capture_default_str();
    app.add_option("--prompt", o.prompt, "the text the sample continues")->capture_default_str();
    app.add_option("--save", o.save, "write the trained model (.npz)");
    app.add_option("--load", o.load, "start from a model of --save (same --model, --text)");
    app.add_option("--metrics", o.metrics, "write bits per character per epoch (CSV)");
    CLI11_PARSE(app, argc, argv);
    if (o.model == "transformer") {  // its defaults
        if (!app.count("--dim")) o.size.dim = 128;
        if (!app.count("--layers")) o.size.layers = 2;
    }
    try {
        return run(o);
    } catch (const std::exception& e) {
        std::cerr << "char_model: " << e.what() << std::endl;
        return 1;
    }
}
