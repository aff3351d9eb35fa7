// The sgemm roofline: how fast OpenBLAS alone runs the matrix products the MNIST layers issue, and
// how much of that speed tapegrad's Linear and Conv2D keep once the tape, the bias, im2col, col2im
// and the thread pool are around them.
//
// The GEMMs are not written down here: the benchmark is linked with -Wl,--wrap=cblas_sgemm, so
// every cblas_sgemm the library calls goes through __wrap_cblas_sgemm below, which can note its
// shape. One forward (under NoGrad) and one forward + backward of each layer are captured; those
// exact calls (shapes, transposes, beta, leading dimensions) are then replayed on buffers of
// their own, so the roofline follows ops/matmul.cpp and ops/conv.cpp as they change.
//
// Replayed two ways, and the faster counts as OpenBLAS's figure on this many threads:
//   sequential   one call after another, OpenBLAS on all the threads;
//   concurrent   (threads > 1, at least as many calls as threads) the calls split into contiguous
//                shares, one std::thread each, OpenBLAS single-threaded in each: the way the
//                library's thread pool runs per-image GEMMs.
// fraction = (OpenBLAS's time for the calls) / (the layer's time): 1 means the layer costs nothing
// beyond its GEMMs. GFLOP/s count the GEMM flops only (2 m n k per call).
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <tapegrad/backend/narrow_gemm.hpp>
#include <tapegrad/backend/small_gemm.hpp>
#include <tapegrad/backend/conv_plane.hpp>
#include <tapegrad/tapegrad.hpp>

#include "bench.hpp"

namespace {

struct Call {
    bool ta, tb;
    int m, n, k, lda, ldb, ldc;
    float beta;
    double flops() const { return 2.0 * m * n * k; }
    auto key() const { return std::make_tuple(ta, tb, m, n, k, lda, ldb, ldc, beta); }
};

std::atomic<bool> capturing{false};
std::mutex captured_mutex;
std::vector<Call> captured;

}  // namespace

extern "C" {

void __real_cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb,
                        blasint m, blasint n, blasint k, float alpha, const float* a, blasint lda,
                        const float* b, blasint ldb, float beta, float* c, blasint ldc);

