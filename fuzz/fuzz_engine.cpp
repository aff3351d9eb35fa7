// The engine on programs the input chooses (fuzz/engine/program.hpp): two or three independent
// graphs of up to 12 ops drawn from the whole op set, then up to 8 sweeps over them in an order
// the input chooses: backward() with and without retain_graph or create_graph, grad() with and
// without create_graph (and then the gradient of a function of the gradients), and allow_unused.
//
// What must hold, or the input is a finding (the run aborts and libFuzzer keeps the input):
//   - no crash, leak or sanitizer report; an op refuses bad arguments with a message;
//   - every gradient a sweep adds to a leaf, and every gradient grad() returns, equals a central
//     finite difference of the program rebuilt with that leaf element nudged (below);
//   - a leaf the root does not depend on gets no gradient (grad() says so unless allow_unused);
//   - a sweep of one graph changes no gradient of another; grad() changes no grad();
//   - a sweep that throws changes no gradient; the only sweeps that may throw are those through
//     zero_one_loss (whose backward refuses by design) and those of a graph already released;
//   - once every handle is dropped, pruning leaves the tape empty.
//
// The finite differences: f(x) = sum_i c_i y_i in double, where y is the graph's root (float32)
// and c its seed. With steps h = 2^-6 and h/2, the one-sided slopes at h/2 must agree (else a
// kink lies within the step, and the element is not checked), and so must the central
// differences at h and h/2 (else the function is too curved or too noisy there); their
// Richardson combination is the reference. The bound: 0.1 % of the larger value, twice the two
// central differences' disagreement, and the float32 rounding of f divided by the step, taken
// from the magnitudes of the graph's values (an f of large intermediate terms is noisier).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include <tapegrad/tapegrad.hpp>

#include "engine/program.hpp"

using namespace tapegrad;

