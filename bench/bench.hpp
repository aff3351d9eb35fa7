// What the benchmark's parts share: options, a clock, peak memory, and the one-line JSON each run
// prints on stdout for bench/compare.py (bench/torch_bench.py prints the same keys).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bench {

struct Options {
    std::string command;             // info, train, infer, seq, tape, roofline, ops
    std::string model = "cnn";       // cnn, cnn_bn, relu_mlp, mlp (examples/mnist/models.cpp);
                                     // seq: lstm, gru, transformer (examples/char_model)
    std::string data = "datasets/mnist";
    int threads = 1;                 // tapegrad::set_num_threads: its pool and OpenBLAS
    std::size_t batch = 100;
    std::size_t limit = 0;           // use only the first `limit` images (0: all); seq: steps
    std::size_t ops = 100000;        // tape: length of the chain
    std::size_t reps = 5;            // tape: chains timed, ops: runs of each op (medians)
    std::uint64_t seed = 1;          // train: initialisation and shuffling
    bool quick = false;              // roofline: shorter timing
    std::string only;                // ops: a comma-separated list of op names (empty: all)
};

// Seconds since an arbitrary start, monotonic.
inline double now() {
    using clock = std::chrono::steady_clock;
    return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v);

// Peak resident memory of this process so far, in MB (10^6 bytes): VmHWM from /proc/self/status.
double peak_rss_mb();

// One flat JSON object, keys in insertion order. Values are numbers, strings, booleans or
// already-formatted JSON (raw), which is enough for what the runs report.
class Json {
  public:
    Json& num(const std::string& key, double value);
    Json& str(const std::string& key, const std::string& value);
    Json& boolean(const std::string& key, bool value);
    Json& raw(const std::string& key, const std::string& json);
    std::string dump() const;

  private:
    std::vector<std::pair<std::string, std::string>> fields_;
};

std::string quote(const std::string& s);

// The subcommands; each prints one JSON object on stdout and returns the exit status.
int run_train(const Options& o);
int run_infer(const Options& o);
int run_seq(const Options& o);  // the character models: --model lstm|gru|transformer
int run_tape(const Options& o);
int run_roofline(const Options& o);
int run_ops(const Options& o);  // bench/ops.cpp

}  // namespace bench
