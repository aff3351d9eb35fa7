// tapegrad_bench ops: forward + backward time of each op of the op set on realistic shapes,
// the same list as bench/torch_bench.py's `ops` (same names, shapes and arguments). Each op runs
// as loss = sum(op(inputs)); loss.backward(), on fresh leaves made before the clock starts; the
// median of --reps timed runs after two warm-up runs is reported, in microseconds. PyTorch's side
// uses views where a PyTorch user would (permute, slice, select, expand give views there; every
// tapegrad op writes a new array).
#include <algorithm>
#include <functional>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <tapegrad/tapegrad.hpp>

#include "bench.hpp"

namespace bench {

namespace {

using namespace tapegrad;
using Inputs = std::vector<Tensor>;

struct OpCase {
    std::string name, shape;                  // shape: a short description for the table
    std::vector<Shape> inputs;                // random N(0, 1) inputs, each requiring a gradient
    std::function<Tensor(const Inputs&)> run;
    std::vector<Array> constants = {};        // indices and masks: passed after the inputs
};

Array whole_numbers(const Shape& shape, std::size_t below) {
    Array a = uniform_array(shape, 0.0f, static_cast<float>(below));
    return xt::floor(a);
}

std::vector<OpCase> cases() {
    const Array idx512 = whole_numbers({512}, 1024), gather_idx = whole_numbers({64, 256}, 1024);
    const Array tokens = whole_numbers({32, 128}, 10000);
    const Array mask = xt::floor(uniform_array({64, 1024}, 0.0f, 2.0f));
    const Shape m{64, 1024}, s3{32, 128, 64}, img{16, 16, 32, 32};
    return {
        {"gelu", "[64, 1024]", {m}, [](const Inputs& t) { return gelu(t[0]); }},
        {"softplus", "[64, 1024]", {m}, [](const Inputs& t) { return softplus(t[0]); }},
        {"silu", "[64, 1024]", {m}, [](const Inputs& t) { return silu(t[0]); }},
        {"leaky_relu", "[64, 1024]", {m}, [](const Inputs& t) { return leaky_relu(t[0]); }},
        {"elu", "[64, 1024]", {m}, [](const Inputs& t) { return elu(t[0]); }},
        {"sin", "[64, 1024]", {m}, [](const Inputs& t) { return sin(t[0]); }},
        {"maximum", "[64, 1024] x2", {m, m}, [](const Inputs& t) { return maximum(t[0], t[1]); }},
        {"where", "[64, 1024] x2", {m, m}, [](const Inputs& t) { return where(t[2], t[0], t[1]); }, {mask}},
        {"masked_fill", "[64, 1024]", {m}, [](const Inputs& t) { return masked_fill(t[0], t[1], 0.0f); }, {mask}},
        {"max", "[64, 1024], axis 1", {m}, [](const Inputs& t) { return max(t[0], 1); }},
        {"logsumexp", "[64, 1024], axis 1", {m}, [](const Inputs& t) { return logsumexp(t[0], 1); }},
        {"var", "[64, 1024], axis 1", {m}, [](const Inputs& t) { return var(t[0], 1); }},
        {"permute", "[32, 128, 64] -> (0, 2, 1)", {s3}, [](const Inputs& t) { return permute(t[0], {0, 2, 1}); }},
        {"slice", "[64, 1024], every 2nd column", {m}, [](const Inputs& t) { return slice(t[0], 1, 0, 1024, 2); }},
        {"index_select", "[1024, 64], 512 rows", {{1024, 64}}, [](const Inputs& t) { return index_select(t[0], 0, t[1]); }, {idx512}},
        {"gather", "[64, 1024], [64, 256] indices", {m}, [](const Inputs& t) { return gather(t[0], 1, t[1]); }, {gather_idx}},
        {"concat", "2 x [32, 128, 64], axis 1", {s3, s3}, [](const Inputs& t) { return concat({t[0], t[1]}, 1); }},
        {"stack", "2 x [32, 128, 64], axis 0", {s3, s3}, [](const Inputs& t) { return stack({t[0], t[1]}, 0); }},
        {"matmul", "[32, 128, 64] . [32, 64, 128]", {s3, {32, 64, 128}}, [](const Inputs& t) { return matmul(t[0], t[1]); }},
        {"matmul_3d_2d", "[32, 128, 64] . [64, 64]", {s3, {64, 64}}, [](const Inputs& t) { return matmul(t[0], t[1]); }},
        {"conv2d_dilated", "[16, 16, 32, 32], 32 3x3, dilation 2", {img, {32, 16, 3, 3}}, [](const Inputs& t) { return conv2d(t[0], t[1], Tensor(), 1, 2, 2); }},
        {"conv2d_depthwise", "[16, 16, 32, 32], 3x3, groups 16", {img, {16, 1, 3, 3}}, [](const Inputs& t) { return conv2d(t[0], t[1], Tensor(), 1, 1, 1, 16); }},
        {"max_pool2d", "[16, 16, 32, 32], 3x3 stride 2 pad 1", {img}, [](const Inputs& t) { return max_pool2d(t[0], 3, 2, 1); }},
        {"avg_pool2d", "[16, 16, 32, 32], 3x3 stride 2 pad 1", {img}, [](const Inputs& t) { return avg_pool2d(t[0], 3, 2, 1); }},
        {"layer_norm", "[32, 128, 64] over 64", {s3, {64}, {64}}, [](const Inputs& t) { return layer_norm(t[0], {64}, t[1], t[2]); }},
        {"batch_norm", "[64, 32, 16, 16], training", {{64, 32, 16, 16}, {32}, {32}}, [](const Inputs& t) { return batch_norm(t[0], Tensor(), Tensor(), t[1], t[2], true); }},
        {"embedding", "[32, 128] of 10000 x 64", {{10000, 64}}, [](const Inputs& t) { return embedding(t[1], t[0]); }, {tokens}},
        {"dropout", "[64, 1024], p 0.1", {m}, [](const Inputs& t) { return dropout(t[0], 0.1f, true); }},
        {"cos", "[64, 1024]", {m}, [](const Inputs& t) { return cos(t[0]); }},
        {"log1p", "[64, 1024]", {m}, [](const Inputs& t) { return log1p(abs(t[0])); }},
        {"expm1", "[64, 1024]", {m}, [](const Inputs& t) { return expm1(t[0]); }},
        {"reciprocal", "[64, 1024]", {m}, [](const Inputs& t) { return reciprocal(t[0]); }},
        {"square", "[64, 1024]", {m}, [](const Inputs& t) { return square(t[0]); }},
        {"sign", "[64, 1024]", {m}, [](const Inputs& t) { return sign(t[0]); }},
        {"floor", "[64, 1024]", {m}, [](const Inputs& t) { return floor(t[0]); }},
        {"round", "[64, 1024]", {m}, [](const Inputs& t) { return round(t[0]); }},
        {"minimum", "[64, 1024] x2", {m, m}, [](const Inputs& t) { return minimum(t[0], t[1]); }},
        {"min", "[64, 1024], axis 1", {m}, [](const Inputs& t) { return min(t[0], 1); }},
        {"stddev", "[64, 1024], axis 1", {m}, [](const Inputs& t) { return stddev(t[0], 1); }},
        {"transpose", "[32, 128, 64], axes 0 and 2", {s3}, [](const Inputs& t) { return transpose(t[0], 0, 2); }},
        {"unsqueeze", "[32, 128, 64], axis 1", {s3}, [](const Inputs& t) { return unsqueeze(t[0], 1); }},
        {"expand", "[32, 1, 64] -> [32, 128, 64]", {{32, 1, 64}}, [](const Inputs& t) { return expand(t[0], {32, 128, 64}); }},
        {"select", "[32, 128, 64], axis 1, row 5", {s3}, [](const Inputs& t) { return select(t[0], 1, 5); }},
        {"scatter_add", "[64, 1024], [64, 256] indices", {m, {64, 256}}, [](const Inputs& t) { return scatter_add(t[0], 1, t[2], t[1]); }, {gather_idx}},
        {"split", "[64, 1024] into 256 + 768", {m}, [](const Inputs& t) { return split(t[0], {256, 768}, 1)[1]; }},
        {"chunk", "[64, 1024] into 4, the third", {m}, [](const Inputs& t) { return chunk(t[0], 4, 1)[2]; }},
    };
}

}  // namespace

// The op cases named in `only` ("softplus,elu"; empty: all), an error naming an unknown one.
std::vector<OpCase> chosen(const std::string& only) {
    std::vector<OpCase> all = cases();
    if (only.empty()) return all;
    std::vector<OpCase> picked;
    std::istringstream names(only);
    for (std::string name; std::getline(names, name, ',');) {
        const auto it = std::find_if(all.begin(), all.end(), [&](const OpCase& c) { return c.name == name; });
        if (it == all.end()) throw std::invalid_argument("ops --only: no op case named \"" + name + "\"");
        picked.push_back(*it);
    }
    return picked;
}

int run_ops(const Options& o) {
    manual_seed(o.seed);
    std::ostringstream list;
    list << '[';
    bool first = true;
    for (const OpCase& c : chosen(o.only)) {
        std::vector<Array> values;
        for (const Shape& s : c.inputs) values.push_back(normal_array(s, 0.0f, 1.0f));
        std::vector<double> times;
        for (std::size_t rep = 0; rep < o.reps + 2; ++rep) {  // two warm-up runs
            Inputs t;
            for (const Array& v : values) t.emplace_back(v, true);
            for (const Array& k : c.constants) t.emplace_back(k);
            const double t0 = now();
            sum(c.run(t)).backward();
            const double t1 = now();
            if (rep >= 2) times.push_back(t1 - t0);
        }
        list << (first ? "" : ", ")
             << Json().str("name", c.name).str("shape", c.shape).num("us", median(times) * 1e6).dump();
        first = false;
    }
    list << ']';
    std::cout << Json()
                     .str("side", "tapegrad")
                     .str("workload", "ops")
                     .num("threads", o.threads)
                     .num("reps", static_cast<double>(o.reps))
                     .raw("ops", list.str())
                     .num("peak_rss_mb", peak_rss_mb())
                     .dump()
              << std::endl;
    return 0;
}

}  // namespace bench
