#include "program.hpp"

#include <algorithm>
#include <exception>
#include <numeric>
#include <sstream>

namespace fuzz {

using namespace tapegrad;

std::size_t Graph::root_index() const {
    for (std::size_t i = values.size(); i-- > 0;)
        if (values[i].requires_grad()) return i;
    return values.size();
}

Tensor Graph::root() const {
    const std::size_t i = root_index();
    return i < values.size() ? values[i] : Tensor();
}

std::string Program::describe() const {
    std::ostringstream out;
    for (std::size_t g = 0; g < graphs.size(); ++g) {
        out << "graph " << g << ":\n";
        for (const std::string& s : graphs[g].steps) out << "  " << s << "\n";
    }
    return out.str();
}

namespace {

constexpr std::size_t max_ops = 12;

// A build with a leaf nudged made another program than the first build.
struct Diverged {};

// The ops the bytes choose from, one case each in Builder::op().
enum class Op {
    neg, exp, expm1, sin, cos, abs, square, sign, floor, round, relu, sigmoid, tanh, silu, gelu,
    gelu_tanh, softplus, leaky_relu, elu, clamp, pow_int, scalar_arith,            // unary
    log, log1p, sqrt, reciprocal, pow_real,                                        // x > 0
    softmax, log_softmax, sum_axis, mean_axis, max_axis, min_axis, logsumexp, var_axis,
    stddev_axis, argmax, argmin, sum_all, mean_all, max_all, min_all, var_all,     // reductions
    reshape, flatten, transpose2d, transpose, permute, unsqueeze, squeeze, expand, sum_to,
    slice, select, index_select, gather, scatter_add, concat, stack, split, chunk, embedding,
    add, sub, mul, div, maximum, minimum, where, masked_fill,                      // binary
    matmul, linear, conv2d, max_pool2d, avg_pool2d, relu_max_pool2d, batch_norm,
    batch_norm_relu_max_pool2d, layer_norm, dropout, lstm_layer,
    absolute_loss, squared_loss, hinge_loss, exponential_loss, log_loss, log_loss_with_logits,
    cross_entropy, cross_entropy_from_probabilities, zero_one_loss,
    detach, count
};

class Builder {
  public:
    Builder(Choices& choices, const Overrides* overrides, Program& program)
        : c_(choices), o_(overrides), p_(program) {}

    void run() {
        p_.graphs.resize(2 + c_.pick(2));
        // Every graph starts from a leaf, so each has one to differentiate.
        for (Graph& g : p_.graphs) {
            g_ = &g;
            leaf(shape(0, 3), true);
        }
        const std::size_t ops = 1 + c_.pick(max_ops);
        for (std::size_t i = 0; i < ops; ++i) {
            g_ = &p_.graphs[c_.pick(p_.graphs.size())];
            op();
        }
    }

  private:
    Choices& c_;
    const Overrides* o_;
    Program& p_;
    Graph* g_ = nullptr;
    std::size_t frozen_at_ = 0;
    std::size_t values_made_ = 0;  // leaf values so far (their offsets)
    // The op being built: the values handed to it, and whether its output is a constant
    // (detached) or comes from a zero_one_loss.
    std::vector<Tensor> used_;
    bool frozen_op_ = false, zero_one_op_ = false;

    std::size_t dim() { return 1 + c_.pick(3); }
    Shape shape(std::size_t min_rank, std::size_t max_rank) {
        Shape s(min_rank + c_.pick(max_rank - min_rank + 1));
        for (std::size_t& d : s) d = dim();
        return s;
    }

    // A fresh leaf of values from the bytes; most require a gradient. Each value gets its own
    // offset n / 2^20 (n counts the program's leaf values, below 2^14: under a quarter of the
    // choices' spacing of 1/16, so a value is still never 0, an integer or a half), so that no
    // two leaf values are equal: a tie of two leaf values
    // meeting in a max or a min is a point where no derivative exists, and finite differences
    // there can read flat while any gradient rule picks a side.
    Tensor leaf(const Shape& s, bool requires_grad) {
        Array a = Array::from_shape(s);
        for (float& v : a) v = c_.value() + float(values_made_++ % 16384) / 1048576.0f;
        const std::size_t id = p_.leaf_count++;
        if (o_ && o_->leaf == id && requires_grad) {
            if (o_->element >= a.size()) throw Diverged{};
            a.data()[o_->element] = float(double(a.data()[o_->element]) + o_->delta);
        }
        Tensor t(std::move(a), requires_grad);
        std::set<std::size_t> depends;
        if (requires_grad) {
            g_->leaves.push_back(t);
            g_->leaf_ids.push_back(id);
            depends.insert(id);
        }
        g_->values.push_back(t);
        g_->depends.push_back(std::move(depends));
        g_->steps.push_back("leaf " + std::to_string(id) + " " + shape_str(s) +
                            (requires_grad ? " requires_grad" : ""));
        used_.push_back(t);
        return t;
    }
    Tensor leaf(const Shape& s) { return leaf(s, c_.pick(4) != 0); }