namespace {

constexpr double step = 1.0 / 64.0;
constexpr std::size_t elements_checked = 10;  // per graph and per sweep kind
constexpr std::size_t max_actions = 8;

const std::uint8_t* input_data = nullptr;
std::size_t input_size = 0;
const fuzz::Program* current = nullptr;
std::vector<std::string> sweeps;  // the sweeps so far, for the report

// How much was checked, printed at exit when FUZZ_ENGINE_STATS is set (to see that a corpus
// exercises the checks, not only the ops).
struct Stats {
    std::size_t programs = 0, ops = 0, refused = 0, sweeps = 0, checked = 0, unchecked = 0,
                second_order = 0;
    ~Stats() {
        if (std::getenv("FUZZ_ENGINE_STATS"))
            std::fprintf(stderr,
                         "fuzz_engine: %zu programs, %zu steps (%zu ops refused), %zu sweeps, %zu "
                         "gradient elements checked against finite differences (%zu second "
                         "order), %zu not checkable (a kink or a curve within the step)\n",
                         programs, ops, refused, sweeps, checked, second_order, unchecked);
    }
} stats;

[[noreturn]] void finding(const std::string& what) {
    std::fprintf(stderr, "fuzz_engine: %s\n%s", what.c_str(),
                 current ? current->describe().c_str() : "");
    for (const std::string& line : sweeps) std::fprintf(stderr, "%s\n", line.c_str());
    std::abort();
}

std::string flags(const GradOptions& o) {
    return std::string(o.retain_graph ? " retain_graph" : "") +
           (o.create_graph ? " create_graph" : "") + (o.allow_unused ? " allow_unused" : "") +
           (o.grad_output.defined() ? "" : " (seed 1)");
}

// An element of a leaf: the graph's leaf `k`, element `e`.
struct Element {
    std::size_t k, e;
    bool operator<(const Element& o) const { return k != o.k ? k < o.k : e < o.e; }
};

// A reference derivative with its bound, or nothing when the element cannot be checked.
struct Reference {
    double value = 0.0, bound = 0.0;
    // Some value of the graph is exactly 0, where a derivative rule may divide by zero (sqrt,
    // std, a negative power): there PyTorch's rules give inf or NaN, and so may the engine's,
    // though the function is smooth enough for finite differences.
    bool singular = false;
};

double largest_magnitude(const fuzz::Graph& g) {
    double m = 1.0;
    for (const Tensor& t : g.values)
        for (float v : t.value()) m = std::max(m, double(std::abs(v)));
    return m;
}

bool has_zero(const fuzz::Graph& g) {
    for (const Tensor& t : g.values)
        for (float v : t.value())
            if (v == 0.0f) return true;
    return false;
}

bool all_finite(const fuzz::Graph& g) {
    for (const Tensor& t : g.values)
        for (float v : t.value())
            if (!std::isfinite(v)) return false;
    return true;
}

// Finite differences of phi(program) around the first build, for the elements asked.
// `phi` maps a program built with one element nudged to a number (nullopt: not computable).
template <class Phi>
std::map<Element, Reference> differences(std::size_t graph, const std::set<Element>& elements,
                                         double noise_scale, Phi&& phi, double phi0,
                                         bool recording) {
    std::map<Element, Reference> out;
    const double eps = std::numeric_limits<float>::epsilon();
    const fuzz::Graph& g = current->graphs[graph];
    const bool singular = has_zero(g);
    for (const Element& el : elements) {
        fuzz::Overrides o;
        o.leaf = g.leaf_ids[el.k];
        o.element = el.e;
        o.frozen = &current->frozen;
        double f[4];  // at +h, -h, +h/2, -h/2
        const double deltas[4] = {step, -step, step / 2, -step / 2};
        bool ok = true;
        for (int i = 0; i < 4 && ok; ++i) {
            o.delta = deltas[i];
            fuzz::Choices again(input_data, input_size);
            std::optional<NoGrad> off;
            if (!recording) off.emplace();
            const fuzz::Program p = fuzz::build(again, &o);
            const std::optional<double> v = phi(p);
            ok = v.has_value() && std::isfinite(*v);
            if (ok) f[i] = *v;
        }
        if (!ok) continue;
        const double noise = 4.0 * eps * noise_scale / step;
        // The right slope minus the left one, at both steps: a smooth f's shrinks with the step
        // (f'' h), a kink's within the step does not (it is the jump in slope). A tie of a max,
        // a relu at exactly 0: not checkable by differences.
        const double right = (f[2] - phi0) / (step / 2), left = (phi0 - f[3]) / (step / 2);
        const double bend_wide = (f[0] - 2.0 * phi0 + f[1]) / step;
        const double bend_narrow = right - left;
        if (std::abs(bend_narrow) > 0.6 * std::abs(bend_wide) &&
            std::abs(bend_narrow) > 1e-4 * (std::abs(right) + std::abs(left))) {
            ++stats.unchecked;
            continue;
        }
        // The central differences at h and h/2 agree for a smooth f; a jump of f within the
        // step (a tie of a max seen through its gradient: f(x) is the mean of the two sides)
        // makes the narrow one about twice the wide one. A smaller gap (a kink between h/2 and
        // h) widens the bound; the Richardson combination cancels a smooth f's h^2 term.
        const double wide = (f[0] - f[1]) / (2 * step), narrow = (f[2] - f[3]) / step;
        if (std::abs(wide - narrow) > 0.25 * std::max(std::abs(wide), std::abs(narrow)) + noise) {
            ++stats.unchecked;
            continue;
        }
        out[el] = {(4.0 * narrow - wide) / 3.0, 2.0 * std::abs(wide - narrow) + 3.0 * noise,
                   singular};
    }
    return out;
}

// sum_i c_i y_i in double.
double contract(const Array& y, const Array& c) {
    double s = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) s += double(c.data()[i]) * double(y.data()[i]);
    return s;
}

double magnitude(const Array& a) {
    double s = 0.0;
    for (float v : a) s += std::abs(double(v));
    return s;
}

void check_gradient(const std::string& what, float got, const Reference& r) {
    if (!std::isfinite(got) && r.singular) {
        ++stats.unchecked;
        return;
    }
    ++stats.checked;
    const double bound = 1e-3 * std::max(std::abs(double(got)), std::abs(r.value)) + r.bound;
    if (!(std::abs(double(got) - r.value) <= bound)) {
        std::ostringstream out;
        out << what << ": the engine gives " << got << ", finite differences " << r.value
            << " (bound " << bound << ")";
        finding(out.str());
    }
}

// The state of one graph between sweeps.
struct GraphState {
    Array seed;                // c: the root's seed
    bool implicit_seed = false;  // a one-element root swept with backward() and no seed
    bool released = false;       // a sweep without retain_graph let go of it
    // A sweep of a gradient recorded from this graph went through some of its records, and let
    // go of those (as PyTorch's does): a later sweep may find its graph released, or not.
    bool maybe_released = false;
    bool refuses = false;        // the root depends on a zero_one_loss
    std::optional<std::map<Element, Reference>> first;  // references, made on first need
    std::set<Element> checked;                          // the elements they are for
};