// Every cblas_sgemm of the program lands here (see the top of this file); it only notes the call
// while a capture is on, so the other workloads pay one relaxed atomic load per GEMM.
void __wrap_cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb,
                        blasint m, blasint n, blasint k, float alpha, const float* a, blasint lda,
                        const float* b, blasint ldb, float beta, float* c, blasint ldc) {
    if (capturing.load(std::memory_order_relaxed)) {
        if (order != CblasRowMajor) {  // replay() assumes row-major, as the library calls it
            std::swap(m, n);
            std::swap(a, b);
            std::swap(lda, ldb);
            std::swap(ta, tb);
        }
        const std::lock_guard<std::mutex> lock(captured_mutex);
        captured.push_back({ta == CblasTrans, tb == CblasTrans, m, n, k, lda, ldb, ldc, beta});
    }
    __real_cblas_sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // extern "C"

namespace bench {

namespace {

using namespace tapegrad;

// Seconds per call of f: after two warm-up calls, calls are grouped so a group takes at least
// `chunk` seconds, and the fastest group (per call) is returned. The fastest, not the median: a
// roofline asks what the code can do, and on a shared machine the slower groups measure the
// neighbours; the layer and its GEMMs are timed the same way, so the fraction stays fair.
template <class F>
double time_call(F&& f, bool quick) {
    const double chunk = quick ? 0.005 : 0.02;
    const int groups = quick ? 3 : 5;
    f();
    f();
    std::size_t calls = 1;
    for (;;) {
        const double t0 = now();
        for (std::size_t i = 0; i < calls; ++i) f();
        if (now() - t0 >= chunk) break;
        calls *= 2;
    }
    std::vector<double> per_call;
    for (int g = 0; g < groups; ++g) {
        const double t0 = now();
        for (std::size_t i = 0; i < calls; ++i) f();
        per_call.push_back((now() - t0) / static_cast<double>(calls));
    }
    return *std::min_element(per_call.begin(), per_call.end());
}

void fill_random(float* data, std::size_t size) {
    std::uint32_t state = 12345;
    for (std::size_t i = 0; i < size; ++i) {
        state = state * 1664525u + 1013904223u;
        data[i] = static_cast<float>(state >> 8) / 16777216.0f - 0.5f;
    }
}

// The op's products as OpenBLAS runs them. Those on tapegrad's own kernels (the convolution's
// generated ones, backend/small_gemm.hpp; the narrow products, backend/narrow_gemm.hpp;
// the direct convolution of one-channel images, ops/conv_plane.hpp) never reach cblas_sgemm, so
// the capture runs the op with them switched off; the op itself is timed with them on, and a
// fraction above 1 then means that they beat OpenBLAS on the same products.
std::vector<Call> capture(const std::function<void()>& f) {
    struct Switch {  // restores the kernels and stops capturing however f ends
        bool generated = small_gemm_generated();
        Switch() {
            use_generated_gemm(false);
            use_narrow_gemm(false);
            use_plane_conv(false);
        }
        ~Switch() {
            capturing = false;
            use_generated_gemm(generated);
            use_narrow_gemm(true);
            use_plane_conv(true);
        }
    } off;
    captured.clear();
    capturing = true;
    f();
    return captured;
}

// The captured calls on buffers of their own: A and B per distinct shape, shared; C per thread.
class Replay {
  public:
    Replay(std::vector<Call> calls, int threads) : calls_(std::move(calls)), threads_(threads) {
        for (const Call& c : calls_) {
            if (operands_.count(c.key())) continue;
            Operands& o = operands_[c.key()];
            o.a.resize(static_cast<std::size_t>(c.ta ? c.k : c.m) * c.lda);
            o.b.resize(static_cast<std::size_t>(c.tb ? c.n : c.k) * c.ldb);
            fill_random(o.a.data(), o.a.size());
            fill_random(o.b.data(), o.b.size());
            for (int t = 0; t < threads_; ++t)
                o.c.emplace_back(static_cast<std::size_t>(c.m) * c.ldc, 0.0f);
        }
    }

    double flops() const {
        double total = 0;
        for (const Call& c : calls_) total += c.flops();
        return total;
    }

    // Calls [begin, end) on thread t's C buffers.
    void run(std::size_t begin, std::size_t end, int t) {
        for (std::size_t i = begin; i < end; ++i) {
            const Call& c = calls_[i];
            Operands& o = operands_.at(c.key());
            __real_cblas_sgemm(CblasRowMajor, c.ta ? CblasTrans : CblasNoTrans,
                               c.tb ? CblasTrans : CblasNoTrans, c.m, c.n, c.k, 1.0f, o.a.data(),
                               c.lda, o.b.data(), c.ldb, c.beta,
                               o.c[static_cast<std::size_t>(t)].data(), c.ldc);
        }
    }

    double sequential(bool quick) {
        return time_call([&] { run(0, calls_.size(), 0); }, quick);
    }

    // 0 when it does not apply (one thread, or fewer calls than threads).
    double concurrent(bool quick) {
        const std::size_t n = calls_.size(), parts = static_cast<std::size_t>(threads_);
        if (threads_ < 2 || n < parts) return 0.0;
        const int blas_threads = openblas_get_num_threads();
        openblas_set_num_threads(1);
        const double s = time_call(
            [&] {
                std::vector<std::thread> workers;
                for (std::size_t t = 1; t < parts; ++t)
                    workers.emplace_back([&, t] {
                        run(n * t / parts, n * (t + 1) / parts, static_cast<int>(t));
                    });
                run(0, n / parts, 0);
                for (std::thread& w : workers) w.join();
            },
            quick);
        openblas_set_num_threads(blas_threads);
        return s;
    }

    // Distinct calls with their counts, for the report.
    std::string summary() const {
        std::map<decltype(calls_[0].key()), std::size_t> counts;
        std::vector<Call> order;
        for (const Call& c : calls_)
            if (counts[c.key()]++ == 0) order.push_back(c);
        std::string out = "[";
        for (const Call& c : order)
            out += (out.size() > 1 ? ", " : "") +
                   Json()
                       .str("op", std::string(c.ta ? "T" : "N") + (c.tb ? "T" : "N"))
                       .num("m", c.m)
                       .num("n", c.n)
                       .num("k", c.k)
                       .num("beta", c.beta)
                       .num("count", static_cast<double>(counts[c.key()]))
                       .dump();
        return out + "]";
    }

  private:
    struct Operands {
        std::vector<float> a, b;
        std::vector<std::vector<float>> c;
    };
    std::vector<Call> calls_;
    int threads_;
    std::map<decltype(Call().key()), Operands> operands_;
};

struct Layer {
    std::string name;
    std::shared_ptr<nn::Module> module;
    Shape input;
    bool input_grad;  // whether the layer's input needs a gradient where the model uses it
};

// One direction (forward, or forward + backward) of a layer: its replayed calls and the layer
// itself, timed in alternation, `rounds` times.
class Part {
  public:
    Part(std::function<void()> op, int threads)
        : op_(std::move(op)), replay_(capture(op_), threads) {}

    void measure(bool quick) {
        op_times_.push_back(time_call(op_, quick));
        seq_.push_back(replay_.sequential(quick));
        const double c = replay_.concurrent(quick);
        if (c > 0) conc_.push_back(c);
    }

    std::string json() const {
        auto fastest = [](const std::vector<double>& v) {
            return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
        };
        const double op = fastest(op_times_), seq = fastest(seq_), conc = fastest(conc_);
        const bool use_conc = conc > 0 && conc < seq;
        const double gemm = use_conc ? conc : seq, flops = replay_.flops();
        return Json()
            .raw("gemms", replay_.summary())
            .num("flops", flops)
            .num("gemm_seconds", gemm)
            .str("gemm_mode", use_conc ? "concurrent" : "sequential")
            .num("gemm_sequential_seconds", seq)
            .num("gemm_concurrent_seconds", conc > 0 ? conc : NAN)
            .num("op_seconds", op)
            .num("blas_gflops", flops / gemm / 1e9)
            .num("op_gflops", flops / op / 1e9)
            .num("fraction", gemm / op)
            .dump();
    }

  private:
    std::function<void()> op_;
    Replay replay_;
    std::vector<double> op_times_, seq_, conc_;
};

}  // namespace

int run_roofline(const Options& o) {
    const std::size_t b = o.batch;
    manual_seed(1);
    auto conv = [](std::size_t c, std::size_t out) {
        return std::make_shared<nn::Conv2D>(nn::Conv2dOptions(c, out, 5).padding(2));
    };
    const std::vector<Layer> layers = {
        {"Linear 784->256", std::make_shared<nn::Linear>(784, 256), {b, 784}, false},  // ReLU MLP
        {"Linear 256->256", std::make_shared<nn::Linear>(256, 256), {b, 256}, true},
        {"Linear 256->10", std::make_shared<nn::Linear>(256, 10), {b, 256}, true},
        {"Linear 784->10", std::make_shared<nn::Linear>(784, 10), {b, 784}, false},  // tutorial
        {"Linear 980->10", std::make_shared<nn::Linear>(980, 10), {b, 980}, true},   // CNN head
        {"Conv2D 1->20 5x5 pad 2 on 28x28", conv(1, 20), {b, 1, 28, 28}, false},
        {"Conv2D 20->20 5x5 pad 2 on 14x14", conv(20, 20), {b, 20, 14, 14}, true},
    };

    // Rounds alternate the layer and its replayed GEMMs, so a burst of load on the machine hits
    // both sides of the fraction; each figure is the fastest over the rounds.
    const int rounds = o.quick ? 1 : 3;
    std::string results = "[";
    for (std::size_t li = 0; li < layers.size(); ++li) {
        const Layer& l = layers[li];
        Array input = Array::from_shape(l.input);
        fill_random(input.data(), input.size());
        const Tensor x(std::move(input), l.input_grad);
        nn::Module& m = *l.module;
        Array dy = Array::from_shape(m(x).shape());
        dy.fill(0.01f);
        Part forward(
            [&] {
                NoGrad no_grad;
                m(x);
            },
            o.threads);
        // In a model the layer's input is another op's output, and its gradient is handed on,
        // not added anywhere; x here is a leaf, so its gradient is dropped before each backward
        // rather than summed over the calls. The parameters' gradients are summed, as after an
        // optimizer's zero_grad().
        Part train(
            [&] {
                x.clear_grad();
                m(x).backward(dy);
            },
            o.threads);
        for (int r = 0; r < rounds; ++r) {
            forward.measure(o.quick);
            train.measure(o.quick);
        }
        results += std::string(li ? ", " : "") +
                   Json()
                       .str("name", l.name)
                       .raw("input", quote(shape_str(l.input)))
                       .boolean("input_requires_grad", l.input_grad)
                       .raw("forward", forward.json())
                       .raw("train", train.json())
                       .dump();
    }
    std::cout << Json()
                     .str("side", "tapegrad")
                     .str("workload", "roofline")
                     .num("threads", o.threads)
                     .num("batch", static_cast<double>(b))
                     .boolean("generated_kernels", small_gemm_generated())
                     .raw("layers", results + "]")
                     .boolean("ok", true)
                     .num("peak_rss_mb", peak_rss_mb())
                     .dump()
              << std::endl;
    return 0;
}

}  // namespace bench
