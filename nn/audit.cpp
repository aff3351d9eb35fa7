#include "audit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "../core/tape.hpp"

namespace tapegrad::nn {

namespace {

thread_local std::vector<const AuditWatch*> watches;  // this thread's, innermost last

bool is_activation(const std::string& type) { return type == "ReLU" || type == "Sigmoid" || type == "Tanh"; }

// The rows' modules in named_parameters() order: a module before its children.
void layers_of(const Module& m, const std::string& path, std::vector<std::pair<std::string, const Module*>>& out) {
    if (!m.own_parameters().empty() || is_activation(m.type_name())) out.emplace_back(path.empty() ? "(model)" : path, &m);
    for (const auto& [name, child] : m.named_children()) layers_of(*child, path.empty() ? name : path + "." + name, out);
}

std::vector<Array> values_of(const Module& model) {
    std::vector<Array> out;
    for (const Tensor& p : model.parameters()) out.push_back(p.value());
    return out;
}

// ReLU: the fraction of units that are 0 for every sample (axis 0 is the batch).
double dead_fraction(const Array& y) {
    if (y.dimension() == 0 || y.size() == 0) return AuditRow::none;
    const std::size_t batch = y.shape()[0], units = y.size() / batch;
    std::size_t dead = 0;
    for (std::size_t u = 0; u < units; ++u) {
        bool zero = true;
        for (std::size_t n = 0; n < batch && zero; ++n) zero = y.data()[n * units + u] == 0.0f;
        dead += zero;
    }
    return static_cast<double>(dead) / static_cast<double>(units);
}

// Sigmoid and Tanh: |z| > s read from the output, y beyond sigmoid(+-s) or tanh(+-s).
double saturated_fraction(const Array& y, bool sigmoid, double s) {
    if (y.size() == 0) return AuditRow::none;
    const double hi = sigmoid ? 1.0 / (1.0 + std::exp(-s)) : std::tanh(s);
    const double lo = sigmoid ? 1.0 - hi : -hi;
    std::size_t n = 0;
    for (float v : y) n += v > hi || v < lo;
    return static_cast<double>(n) / static_cast<double>(y.size());
}

std::string field(double x) {
    if (std::isnan(x)) return "";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", x);
    return buffer;
}

}  // namespace

AuditWatch::AuditWatch(const Module& model, AuditOptions options) : model_(model), options_(options) {
    watches.push_back(this);
}

AuditWatch::~AuditWatch() { watches.erase(std::find(watches.begin(), watches.end(), this)); }

void AuditWatch::called(const Module& m, const Tensor& output) {
    if (!grad_enabled() || !output.defined()) return;  // evaluation, summary(): not training
    if (&m == &model_) {
        before_ = std::move(at_forward_);
        at_forward_ = values_of(model_);
        return;
    }
    const std::string type = m.type_name();
    if (!is_activation(type)) return;
    Seen& s = seen_[&m];
    if (type == "ReLU") s.dead = dead_fraction(output.value());
    else s.saturated = saturated_fraction(output.value(), type == "Sigmoid", options_.saturation);
}

std::vector<AuditRow> audit(const Module& model, const AuditOptions& given) {
    const AuditWatch* watch = nullptr;
    for (auto it = watches.rbegin(); it != watches.rend() && !watch; ++it)
        if (&(*it)->model() == &model) watch = *it;
    const AuditOptions& options = watch ? watch->options() : given;

    const std::vector<Tensor> all = model.parameters();
    std::unordered_map<const Node*, std::size_t> index;
    for (std::size_t i = 0; i < all.size(); ++i) index[all[i].node().get()] = i;
    // The last step's change: since the last forward pass if the optimizer has stepped since,
    // else between the last two forward passes.
    const std::vector<Array>* from = nullptr;
    const std::vector<Array>* to = nullptr;
    if (watch && watch->at_forward().size() == all.size()) {
        bool stepped = false;
        for (std::size_t i = 0; i < all.size() && !stepped; ++i) {
            const Array& now = all[i].value();
            const Array& then = watch->at_forward()[i];
            stepped = now.size() != then.size() || !std::equal(now.data(), now.data() + now.size(), then.data());
        }
        if (stepped) from = &watch->at_forward();
        else if (watch->before().size() == all.size()) from = &watch->before(), to = &watch->at_forward();
    }

    std::vector<std::pair<std::string, const Module*>> layers;
    layers_of(model, "", layers);
    std::vector<AuditRow> rows;
    for (const auto& [path, m] : layers) {
        AuditRow row;
        row.layer = path;
        row.type = m->type_name();
        if (watch) {
            if (auto it = watch->seen().find(m); it != watch->seen().end()) {
                row.dead = it->second.dead;
                row.saturated = it->second.saturated;
            }
        }
        if (!m->own_parameters().empty()) {
            double grads = 0, weights = 0, updates = 0, largest = 0;
            bool any_grad = false;
            for (const auto& [name, p] : m->own_parameters()) {
                row.parameters += p.size();
                const std::size_t i = index.at(p.node().get());
                const float* w = p.value().data();
                const float* w0 = from ? (*from)[i].data() : nullptr;
                const float* w1 = to ? (*to)[i].data() : w;
                for (std::size_t k = 0; k < p.size(); ++k) {
                    weights += double(w1[k]) * w1[k];
                    if (w0) updates += (double(w1[k]) - w0[k]) * (double(w1[k]) - w0[k]);
                }
                if (!p.has_grad()) continue;
                any_grad = true;
                for (float g : p.grad()) {
                    grads += double(g) * g;
                    largest = std::max(largest, double(std::abs(g)));
                    if (!std::isfinite(g)) largest = g;
                }
            }
            const double weight_norm = std::sqrt(weights);
            if (any_grad) {
                row.grad_norm = std::sqrt(grads);
                row.max_abs_grad = largest;
                if (!std::isfinite(row.grad_norm) || row.grad_norm > options.exploding * weight_norm) row.flag = "exploding";
                else if (row.grad_norm < options.vanishing * weight_norm) row.flag = "vanishing";
            }
            if (from && weight_norm > 0) row.update_ratio = std::sqrt(updates) / weight_norm;
        }
        if (row.dead > options.activations) row.flag = "dead";
        if (row.saturated > options.activations) row.flag = "saturated";
        rows.push_back(std::move(row));
    }
    return rows;
}

void print_audit(std::ostream& out, const std::vector<AuditRow>& rows) {
    std::ostringstream s;
    s << std::left << std::setw(12) << "layer" << std::setw(10) << "type" << std::right << std::setw(10) << "params"
      << std::setw(12) << "|grad|" << std::setw(12) << "max|grad|" << std::setw(12) << "update" << std::setw(9)
      << "dead" << std::setw(11) << "saturated" << "  flag\n";
    auto cell = [](double x, int width) {
        std::ostringstream c;
        c << std::setw(width);
        if (std::isnan(x)) c << "-";
        else c << std::setprecision(3) << x;
        return c.str();
    };
    for (const AuditRow& r : rows) {
        s << std::left << std::setw(12) << r.layer << std::setw(10) << r.type << std::right << std::setw(10)
          << (r.parameters ? std::to_string(r.parameters) : "-") << cell(r.grad_norm, 12) << cell(r.max_abs_grad, 12)
          << cell(r.update_ratio, 12) << cell(r.dead, 9) << cell(r.saturated, 11) << "  " << r.flag << "\n";
    }
    out << s.str();
}

std::string audit_csv(const std::vector<AuditRow>& rows, std::size_t step) {
    std::string out;
    for (const AuditRow& r : rows)
        out += std::to_string(step) + "," + r.layer + "," + r.type + "," + std::to_string(r.parameters) + "," +
               field(r.grad_norm) + "," + field(r.max_abs_grad) + "," + field(r.update_ratio) + "," + field(r.dead) +
               "," + field(r.saturated) + "," + r.flag + "\n";
    return out;
}

}  // namespace tapegrad::nn