class Run {
  public:
    Run(fuzz::Choices& choices, fuzz::Program& program) : c_(choices), p_(program) {
        for (const fuzz::Graph& g : p_.graphs) {
            GraphState s;
            const Tensor root = g.root();
            if (root.defined()) {
                s.seed = Array::from_shape(root.shape());
                for (float& v : s.seed) v = c_.value();
                s.implicit_seed = root.size() == 1 && c_.coin();
                if (s.implicit_seed) s.seed.fill(1.0f);
                s.refuses = g.depends[g.root_index()].count(fuzz::through_zero_one) > 0;
                for (std::size_t n = 0; n < elements_checked; ++n) {
                    const std::size_t k = c_.pick(g.leaves.size());
                    const std::size_t e = c_.pick(g.leaves[k].size());
                    if (e < g.leaves[k].size()) s.checked.insert({k, e});  // not of an empty leaf
                }
            }
            states_.push_back(std::move(s));
        }
    }

    void actions() {
        const std::size_t count = 1 + c_.pick(max_actions);
        for (std::size_t a = 0; a < count; ++a) {
            const std::size_t g = c_.pick(p_.graphs.size());
            if (!p_.graphs[g].root().defined()) continue;
            switch (c_.pick(3)) {
                case 0: backward(g); break;
                case 1: gradient(g, false); break;
                default: gradient(g, true); break;
            }
        }
    }

  private:
    fuzz::Choices& c_;
    fuzz::Program& p_;
    std::vector<GraphState> states_;

    // The references for graph g's root, made once.
    const std::map<Element, Reference>& first_order(std::size_t g) {
        GraphState& s = states_[g];
        if (s.first) return *s.first;
        const fuzz::Graph& graph = p_.graphs[g];
        s.first.emplace();
        if (!all_finite(graph)) return *s.first;
        const double scale =
            magnitude(s.seed) * largest_magnitude(graph) * double(graph.steps.size() + 1);
        const std::size_t root = graph.root_index();
        const std::size_t values = graph.values.size();
        auto phi = [&](const fuzz::Program& q) -> std::optional<double> {  // built under NoGrad
            const fuzz::Graph& h = q.graphs[g];
            if (h.values.size() != values) return std::nullopt;
            return contract(h.values[root].value(), s.seed);
        };
        *s.first = differences(g, s.checked, scale, phi,
                               contract(graph.values[root].value(), s.seed), false);
        return *s.first;
    }

    // Every leaf's gradient, as it stands (nullopt: none).
    using Grads = std::vector<std::vector<std::optional<Array>>>;
    Grads snapshot() const {
        Grads out;
        for (const fuzz::Graph& g : p_.graphs) {
            out.emplace_back();
            for (const Tensor& leaf : g.leaves)
                out.back().push_back(leaf.has_grad() ? std::optional<Array>(leaf.grad())
                                                     : std::nullopt);
        }
        return out;
    }
    void expect_unchanged(const Grads& before, const char* after,
                          std::size_t except = SIZE_MAX) const {
        for (std::size_t g = 0; g < p_.graphs.size(); ++g) {
            if (g == except) continue;
            for (std::size_t k = 0; k < p_.graphs[g].leaves.size(); ++k) {
                const Tensor& leaf = p_.graphs[g].leaves[k];
                const std::optional<Array>& then = before[g][k];
                if (leaf.has_grad() != then.has_value() ||
                    (then && (leaf.grad().shape() != then->shape() ||  // bit for bit (NaN too)
                              (then->size() > 0 &&
                               std::memcmp(then->data(), leaf.grad().data(),
                                           then->size() * sizeof(float)) != 0))))
                    finding(std::string(after) + " changed the gradient of leaf " +
                            std::to_string(k) + " of graph " + std::to_string(g));
            }
        }
    }

    // A sweep that may throw: true when it ran. A throw is a finding unless the graph was
    // released or goes through zero_one_loss; either way no gradient may change.
    template <class Sweep>
    bool attempt(std::size_t g, const char* what, Sweep&& sweep) {
        GraphState& s = states_[g];
        const auto before = snapshot();
        try {
            sweep();
        } catch (const std::exception& e) {
            const std::string message = e.what();
            const bool expected = ((s.released || s.maybe_released) &&
                                   message.find("released") != std::string::npos) ||
                                  (s.refuses && message.find("zero_one") != std::string::npos) ||
                                  (s.refuses && s.released);
            if (!expected)
                finding(std::string(what) + " of graph " + std::to_string(g) + " threw: " + message);
            expect_unchanged(before, "a sweep that threw");
            s.released = true;  // a failed sweep may have released part of the graph
            return false;
        }
        if (s.released) finding(std::string(what) + " of a released graph did not throw");
        if (s.refuses) finding(std::string(what) + " through zero_one_loss did not throw");
        return true;
    }

