// Every op against PyTorch 1.13: values and gradients in tests/data/torch_ops.npz, computed in
// float64 by tests/data/make_torch_references.py from float32 inputs, compared to 1e-4 relative
// (test::check_close; for sums of products, a floor from their magnitudes: sum_terms below).
// The file and this table must name the same ops: a case without a C++ op fails, and so does an
// op without a case. (dropout, rand and randn draw from another generator than torch's: they are
// tested on their own rules in test_norm.cpp and test_create.cpp.)
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "helpers.hpp"

using namespace tapegrad;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// What each case of the file runs, with the arguments the script gave torch.
const std::map<std::string, Fn>& ops() {
    using T = const std::vector<Tensor>&;
    static const std::map<std::string, Fn> table{
        {"sin", [](T t) { return sin(t[0]); }},
        {"cos", [](T t) { return cos(t[0]); }},
        {"log1p", [](T t) { return log1p(t[0]); }},
        {"expm1", [](T t) { return expm1(t[0]); }},
        {"reciprocal", [](T t) { return reciprocal(t[0]); }},
        {"square", [](T t) { return square(t[0]); }},
        {"sign", [](T t) { return sign(t[0]); }},
        {"floor", [](T t) { return floor(t[0]); }},
        {"round", [](T t) { return round(t[0]); }},
        {"exp", [](T t) { return exp(t[0]); }},
        {"log", [](T t) { return log(t[0]); }},
        {"sqrt", [](T t) { return sqrt(t[0]); }},
        {"abs", [](T t) { return abs(t[0]); }},
        {"pow", [](T t) { return pow(t[0], 2.5f); }},
        {"clamp", [](T t) { return clamp(t[0], -0.5f, 1.0f); }},
        {"relu", [](T t) { return relu(t[0]); }},
        {"sigmoid", [](T t) { return sigmoid(t[0]); }},
        {"tanh", [](T t) { return tanh(t[0]); }},
        {"softmax", [](T t) { return softmax(t[0], 0); }},
        {"log_softmax", [](T t) { return log_softmax(t[0], -1); }},
        {"leaky_relu", [](T t) { return leaky_relu(t[0], 0.2f); }},
        {"elu", [](T t) { return elu(t[0], 0.7f); }},
        {"silu", [](T t) { return silu(t[0]); }},
        {"gelu", [](T t) { return gelu(t[0]); }},
        {"gelu_tanh", [](T t) { return gelu(t[0], GeluApproximation::tanh); }},
        {"softplus", [](T t) { return softplus(t[0], 2.0f, 3.0f); }},
        {"add", [](T t) { return t[0] + t[1]; }},
        {"mul", [](T t) { return t[0] * t[1]; }},
        {"div", [](T t) { return t[0] / t[1]; }},
        {"maximum", [](T t) { return maximum(t[0], t[1]); }},
        {"minimum", [](T t) { return minimum(t[0], t[1]); }},
        {"where", [](T t) { return where(t[0], t[1], t[2]); }},
        {"masked_fill", [](T t) { return masked_fill(t[0], t[1], -3.0f); }},
        {"sum_axes", [](T t) { return sum(t[0], {0, 2}, true); }},
        {"mean_axis", [](T t) { return mean(t[0], -1); }},
        {"max_all", [](T t) { return max(t[0]); }},
        {"max_axis", [](T t) { return max(t[0], 1); }},
        {"min_axis_keepdims", [](T t) { return min(t[0], 0, true); }},
        {"argmax", [](T t) { return argmax(t[0], 1); }},
        {"argmin", [](T t) { return argmin(t[0], 0, true); }},
        {"logsumexp", [](T t) { return logsumexp(t[0], 1); }},
        {"logsumexp_large", [](T t) { return logsumexp(t[0], 0, true); }},
        {"var_axis", [](T t) { return var(t[0], 1); }},
        {"var_all", [](T t) { return var(t[0]); }},
        {"var_population_keepdims", [](T t) { return var(t[0], 0, true, 0); }},
        {"std_axis", [](T t) { return stddev(t[0], -1); }},
        {"permute", [](T t) { return permute(t[0], {2, 0, 1}); }},
        {"transpose_axes", [](T t) { return transpose(t[0], 0, 2); }},
        {"unsqueeze", [](T t) { return unsqueeze(t[0], 1); }},
        {"squeeze", [](T t) { return squeeze(t[0], 1); }},
        {"expand", [](T t) { return expand(t[0], {2, 3, 4}); }},
        {"slice", [](T t) { return slice(t[0], 1, -3, 1000, 2); }},
        {"slice_clamped", [](T t) { return slice(t[0], 0, 1, 100); }},
        {"select", [](T t) { return select(t[0], 1, -2); }},
        {"index_select", [](T t) { return index_select(t[0], 0, t[1]); }},
        {"gather", [](T t) { return gather(t[0], 1, t[1]); }},
        {"scatter_add", [](T t) { return scatter_add(t[0], 0, t[1], t[2]); }},
        {"concat", [](T t) { return concat({t[0], t[1]}, 1); }},
        {"stack", [](T t) { return stack({t[0], t[1]}, -1); }},
        {"split", [](T t) {
             const std::vector<Tensor> p = split(t[0], {1, 3}, 1);
             return concat({reshape(p[0], {p[0].size()}), reshape(p[1], {p[1].size()})}, 0);
         }},
        {"chunk", [](T t) {
             std::vector<Tensor> flat;
             for (const Tensor& p : chunk(t[0], 3, 0)) flat.push_back(reshape(p, {p.size()}));
             return concat(flat, 0);
         }},
        {"embedding", [](T t) { return embedding(t[0], t[1]); }},
        {"matmul_dot", [](T t) { return matmul(t[0], t[1]); }},
        {"matmul_vec_mat", [](T t) { return matmul(t[0], t[1]); }},
        {"matmul_mat_vec", [](T t) { return matmul(t[0], t[1]); }},
        {"matmul_batched", [](T t) { return matmul(t[0], t[1]); }},
        {"matmul_3d_2d", [](T t) { return matmul(t[0], t[1]); }},
        {"linear", [](T t) { return linear(t[0], t[1], t[2]); }},
        {"conv2d", [](T t) { return conv2d(t[0], t[1], t[2], 2, 1); }},
        {"conv2d_dilation_groups", [](T t) { return conv2d(t[0], t[1], t[2], 1, 2, 2, 2); }},
        {"conv2d_depthwise", [](T t) { return conv2d(t[0], t[1], Tensor(), 2, 1, 1, 3); }},
        {"max_pool2d", [](T t) { return max_pool2d(t[0], 3, 2, 1); }},
        {"avg_pool2d", [](T t) { return avg_pool2d(t[0], 3, 2, 1); }},
        {"layer_norm", [](T t) { return layer_norm(t[0], {3, 4}, t[1], t[2]); }},
        {"layer_norm_plain", [](T t) { return layer_norm(t[0], {4}); }},
        {"batch_norm_train", [](T t) { return batch_norm(t[0], Tensor(), Tensor(), t[1], t[2], true, 0.2f); }},
        {"batch_norm_eval", [](T t) { return batch_norm(t[0], t[1], t[2], t[3], t[4], false); }},
    };
    return table;
}

