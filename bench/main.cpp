// tapegrad_bench: the tapegrad side of the comparison with PyTorch (bench/torch_bench.py is the
// other side, bench/compare.py runs both and prints the table; bench/run.sh is the one command).
//
//   tapegrad_bench info                                   OpenBLAS version, kernels, threads
//   tapegrad_bench train --model cnn|relu_mlp|mlp         one epoch of MNIST, images/s
//   tapegrad_bench infer --model cnn|mlp                  the 10,000 test images, no grad
//   tapegrad_bench tape [--ops 100000] [--reps 5]         ns per op of a scalar chain
//   tapegrad_bench roofline [--quick]                     Linear/Conv2D vs OpenBLAS alone
//   tapegrad_bench ops [--reps 5] [--only softplus,elu]   forward+backward of each op (ops.cpp)
//
// Common options: --threads N (tapegrad::set_num_threads: its pool and OpenBLAS; default 1),
// --data DIR (default datasets/mnist), --batch B (default 100), --limit N (only the first N
// images), --seed S (train: initialisation and shuffling; default 1). Each run prints one JSON
// object on stdout; errors go to stderr with exit status 1.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <tapegrad/backend/blas.hpp>
#include <tapegrad/backend/memory.hpp>
#include <tapegrad/backend/parallel.hpp>
#include <tapegrad/backend/small_gemm.hpp>

#include "bench.hpp"

namespace bench {

double median(std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double peak_rss_mb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) * 1024.0 / 1e6;  // kB
    return -1.0;
}

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

Json& Json::num(const std::string& key, double value) {
    if (!std::isfinite(value)) return raw(key, "null");  // JSON has no NaN; the driver flags it
    std::ostringstream out;
    out.precision(9);
    out << value;
    return raw(key, out.str());
}
Json& Json::str(const std::string& key, const std::string& value) { return raw(key, quote(value)); }
Json& Json::boolean(const std::string& key, bool value) { return raw(key, value ? "true" : "false"); }
Json& Json::raw(const std::string& key, const std::string& json) {
    fields_.emplace_back(key, json);
    return *this;
}
std::string Json::dump() const {
    std::string out = "{";
    for (std::size_t i = 0; i < fields_.size(); ++i)
        out += (i ? ", " : "") + quote(fields_[i].first) + ": " + fields_[i].second;
    return out + "}";
}

namespace {

int run_info(const Options&) {
    const tapegrad::BlasInfo info = tapegrad::blas_info();
    std::cout << Json()
                     .str("side", "tapegrad")
                     .str("workload", "info")
                     .str("blas_version", info.version)
                     .str("blas_core", info.core)
                     .str("blas_cpu_best", info.cpu_best)
                     .str("blas_chosen_by", info.chosen_by)
                     .num("blas_threads", info.threads)
                     .num("tapegrad_threads", tapegrad::num_threads())
                     .str("blas_summary", tapegrad::to_string(info))
                     .boolean("generated_kernels", tapegrad::small_gemm_generated())
                     .num("hardware_concurrency", std::thread::hardware_concurrency())
                     .dump()
              << std::endl;
    return 0;
}

std::size_t to_size(const std::string& flag, const std::string& value) {
    std::size_t used = 0;
    unsigned long long n = 0;
    try {
        n = std::stoull(value, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != value.size() || value.empty() || value[0] == '-')
        throw std::invalid_argument(flag + " needs a non-negative whole number, not \"" + value +
                                    "\"");
    return static_cast<std::size_t>(n);
}

Options parse(int argc, char** argv) {
    if (argc < 2)
        throw std::invalid_argument(
            "no subcommand; use one of: info, train, infer, seq, tape, roofline, ops (see bench/main.cpp)");
    Options o;
    o.command = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--quick") {
            o.quick = true;
            continue;
        }
        if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
        const std::string value = argv[++i];
        if (flag == "--model") o.model = value;
        else if (flag == "--data") o.data = value;
        else if (flag == "--threads") o.threads = static_cast<int>(to_size(flag, value));
        else if (flag == "--batch") o.batch = to_size(flag, value);
        else if (flag == "--limit") o.limit = to_size(flag, value);
        else if (flag == "--ops") o.ops = to_size(flag, value);
        else if (flag == "--reps") o.reps = to_size(flag, value);
        else if (flag == "--seed") o.seed = to_size(flag, value);
        else if (flag == "--only") o.only = value;
        else
            throw std::invalid_argument("unknown option " + flag +
                                        "; known: --model --data --threads --batch --limit "
                                        "--ops --reps --seed --only --quick");
    }
    if (o.threads < 1) throw std::invalid_argument("--threads must be at least 1");
    if (o.batch == 0) throw std::invalid_argument("--batch must be at least 1");
    return o;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
    tapegrad::tune_malloc();  // large arrays reused, not page-faulted (backend/memory.hpp)
    try {
        const bench::Options o = bench::parse(argc, argv);
        tapegrad::init_blas();  // switch kernels first (backend/blas.hpp), then set the threads
        tapegrad::set_num_threads(o.threads);  // the pool's and OpenBLAS's (backend/parallel.hpp)
        if (o.command == "info") return bench::run_info(o);
        if (o.command == "train") return bench::run_train(o);
        if (o.command == "infer") return bench::run_infer(o);
        if (o.command == "seq") return bench::run_seq(o);
        if (o.command == "tape") return bench::run_tape(o);
        if (o.command == "roofline") return bench::run_roofline(o);
        if (o.command == "ops") return bench::run_ops(o);
        throw std::invalid_argument("unknown subcommand \"" + o.command +
                                    "\"; use one of: info, train, infer, seq, tape, roofline, ops");
    } catch (const std::exception& e) {
        std::cerr << "tapegrad_bench: " << e.what() << "\n";
        return 1;
    }
}