    GradOptions options(std::size_t g, bool retain, bool create) {
        GradOptions o;
        o.retain_graph = retain;
        o.create_graph = create;
        if (!states_[g].implicit_seed) o.grad_output = Tensor(states_[g].seed);
        return o;
    }

    void backward(std::size_t g) {
        const fuzz::Graph& graph = p_.graphs[g];
        const bool retain = c_.coin(), create = c_.pick(4) == 0;
        const auto before = snapshot();
        const std::map<Element, Reference>& refs = first_order(g);
        const Tensor root = graph.root();
        sweeps.push_back("sweep: backward of graph " + std::to_string(g) + flags(options(g, retain, create)));
        if (!attempt(g, "backward", [&] { root.backward(options(g, retain, create)); })) return;
        // A sweep from a leaf has no records to let go of.
        if (!retain && !create && !root.is_leaf()) states_[g].released = true;
        expect_unchanged(before, "backward of another graph", g);
        const std::set<std::size_t>& depends = graph.depends[graph.root_index()];
        for (std::size_t k = 0; k < graph.leaves.size(); ++k) {
            const Tensor& leaf = graph.leaves[k];
            if (!depends.count(graph.leaf_ids[k])) {
                if (leaf.has_grad() != before[g][k].has_value())
                    finding("backward gave a gradient to leaf " + std::to_string(k) +
                            ", which the root does not depend on");
                continue;
            }
            if (!leaf.has_grad()) finding("backward gave leaf " + std::to_string(k) + " no gradient");
            for (const auto& [el, r] : refs) {
                if (el.k != k) continue;
                const std::optional<Array>& then = before[g][k];
                const float earlier = then ? then->data()[el.e] : 0.0f;
                const float added = leaf.grad().data()[el.e] - earlier;
                // The sum with the earlier gradient rounds too: widen by its size.
                Reference wider = r;
                wider.bound += 4.0 * std::numeric_limits<float>::epsilon() * std::abs(double(earlier));
                check_gradient("backward, leaf " + std::to_string(k) + " element " +
                                   std::to_string(el.e),
                               added, wider);
            }
        }
    }

    void gradient(std::size_t g, bool create) {
        const fuzz::Graph& graph = p_.graphs[g];
        if (graph.leaves.empty()) return;
        std::vector<std::size_t> asked;  // leaves asked for, by number in the graph
        for (std::size_t k = 0; k < graph.leaves.size(); ++k)
            if (c_.pick(3) != 0) asked.push_back(k);
        if (asked.empty()) asked.push_back(0);
        std::vector<Tensor> inputs;
        for (std::size_t k : asked) inputs.push_back(graph.leaves[k]);
        const bool retain = c_.coin();
        GradOptions o = options(g, retain, create);
        o.allow_unused = c_.coin();
        const std::set<std::size_t>& depends = graph.depends[graph.root_index()];
        bool unused = false;
        for (std::size_t k : asked) unused = unused || !depends.count(graph.leaf_ids[k]);

        const auto before = snapshot();
        const std::map<Element, Reference>& refs = first_order(g);
        std::vector<Tensor> got;
        const Tensor root = graph.root();
        sweeps.push_back("sweep: grad of graph " + std::to_string(g) + " for " +
                      std::to_string(asked.size()) + " leaves" + flags(o));
        try {
            if (!attempt(g, "grad", [&] {
                    try {
                        got = grad(root, inputs, o);
                    } catch (const std::invalid_argument& e) {
                        if (unused && !o.allow_unused &&
                            std::string(e.what()).find("is not used") != std::string::npos)
                            throw Unused{};
                        throw;
                    }
                }))
                return;
        } catch (const Unused&) {
            // The sweep ran (and let go of the graph unless asked to keep it); it found the
            // input unused only at its end.
            expect_unchanged(before, "grad() refusing an unused input");
            if (!retain && !create && !root.is_leaf()) states_[g].released = true;
            return;
        }
        if (unused && !o.allow_unused) finding("grad() accepted an input the output does not use");
        if (!retain && !create && !root.is_leaf()) states_[g].released = true;
        expect_unchanged(before, "grad()");
        for (std::size_t i = 0; i < asked.size(); ++i) {
            const std::size_t k = asked[i];
            if (!depends.count(graph.leaf_ids[k])) {
                if (got[i].defined()) finding("grad() gave a gradient for an unused input");
                continue;
            }
            if (!got[i].defined()) finding("grad() gave no gradient for input " + std::to_string(i));
            for (const auto& [el, r] : refs)
                if (el.k == k)
                    check_gradient("grad, leaf " + std::to_string(k) + " element " +
                                       std::to_string(el.e),
                                   got[i].value().data()[el.e], r);
        }
        if (create && c_.coin()) second_order(g, asked, got);
    }