    // A constant (no gradient): integers in [0, bound) for indices and labels, or 0/1 masks.
    Tensor integers(const Shape& s, std::size_t bound) {
        Array a = Array::from_shape(s);
        for (float& v : a) v = float(c_.pick(bound + (c_.pick(16) == 0 ? 1 : 0)));  // at times out of range
        return Tensor(std::move(a));
    }

    // An operand: an existing value of the graph (used again) or a fresh leaf.
    Tensor any() {
        if (c_.pick(3) != 0) return use(g_->values[c_.pick(g_->values.size())]);
        return leaf(shape(0, 3));
    }
    // Notes an existing value as an operand of the op being built.
    const Tensor& use(const Tensor& t) {
        used_.push_back(t);
        return t;
    }
    // An operand of rank in [lo, hi]: an existing one when the graph has it, else fresh.
    Tensor of_rank(std::size_t lo, std::size_t hi) {
        std::vector<std::size_t> fit;
        for (std::size_t i = 0; i < g_->values.size(); ++i)
            if (g_->values[i].dim() >= lo && g_->values[i].dim() <= hi) fit.push_back(i);
        if (!fit.empty() && c_.pick(3) != 0) return use(g_->values[fit[c_.pick(fit.size())]]);
        return leaf(shape(lo, hi));
    }
    // An image batch [N, C, H, W].
    Tensor image() {
        for (std::size_t i = 0; i < g_->values.size(); ++i)
            if (g_->values[i].dim() == 4 && c_.pick(2)) return use(g_->values[i]);
        return leaf({1 + c_.pick(2), 1 + c_.pick(3), 2 + c_.pick(4), 2 + c_.pick(4)});
    }
    // Mostly x made positive (x² + 1/4) for ops defined on x > 0; at times x as it is.
    Tensor positive(const Tensor& x) { return c_.pick(4) ? square(x) + 0.25f : x; }
    // An axis for x, sometimes one it does not have.
    int axis(const Tensor& x) {
        const int rank = int(x.dim());
        const int span = 2 * std::max(rank, 1) + (c_.pick(8) == 0 ? 2 : 0);
        return int(c_.pick(std::size_t(span))) - std::max(rank, 1);
    }
    // A shape that broadcasts with s: some of its axes 1, some leading axes gone or added.
    Shape broadcastable(const Shape& s) {
        Shape out;
        if (c_.pick(4) == 0) out.push_back(dim());
        for (std::size_t i = c_.pick(s.size() + 1) == 0 ? 1 : 0; i < s.size(); ++i)
            out.push_back(c_.pick(3) == 0 ? 1 : s[i]);
        return out;
    }
    // A second operand for a binary op with x.
    Tensor partner(const Tensor& x) {
        if (c_.pick(4) == 0) return any();  // perhaps a shape that does not broadcast
        return leaf(broadcastable(x.shape()));
    }
    Reduction reduction() { return Reduction(c_.pick(3)); }
    float exponent() { return c_.coin() ? 0.5f : -1.5f; }
    int correction() { return int(c_.pick(2)); }
    Tensor slice_of(const Tensor& x, int axis) {
        const long begin = long(c_.pick(5)) - 2, end = long(c_.pick(6)) - 1;
        return slice(x, axis, begin, end, long(1 + c_.pick(2)));
    }

    // A detached copy: a constant to backward. Builds with overrides reuse the first build's.
    Tensor freeze(const Tensor& x) {
        frozen_op_ = true;
        Tensor t = x.detach();
        if (o_ && o_->frozen) {
            if (frozen_at_ >= o_->frozen->size())
                throw Diverged{};  // not an op's refusal: a bug of the fuzzer's, and a crash
            t = Tensor((*o_->frozen)[frozen_at_++]);
        }
        else p_.frozen.push_back(t.value());
        return t;
    }