// The ops whose values and gradients are sums, with the most terms any of their sums has here:
// a product's inner dimension (or the batch a broadcast operand's gradient adds up), a
// convolution's window and bias, taps (dx: O/groups x kh x kw) or positions (dw, db: N x OH x OW),
// the values summed or averaged (and the division). tapegrad's float sums are within
// exact_sum_bounds of their magnitudes, which are the op on the inputs' absolute values and its
// gradients for |w|: these are the floors of check_close where they are larger than its own.
// (The other ops' sums are short: softmax, logsumexp, var and std over 3 or 4 values, the norms
// over 4 to 24 of at most 2; a first-order estimate of their worst rounding, layer_norm's dx
// the largest, stays under 1e-5 of the largest |want|, so check_close's own floor is kept.)
const std::map<std::string, std::size_t>& sum_terms() {
    static const std::map<std::string, std::size_t> table{
        {"matmul_dot", 4},   {"matmul_vec_mat", 4}, {"matmul_mat_vec", 4},
        {"matmul_batched", 6}, {"matmul_3d_2d", 6}, {"linear", 5},
        {"conv2d", 36},        {"conv2d_dilation_groups", 112}, {"conv2d_depthwise", 9},
        {"sum_axes", 8},       {"mean_axis", 5},    {"avg_pool2d", 10},
    };
    return table;
}

std::string data_file() { return std::string(TAPEGRAD_TEST_DATA) + "/torch_ops.npz"; }

// The file's arrays as float32, by name.
std::map<std::string, Array> references() {
    std::map<std::string, Array> arrays;
    for (auto& [name, typed] : load_npz(data_file())) {
        const auto* a = std::get_if<xt::xarray<double>>(&typed);
        REQUIRE_MESSAGE(a, name << " is not float64");
        arrays[name] = xt::cast<float>(*a);
    }
    return arrays;
}

}  // namespace