    // After grad(create_graph): the gradient of phi = sum_i <g_i, r_i> with respect to the
    // leaves asked, against finite differences of phi computed from first-order gradients.
    void second_order(std::size_t g, const std::vector<std::size_t>& asked,
                      const std::vector<Tensor>& grads) {
        const fuzz::Graph& graph = p_.graphs[g];
        std::vector<Array> r;
        Tensor phi;
        double phi0 = 0.0, scale = 0.0;
        for (std::size_t i = 0; i < asked.size(); ++i) {
            if (!grads[i].defined()) {
                r.emplace_back();
                continue;
            }
            Array ri = Array::from_shape(grads[i].shape());
            for (float& v : ri) v = c_.value();
            phi0 += contract(grads[i].value(), ri);
            scale += magnitude(ri) * std::max(1.0, double(xt::amax(xt::abs(grads[i].value()))()));
            const Tensor term = sum(grads[i] * Tensor(ri));
            phi = phi.defined() ? phi + term : term;
            r.push_back(std::move(ri));
        }
        if (!phi.defined() || !phi.requires_grad() || !all_finite(graph)) return;
        scale *= largest_magnitude(graph) * double(graph.steps.size() + 1);
        std::vector<Tensor> inputs;
        for (std::size_t k : asked) inputs.push_back(graph.leaves[k]);
        GradOptions o;
        o.allow_unused = true;
        std::vector<Tensor> second;
        states_[g].maybe_released = states_[g].maybe_released || !states_[g].released;
        sweeps.push_back("sweep: grad of the gradients of graph " + std::to_string(g));
        try {
            second = grad(phi, inputs, o);
        } catch (const std::exception& e) {
            if (states_[g].refuses) return;
            finding(std::string("the gradient of a gradient threw: ") + e.what());
        }
        // phi at a nudged point: the first-order grad() there.
        const GraphState& s = states_[g];
        const std::size_t root = graph.root_index(), values = graph.values.size();
        auto at = [&](const fuzz::Program& q) -> std::optional<double> {
            const fuzz::Graph& h = q.graphs[g];
            if (h.values.size() != values) return std::nullopt;
            std::vector<Tensor> in;
            for (std::size_t k : asked) in.push_back(h.leaves[k]);
            GradOptions first;
            first.allow_unused = true;
            if (!s.implicit_seed) first.grad_output = Tensor(s.seed);
            std::vector<Tensor> gs;
            try {
                gs = grad(h.values[root], in, first);
            } catch (const std::exception&) {
                return std::nullopt;
            }
            double total = 0.0;
            for (std::size_t i = 0; i < gs.size(); ++i)
                if (gs[i].defined() && r[i].size()) total += contract(gs[i].value(), r[i]);
            return total;
        };
        std::set<Element> elements;
        for (const Element& el : s.checked)
            for (std::size_t k : asked)
                if (el.k == k && elements.size() < 4) elements.insert(el);
        const auto refs = differences(g, elements, scale, at, phi0, true);
        stats.second_order += refs.size();
        for (std::size_t i = 0; i < asked.size(); ++i)
            for (const auto& [el, ref] : refs)
                if (el.k == asked[i])
                    check_gradient("second order, leaf " + std::to_string(el.k) + " element " +
                                       std::to_string(el.e),
                                   second[i].defined() ? second[i].value().data()[el.e] : 0.0f,
                                   ref);
    }

    struct Unused {};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool once = [] {
        set_num_threads(1);
        return true;
    }();
    (void)once;
    input_data = data;
    input_size = size;
    sweeps.clear();
    {
        fuzz::Choices choices(data, size);
        fuzz::Program program = fuzz::build(choices);
        current = &program;
        ++stats.programs;
        stats.refused += program.ops_refused;
        for (const fuzz::Graph& g : program.graphs) stats.ops += g.steps.size();
        Run run(choices, program);
        run.actions();
        stats.sweeps += sweeps.size();
        current = nullptr;
    }
    Tape& tape = Tape::current();
    tape.prune();
    if (tape.size() != 0) {
        std::ostringstream out;
        tape.print(out);
        finding("records left on the tape after every handle was dropped:\n" + out.str());
    }
    return 0;
}
