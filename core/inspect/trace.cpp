#include "trace.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <utility>

#include <xtensor/xbuilder.hpp>

namespace tapegrad {

namespace detail {

// A record as the sweep saw it; its nodes are held until end_sweep() reads their gradients.
struct PendingRecord {
    std::size_t index = 0;
    std::uint64_t seq = 0;
    std::string op;
    std::shared_ptr<Node> output;
    std::vector<std::shared_ptr<Node>> inputs;
    std::vector<std::uint64_t> creators;  // of the inputs, before the sweep released them
    std::vector<Array> dx;
    bool reached = false;

    // Record r at position index of the tape, holding its nodes (dx left empty).
    PendingRecord(std::size_t index_, const Record& r, bool reached_)
        : index(index_), seq(r.seq), op(r.op), output(r.output), reached(reached_) {
        for (std::size_t k = 0; k < r.inputs.size(); ++k) {
            inputs.push_back(r.inputs[k].node());
            creators.push_back(r.inputs[k].node()->record);  // before the sweep marks it released
        }
    }
};

}  // namespace detail

using detail::PendingRecord;

namespace {

double norm(const Array& a) {
    double total = 0.0;
    for (float v : a) total += static_cast<double>(v) * v;
    return std::sqrt(total);
}

std::string number(double v) {
    std::ostringstream s;
    s << std::setprecision(4) << v;
    return s.str();
}

// The summaries are built from nodes the caller holds, in forward order, so that leaves get the
// same numbers before backward (snapshot) and after it (the recorder).
std::vector<TracedRecord> build_trace(const std::vector<PendingRecord>& pending,
                                      const TraceOptions& options, const TapeRecorder* names,
                                      std::size_t sweep) {
    std::unordered_map<std::uint64_t, std::size_t> index_of_seq;
    for (const auto& p : pending) index_of_seq[p.seq] = p.index;
    std::unordered_map<const Node*, std::size_t> leaves;

    auto describe = [&](const Node& node, std::uint64_t creator) {
        TracedTensor t;
        if (names) t.name = names->name_of(node);
        t.creator = creator;
        t.id = reinterpret_cast<std::uintptr_t>(&node);
        if (creator == 0) {
            auto [it, added] = leaves.emplace(&node, leaves.size() + 1);
            t.leaf = it->second;
        }
        if (!t.name.empty()) t.label = t.name;
        else if (creator == 0) t.label = "leaf" + std::to_string(t.leaf);
        else if (auto it = index_of_seq.find(creator); it != index_of_seq.end())
            t.label = "#" + std::to_string(it->second);
        else t.label = "(released)";
        t.shape.assign(node.value.shape().begin(), node.value.shape().end());
        t.requires_grad = node.requires_grad;
        const bool small = node.value.size() <= options.max_elements;
        if (small) t.value = node.value;
        t.has_grad = node.has_grad();
        if (node.grad) {
            t.grad_norm = norm(*node.grad);
            if (small) t.grad = *node.grad;
        }
        return t;
    };

    std::vector<TracedRecord> out;
    out.reserve(pending.size());
    for (const auto& p : pending) {
        TracedRecord r;
        r.index = p.index;
        r.seq = p.seq;
        r.op = p.op;
        r.reached = p.reached;
        r.sweep = sweep;
        for (std::size_t k = 0; k < p.inputs.size(); ++k) {
            r.inputs.push_back(describe(*p.inputs[k], p.creators[k]));
            for (std::size_t j = 0; j < k; ++j)
                if (p.inputs[j] == p.inputs[k]) {
                    r.inputs.back().same_as = static_cast<int>(j);
                    break;
                }
        }
        r.output = describe(*p.output, p.seq);
        r.output.label = r.output.name.empty() ? "#" + std::to_string(p.index) : r.output.name;
        r.dx = p.dx;
        r.dx.resize(p.inputs.size(), not_kept());
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace

TapeRecorder::TapeRecorder(TraceOptions options)
    : options_(options), tape_(&Tape::current()), previous_(tape_->recorder()) {
    tape_->set_recorder(this);
    tape_->add_listener(this);
}

TapeRecorder::~TapeRecorder() {
    tape_->remove_listener(this);
    tape_->set_recorder(previous_);
}

void TapeRecorder::name(const Tensor& t, std::string name) {
    if (!t.defined()) return;
    if (names_.size() >= 64 && names_.size() % 64 == 0)  // forget tensors that are gone
        for (auto it = names_.begin(); it != names_.end();)
            it = it->second.first.expired() ? names_.erase(it) : std::next(it);
    names_[t.node().get()] = {t.node(), std::move(name)};
}

std::string TapeRecorder::name_of(const Node& node) const {
    auto it = names_.find(&node);
    if (it == names_.end() || it->second.first.lock().get() != &node)
        return previous_ ? previous_->name_of(node) : "";
    return it->second.second;
}

std::vector<TracedRecord> TapeRecorder::last_sweep() const {
    std::vector<TracedRecord> last;
    for (const TracedRecord& r : records_)
        if (r.sweep == sweeps_) last.push_back(r);
    return last;
}

void TapeRecorder::clear() {
    records_.clear();
    sweeps_ = 0;
}

PendingRecord& TapeRecorder::begin(std::size_t index, const Record& r, bool reached) {
    PendingRecord& p = pending_.emplace_back(index, r, reached);
    p.dx.assign(r.inputs.size(), not_kept());
    return p;
}

// The innermost recorder notes the sweeps into gradients; a create_graph sweep records new ops
// instead, which a later backward() may run.
bool TapeRecorder::recording() const { return tape_->recorder() == this; }

// What a record adds to an input is that input's gradient after it ran minus before. Only for
// small inputs: the copy of a large gradient would cost more than the op.
void TapeRecorder::before_record(Sweep& sweep, std::size_t index, const Record& r) {
    if (!recording() || sweep.creates_graph()) return;
    PendingRecord& p = begin(index, r, true);
    before_.assign(p.inputs.size(), not_kept());
    watched_.assign(p.inputs.size(), false);
    for (std::size_t k = 0; k < p.inputs.size(); ++k) {
        const Node& in = *p.inputs[k];
        if (!in.requires_grad || in.value.size() > options_.max_elements) continue;
        if (std::find(p.inputs.begin(), p.inputs.begin() + static_cast<std::ptrdiff_t>(k),
                      p.inputs[k]) != p.inputs.begin() + static_cast<std::ptrdiff_t>(k))
            continue;  // repeated: the first slot sees both contributions
        const Array* sum = sweep.arriving(in);
        before_[k] = sum ? *sum : Array(xt::zeros<float>(in.value.shape()));
        watched_[k] = true;
    }
}

void TapeRecorder::after_record(Sweep& sweep, std::size_t, const Record&) {
    if (!recording() || sweep.creates_graph()) return;
    PendingRecord& p = pending_.back();
    for (std::size_t k = 0; k < p.inputs.size(); ++k) {
        if (!watched_[k]) continue;
        if (const Array* sum = sweep.arriving(*p.inputs[k])) p.dx[k] = *sum - before_[k];
    }
}

void TapeRecorder::failed(Sweep&) {
    if (recording()) pending_.clear();
}

void TapeRecorder::ended(Sweep&) {
    if (!recording() || pending_.empty()) return;
    std::reverse(pending_.begin(), pending_.end());  // the sweep ran from the end
    ++sweeps_;
    std::vector<TracedRecord> traced = build_trace(pending_, options_, this, sweeps_);
    records_.insert(records_.end(), std::make_move_iterator(traced.begin()),
                    std::make_move_iterator(traced.end()));
    pending_.clear();  // lets go of the nodes
}

std::vector<TracedRecord> snapshot(const Tape& tape, const TraceOptions& options) {
    std::vector<PendingRecord> pending;
    for (std::size_t i = 0; i < tape.size(); ++i) {
        const Record& r = tape[i];
        if (!r.output) continue;
        pending.emplace_back(i, r, r.output->has_grad());
    }
    return build_trace(pending, options, tape.recorder(), 0);
}

void print_records(std::ostream& out, const std::vector<TracedRecord>& records) {
    struct Line {
        std::string index, call, shapes, value, grads;
    };
    std::vector<Line> lines;
    std::size_t w_index = 0, w_call = 0, w_shapes = 0, w_value = 0;
    for (const TracedRecord& r : records) {
        Line l;
        l.index = "#" + std::to_string(r.index);
        if (!r.output.name.empty()) l.call = r.output.name + " = ";
        l.call += r.op + "(";
        for (std::size_t k = 0; k < r.inputs.size(); ++k) {
            l.call += (k ? ", " : "") + r.inputs[k].label;
            l.shapes += (k ? " " : "") + shape_str(r.inputs[k].shape);
        }
        l.call += ")";
        l.shapes += " -> " + shape_str(r.output.shape);
        if (r.output.value.size() == 1) l.value = "= " + number(r.output.value.data()[0]);
        if (r.output.has_grad) {
            l.grads = "|grad| out " + number(r.output.grad_norm) + "  in";
            for (const TracedTensor& in : r.inputs)
                l.grads += " " + (!in.requires_grad ? std::string("-")
                                  : in.has_grad     ? number(in.grad_norm)
                                                    : std::string("none"));
        } else if (r.sweep > 0) {
            l.grads = "(no gradient reached it)";
        }
        w_index = std::max(w_index, l.index.size());
        w_call = std::max(w_call, l.call.size());
        w_shapes = std::max(w_shapes, l.shapes.size());
        w_value = std::max(w_value, l.value.size());
        lines.push_back(std::move(l));
    }
    for (const Line& l : lines) {
        std::ostringstream s;
        s << std::left << std::setw(static_cast<int>(w_index + 2)) << l.index
          << std::setw(static_cast<int>(w_call + 2)) << l.call
          << std::setw(static_cast<int>(w_shapes + 2)) << l.shapes
          << std::setw(static_cast<int>(w_value + 2)) << l.value << l.grads;
        std::string text = s.str();
        text.erase(text.find_last_not_of(' ') + 1);
        out << text << '\n';
    }
}

}  // namespace tapegrad