TEST_CASE("every op agrees with PyTorch 1.13 on values and gradients") {
    const std::map<std::string, Array> refs = references();
    std::set<std::string> cases;
    for (const auto& entry : refs) {
        const std::string& key = entry.first;
        if (key.size() > 2 && key.compare(key.size() - 2, 2, ".y") == 0) cases.insert(key.substr(0, key.size() - 2));
    }
    for (const auto& entry : ops()) {
        INFO("op " << entry.first);
        CHECK_MESSAGE(cases.count(entry.first), "the reference file has no case for " << entry.first);
    }
    for (const std::string& name : cases) {
        INFO("case " << name);
        REQUIRE_MESSAGE(ops().count(name), "no C++ op for the case " << name);
        std::vector<Tensor> inputs;
        for (std::size_t k = 0; refs.count(name + ".in" + std::to_string(k)); ++k)
            inputs.emplace_back(refs.at(name + ".in" + std::to_string(k)),
                                refs.count(name + ".grad" + std::to_string(k)) > 0);
        const Tensor y = ops().at(name)(inputs);
        // For a sum: floors from its magnitudes, y's and then each input's gradient's.
        std::vector<Array> floors;
        const auto terms = sum_terms().find(name);
        if (terms != sum_terms().end()) {
            std::vector<Tensor> absolute;
            for (const Tensor& t : inputs) absolute.emplace_back(Array(xt::abs(t.value())), t.requires_grad());
            const Tensor magnitude = ops().at(name)(absolute);
            floors.push_back(test::exact_sum_bounds(terms->second, magnitude.value()));
            sum(magnitude * Tensor(Array(xt::abs(refs.at(name + ".w"))))).backward();
            for (const Tensor& t : absolute)
                floors.push_back(t.requires_grad() ? test::exact_sum_bounds(terms->second, t.grad()) : Array());
        }
        auto floor = [&](std::size_t k) { return k < floors.size() ? &floors[k] : nullptr; };
        test::check_close(name + " value", y.value(), refs.at(name + ".y"), floor(0));
        if (!refs.count(name + ".w")) {
            CHECK_FALSE(y.requires_grad());
            continue;
        }
        sum(y * Tensor(refs.at(name + ".w"))).backward();
        for (std::size_t k = 0; k < inputs.size(); ++k)
            if (inputs[k].requires_grad())
                test::check_close(name + " gradient of input " + std::to_string(k), inputs[k].grad(),
                            refs.at(name + ".grad" + std::to_string(k)), floor(k + 1));
    }
}

// backward() runs an op's fast path, its derivative written on arrays, where it has one; the tensor
// form runs everywhere else and under create_graph. Both, for every op on PyTorch's inputs: the
// same gradients (to the rounding of sums taken in another order).
TEST_CASE("every op's fast path gives its tensor form's gradients") {
    const std::map<std::string, Array> refs = references();
    struct Restore {
        bool before = fast_derivatives();
        ~Restore() { use_fast_derivatives(before); }
    } restore;
    std::size_t compared = 0;
    for (const auto& entry : ops()) {
        const std::string& name = entry.first;
        INFO("op " << name);
        if (!refs.count(name + ".w")) continue;  // no gradient to compare
        std::vector<Array> grads[2];
        std::vector<bool> has_grad;
        for (bool fast : {true, false}) {
            use_fast_derivatives(fast);
            std::vector<Tensor> inputs;
            for (std::size_t k = 0; refs.count(name + ".in" + std::to_string(k)); ++k)
                inputs.emplace_back(refs.at(name + ".in" + std::to_string(k)),
                                    refs.count(name + ".grad" + std::to_string(k)) > 0);
            sum(entry.second(inputs) * Tensor(refs.at(name + ".w"))).backward();
            has_grad.clear();
            for (const Tensor& t : inputs) {
                has_grad.push_back(t.requires_grad());
                grads[fast ? 0 : 1].push_back(t.requires_grad() ? t.grad() : Array());
            }
        }
        for (std::size_t k = 0; k < grads[0].size(); ++k)
            if (has_grad[k]) {
                test::check_close(name + " gradient of input " + std::to_string(k) +
                                      ": fast path against tensor form",
                                  grads[0][k], grads[1][k]);
                ++compared;
            }
    }
    CHECK(compared > 80);
}

TEST_CASE("batch_norm updates its running statistics as PyTorch does") {
    const std::map<std::string, Array> refs = references();
    const Tensor rm(refs.at("batch_norm_train.running_mean_before"));
    const Tensor rv(refs.at("batch_norm_train.running_var_before"));
    batch_norm(Tensor(refs.at("batch_norm_train.in0")), rm, rv, Tensor(refs.at("batch_norm_train.in1")),
               Tensor(refs.at("batch_norm_train.in2")), true, 0.2f);
    test::check_close("running_mean", rm.value(), refs.at("batch_norm_train.running_mean_after"));
    test::check_close("running_var", rv.value(), refs.at("batch_norm_train.running_var_after"));
}