    // The op's output joins the graph, depending on what its operands depend on.
    void add(const Tensor& t, const char* name) {
        std::set<std::size_t> depends;
        if (zero_one_op_) depends.insert(through_zero_one);
        for (const Tensor& u : used_)
            for (std::size_t i = 0; i < g_->values.size() && !frozen_op_; ++i)
                if (g_->values[i].node() == u.node() && u.requires_grad())
                    depends.insert(g_->depends[i].begin(), g_->depends[i].end());
        g_->values.push_back(t);
        g_->depends.push_back(std::move(depends));
        g_->steps.push_back(std::string(name) + " -> " + shape_str(t.shape()) +
                            (t.requires_grad() ? " requires_grad" : ""));
    }

    void op() {
        const Op which = Op(c_.pick(std::size_t(Op::count)));
        const char* name = "op";
        used_.clear();
        frozen_op_ = zero_one_op_ = false;
        try {
            Tensor y = make(which, name);
            if (y.defined()) add(y, name);
        } catch (const std::exception& e) {
            // Ops refuse bad arguments with a message; the program goes on without this op.
            if (std::string(e.what()).empty()) throw std::logic_error("an op threw an empty message");
            ++p_.ops_refused;
            g_->steps.push_back(std::string(name) + " refused: " + e.what());
        }
        // Now and then a hook that hands back an equal gradient, or none. (The bytes are read
        // whether or not the value requires a gradient: builds under NoGrad read the same.)
        if (c_.pick(8) == 0) {
            const Tensor& t = g_->values.back();
            const bool replaces = c_.coin();
            if (t.requires_grad()) {
                if (replaces) t.register_hook([](const Tensor& dy) { return dy * 1.0f; });
                else t.register_hook([](const Tensor&) { return Tensor(); });
                g_->steps.push_back("  hook on it");
            }
        }
    }

    Tensor make(Op which, const char*& name) {
        switch (which) {
#define UNARY(id, expr)          \
    case Op::id: {               \
        name = #id;              \
        const Tensor x = any();  \
        return expr;             \
    }
            UNARY(neg, -x)
            UNARY(exp, exp(x))
            UNARY(expm1, expm1(x))
            UNARY(sin, sin(x))
            UNARY(cos, cos(x))
            UNARY(abs, abs(x))
            UNARY(square, square(x))
            UNARY(sign, sign(x))
            UNARY(floor, floor(x))
            UNARY(round, round(x))
            UNARY(relu, relu(x))
            UNARY(sigmoid, sigmoid(x))
            UNARY(tanh, tanh(x))
            UNARY(silu, silu(x))
            UNARY(gelu, gelu(x))
            UNARY(gelu_tanh, gelu(x, GeluApproximation::tanh))
            UNARY(leaky_relu, leaky_relu(x, 0.125f))
            UNARY(elu, elu(x, 0.75f))
            UNARY(log, log(positive(x)))
            UNARY(log1p, log1p(positive(x)))
            UNARY(sqrt, sqrt(positive(x)))
            UNARY(reciprocal, reciprocal(positive(x)))
            UNARY(sum_all, sum(x))
            UNARY(mean_all, mean(x))
            UNARY(max_all, max(x))
            UNARY(min_all, min(x))
            UNARY(var_all, var(x))
            UNARY(flatten, flatten(x))
            UNARY(transpose2d, transpose(x))
#undef UNARY
#define AXIS(id, expr)                      \
    case Op::id: {                          \
        name = #id;                         \
        const Tensor x = of_rank(1, 3);     \
        const int a = axis(x);              \
        const bool keep = c_.coin();        \
        (void)keep;                         \
        return expr;                        \
    }
            AXIS(softmax, softmax(x, a))
            AXIS(log_softmax, log_softmax(x, a))
            AXIS(sum_axis, sum(x, a, keep))
            AXIS(mean_axis, mean(x, a, keep))
            AXIS(max_axis, max(x, a, keep))
            AXIS(min_axis, min(x, a, keep))
            AXIS(logsumexp, logsumexp(x, a, keep))
            AXIS(var_axis, var(x, a, keep, int(c_.pick(2))))
            AXIS(argmax, freeze(argmax(x, a, keep)))
            AXIS(argmin, freeze(argmin(x, a, keep)))
            AXIS(unsqueeze, unsqueeze(x, a))
            AXIS(squeeze, squeeze(x, a))
            AXIS(select, select(x, a, long(c_.pick(4)) - 1))
            AXIS(slice, slice_of(x, a))
            AXIS(chunk, chunk(x, 1 + c_.pick(3), a)[0])
#undef AXIS
            case Op::clamp: {
                name = "clamp";
                // (4k + 1) / 64: never a leaf value, nor the sum of two.
                const float lo = (4.0f * (float(c_.pick(64)) - 32.0f) + 1.0f) / 64.0f;
                const Tensor x = any();
                const float hi = lo + float(1 + c_.pick(64)) / 16.0f;
                return clamp(x, lo, hi);
            }
            case Op::softplus: {
                name = "softplus";
                const Tensor x = any();
                const float beta = c_.coin() ? 1.0f : 2.0f;
                const float threshold = c_.coin() ? 20.0f : 1.0f;
                return softplus(x, beta, threshold);
            }
            case Op::pow_real: {
                name = "pow_real";
                const Tensor x = positive(any());
                return pow(x, exponent());
            }
            case Op::stddev_axis: {
                name = "stddev_axis";
                const Tensor x = positive(of_rank(1, 3));
                const int a = axis(x);
                const bool keep = c_.coin();
                return stddev(x, a, keep, correction());
            }
            case Op::pow_int: {
                name = "pow_int";
                const Tensor x = any();
                return pow(x, float(2 + c_.pick(2)));
            }
            case Op::scalar_arith: {
                name = "scalar_arith";
                const Tensor x = any();
                const float s = c_.value();
                switch (c_.pick(5)) {
                    case 0: return x + s;
                    case 1: return s - x;
                    case 2: return x * s;
                    case 3: return x / s;
                    default: return 1.5f / positive(x);
                }
            }
            case Op::reshape: {
                name = "reshape";
                const Tensor x = any();
                const std::size_t n = x.size() + (c_.pick(8) == 0 ? 1 : 0);
                switch (c_.pick(3)) {
                    case 0: return reshape(x, {n});
                    case 1: return reshape(x, {1, n});
                    default: return reshape(x, {n, 1});
                }
            }
            case Op::transpose: {
                name = "transpose";
                const Tensor x = of_rank(1, 3);
                const int a = axis(x);
                return transpose(x, a, axis(x));
            }
            case Op::permute: {
                name = "permute";
                const Tensor x = of_rank(1, 3);
                std::vector<int> axes(x.dim());
                std::iota(axes.begin(), axes.end(), 0);
                for (std::size_t i = axes.size(); i > 1; --i) std::swap(axes[i - 1], axes[c_.pick(i)]);
                if (c_.pick(8) == 0) axes.back() = axes.front();  // not a permutation
                return permute(x, axes);
            }
            case Op::expand: {
                name = "expand";
                const Tensor x = any();
                Shape s = x.shape();
                for (std::size_t& d : s)
                    if (d == 1) d = dim();
                if (c_.coin()) s.insert(s.begin(), dim());
                return expand(x, s);
            }
            case Op::sum_to: {
                name = "sum_to";
                const Tensor x = any();
                return sum_to(x, broadcastable(x.shape()));
            }
            case Op::index_select: {
                name = "index_select";
                const Tensor x = of_rank(1, 3);
                const int a = axis(x);
                const std::size_t n = x.shape()[std::size_t((a + int(x.dim())) % int(x.dim()))];
                return index_select(x, a, integers({1 + c_.pick(4)}, n));
            }
            case Op::gather: {
                name = "gather";
                const Tensor x = of_rank(1, 3);
                const int a = axis(x);
                const Shape s = x.shape();
                const std::size_t ax = std::size_t((a + int(s.size())) % int(s.size()));
                Shape is = s;
                for (std::size_t d = 0; d < is.size(); ++d)
                    if (d != ax) is[d] = 1 + c_.pick(s[d]);
                is[ax] = 1 + c_.pick(4);
                return gather(x, a, integers(is, s[ax]));
            }
            case Op::scatter_add: {
                name = "scatter_add";
                const Tensor x = of_rank(1, 3);
                const int a = axis(x);
                const Shape s = x.shape();
                const std::size_t ax = std::size_t((a + int(s.size())) % int(s.size()));
                Shape is = s;
                for (std::size_t d = 0; d < is.size(); ++d) is[d] = 1 + c_.pick(s[d]);
                const Tensor index = integers(is, s[ax]);
                return scatter_add(x, a, index, leaf(is));
            }
            case Op::concat: {
                name = "concat";
                const Tensor x = of_rank(1, 3);
                const int a = axis(x);
                Shape s = x.shape();
                s[std::size_t((a + int(s.size())) % int(s.size()))] = dim();
                const Tensor y = c_.pick(3) ? leaf(s) : x;  // x joined to itself: used twice
                return concat({x, y}, a);
            }
            case Op::stack: {
                name = "stack";
                const Tensor x = any();
                const Tensor y = c_.pick(3) ? leaf(x.shape()) : x;
                return stack({x, y}, int(c_.pick(x.dim() + 2)) - 1);
            }
            case Op::split: {
                name = "split";
                const Tensor x = of_rank(1, 3);
                const int a = axis(x);
                const std::size_t n = x.shape()[std::size_t((a + int(x.dim())) % int(x.dim()))];
                const std::size_t first = c_.pick(n + 1);
                const std::vector<Tensor> parts = split(x, {first, n - first}, a);
                return parts[c_.pick(2)];
            }
            case Op::embedding: {
                name = "embedding";
                const Tensor w = leaf({1 + c_.pick(4), dim()});
                return embedding(integers(shape(1, 2), w.shape()[0]), w);
            }
#define BINARY(id, expr)                  \
    case Op::id: {                        \
        name = #id;                       \
        Tensor a = any(), b = partner(a); \
        if (c_.coin()) std::swap(a, b);   \
        return expr;                      \
    }
            BINARY(add, a + b)
            BINARY(sub, a - b)
            BINARY(mul, a * b)
            BINARY(maximum, maximum(a, b))
            BINARY(minimum, minimum(a, b))
#undef BINARY
            case Op::div: {
                name = "div";
                const Tensor a = any();
                return a / positive(partner(a));
            }
            case Op::where: {
                name = "where";
                const Tensor a = any();
                const Tensor b = partner(a);
                return where(integers(broadcastable(a.shape()), 2), a, b);
            }
            case Op::masked_fill: {
                name = "masked_fill";
                const Tensor x = any();
                const Tensor mask = integers(broadcastable(x.shape()), 2);
                return masked_fill(x, mask, c_.value());
            }
            case Op::matmul: {
                name = "matmul";
                const Tensor a = of_rank(1, 3);
                const std::size_t k = a.shape().back() + (c_.pick(8) == 0 ? 1 : 0);
                switch (c_.pick(4)) {
                    case 0: return matmul(a, leaf({k}));
                    case 1: return matmul(a, leaf({k, dim()}));
                    case 2: return matmul(a, leaf({1 + c_.pick(2), k, dim()}));
                    default: return matmul(leaf({dim(), a.shape()[0]}), a);
                }
            }
            case Op::linear: {
                name = "linear";
                const Tensor x = of_rank(1, 3);
                const std::size_t out = dim();
                const Tensor w = leaf({out, x.shape().back()});
                return linear(x, w, c_.coin() ? leaf({out}) : Tensor());
            }
            case Op::conv2d: {
                name = "conv2d";
                const Tensor x = image();
                const std::size_t channels = x.shape()[1];
                const std::size_t groups = c_.coin() ? 1 : channels;
                const std::size_t out = groups * (1 + c_.pick(2)), k = 1 + c_.pick(3);
                const Tensor w = leaf({out, channels / groups, k, k});
                const Tensor b = c_.coin() ? leaf({out}) : Tensor();
                const std::size_t stride = 1 + c_.pick(2), padding = c_.pick(2);
                return conv2d(x, w, b, stride, padding, 1 + c_.pick(2), groups);
            }
            case Op::relu_max_pool2d: {
                name = "relu_max_pool2d";
                return relu_max_pool2d(image());
            }
            case Op::max_pool2d: {
                name = "max_pool2d";
                const Tensor x = image();
                const std::size_t kernel = 1 + c_.pick(3), stride = 1 + c_.pick(2);
                return max_pool2d(x, kernel, stride, c_.pick(2));
            }
            case Op::avg_pool2d: {
                name = "avg_pool2d";
                const Tensor x = image();
                const std::size_t kernel = 1 + c_.pick(3), stride = 1 + c_.pick(2);
                return avg_pool2d(x, kernel, stride, c_.pick(2));
            }
            case Op::batch_norm:
            case Op::batch_norm_relu_max_pool2d: {
                const bool fused = which == Op::batch_norm_relu_max_pool2d;
                name = fused ? "batch_norm_relu_max_pool2d" : "batch_norm";
                const Tensor x = fused || c_.coin() ? image() : of_rank(2, 2);
                const std::size_t channels = x.shape()[1];
                Array var = Array::from_shape({channels});
                for (float& v : var) v = 0.5f + float(c_.pick(8)) / 4.0f;
                const Tensor mean(Array(xt::zeros<float>({channels}))), running_var(std::move(var));
                const Tensor w = c_.coin() ? leaf({channels}) : Tensor();
                const Tensor b = c_.coin() ? leaf({channels}) : Tensor();
                if (fused) return batch_norm_relu_max_pool2d(x, mean, running_var, w, b);
                return batch_norm(x, mean, running_var, w, b, c_.coin());
            }
            case Op::layer_norm: {
                name = "layer_norm";
                const Tensor x = of_rank(1, 3);
                const Shape s = x.shape();
                Shape normalized(s.end() - std::ptrdiff_t(1 + c_.pick(std::min<std::size_t>(2, s.size()))), s.end());
                const Tensor w = c_.coin() ? leaf(normalized) : Tensor();
                const Tensor b = w.defined() && c_.coin() ? leaf(normalized) : Tensor();
                return layer_norm(x, normalized, w, b);
            }
            case Op::dropout: {
                name = "dropout";
                const Tensor x = any();
                const float p = c_.coin() ? 0.5f : 0.0f;
                return dropout(x, p, c_.coin());
            }
            case Op::lstm_layer: {
                name = "lstm_layer";
                const std::size_t t = 1 + c_.pick(3), n = 1 + c_.pick(2), in = dim(), h = 1 + c_.pick(2);
                const Tensor x = leaf({t, n, in}), h0 = leaf({n, h}), c0 = leaf({n, h});
                const Tensor w_ih = leaf({4 * h, in}), w_hh = leaf({4 * h, h});
                if (c_.coin()) return lstm_layer(x, h0, c0, w_ih, w_hh);
                const Tensor b_ih = leaf({4 * h}), b_hh = leaf({4 * h});
                return lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh);
            }
            case Op::absolute_loss:
            case Op::squared_loss: {
                name = which == Op::absolute_loss ? "absolute_loss" : "squared_loss";
                const Tensor a = any();
                const Tensor y = leaf(a.shape(), false);
                return which == Op::absolute_loss ? absolute_loss(a, y, reduction())
                                                  : squared_loss(a, y, reduction());
            }
            case Op::hinge_loss:
            case Op::exponential_loss: {
                name = which == Op::hinge_loss ? "hinge_loss" : "exponential_loss";
                const Tensor a = any();
                const Tensor y = integers(a.shape(), 2) * 2.0f - 1.0f;
                return which == Op::hinge_loss ? hinge_loss(a, y, reduction())
                                               : exponential_loss(a, y, reduction());
            }
            case Op::log_loss: {
                name = "log_loss";
                const Tensor a = any();
                const Tensor y = integers(a.shape(), 2);
                return log_loss(sigmoid(a), y, reduction());
            }
            case Op::log_loss_with_logits: {
                name = "log_loss_with_logits";
                const Tensor a = any();
                const Tensor y = integers(a.shape(), 2);
                return log_loss_with_logits(a, y, reduction());
            }
            case Op::cross_entropy:
            case Op::zero_one_loss: {
                name = which == Op::cross_entropy ? "cross_entropy" : "zero_one_loss";
                const Tensor a = of_rank(2, 2);
                const std::size_t n = a.shape()[0], classes = a.shape()[1];
                const Tensor labels = integers({n}, classes);
                if (which == Op::zero_one_loss) {
                    zero_one_op_ = true;
                    return zero_one_loss(a, labels, reduction());
                }
                if (c_.coin()) return cross_entropy(a, labels, reduction());
                const Tensor probabilities = softmax(leaf({n, classes}, false), 1);
                return cross_entropy(a, probabilities, reduction());
            }
            case Op::cross_entropy_from_probabilities: {
                name = "cross_entropy_from_probabilities";
                const Tensor a = of_rank(2, 2);
                const Tensor y = softmax(leaf(a.shape(), false), 1);
                return cross_entropy_from_probabilities(softmax(a, 1), y, reduction());
            }
            case Op::detach: {
                name = "detach";
                return freeze(any());
            }
            case Op::count: break;
        }
        return Tensor();
    }
};

}  // namespace

Program build(Choices& choices, const Overrides* overrides) {
    Program program;
    manual_seed(7);  // dropout draws the same masks in every build
    Builder(choices, overrides, program).run();
    return program;
}

}  // namespace fuzz
