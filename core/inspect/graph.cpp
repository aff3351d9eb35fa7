#include "graph.hpp"

#include <iomanip>
#include <set>
#include <sstream>

namespace tapegrad {

namespace {

std::string escape(const std::string& text) {  // for HTML-like labels and quoted strings
    std::string out;
    for (char c : text) {
        if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else if (c == '&') out += "&amp;";
        else if (c == '"') out += "&quot;";
        else out += c;
    }
    return out;
}

std::string number(float v) {
    std::ostringstream s;
    s << std::setprecision(4) << v;
    return s.str();
}

// "0.62", "(0.1, 0.2)", or one line per row of a matrix.
std::string numbers(const Array& a) {
    if (a.size() == 1) return number(a.data()[0]);
    const std::size_t row = a.dimension() >= 2 ? a.shape().back() : a.size();
    std::string out;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (i % row == 0) out += i ? ")<br/>(" : "(";
        else out += ", ";
        out += number(a.data()[i]);
    }
    return out + ")";
}

// Each tensor once: a record's output by its seq, a leaf by its number within its sweep. A value
// whose record is not in the listing (released earlier) gets a box of its own per use.
std::string node_id(const TracedRecord& r, const TracedTensor& t, bool produced) {
    if (t.creator == 0) return "s" + std::to_string(r.sweep) + "_leaf" + std::to_string(t.leaf);
    if (produced) return "t" + std::to_string(t.creator);
    return "r" + std::to_string(r.seq) + "_in" + std::to_string(&t - r.inputs.data());
}

}  // namespace

std::string to_dot(const std::vector<TracedRecord>& records, const DotOptions& options) {
    const bool detailed = records.size() <= options.detailed_up_to;
    std::set<std::uint64_t> produced;
    for (const TracedRecord& r : records) produced.insert(r.seq);
    const std::uint64_t last = records.empty() ? 0 : records.back().seq;

    std::ostringstream dot;
    dot << "digraph tape {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n"
        << "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n";
    if (!options.title.empty())
        dot << "  labelloc=t;\n  label=\"" << escape(options.title) << "\";\n";

    std::set<std::string> drawn;
    // A tensor's box: label and shape, value and gradient when they are small enough to read.
    auto tensor_node = [&](const TracedRecord& r, const TracedTensor& t) {
        const std::string id = node_id(r, t, produced.count(t.creator) > 0);
        if (!drawn.insert(id).second) return id;
        const char* fill = t.creator == 0 ? (t.requires_grad ? "#cfe2f3" : "#eeeeee")
                           : t.creator == last ? "#f4cccc"
                                               : "#ffffff";
        if (!detailed) {
            dot << "  " << id << " [shape=box, style=filled, fillcolor=\"" << fill << "\", label=\""
                << escape(t.label + " " + shape_str(t.shape)) << "\"];\n";
            return id;
        }
        const bool readable = t.value.size() > 0 && t.value.size() <= options.numbers_up_to;
        dot << "  " << id << " [shape=plaintext, label=<<table border=\"0\" cellborder=\"1\" "
            << "cellspacing=\"0\" cellpadding=\"4\"><tr><td bgcolor=\"" << fill << "\"><b>"
            << escape(t.label) << "</b> " << escape(shape_str(t.shape)) << "</td></tr>";
        if (readable) dot << "<tr><td>" << numbers(t.value) << "</td></tr>";
        if (t.has_grad) {
            dot << "<tr><td><font color=\"#a61c00\">";
            if (readable && t.grad.size() == t.value.size()) dot << "grad " << numbers(t.grad);
            else dot << "|grad| " << number(static_cast<float>(t.grad_norm));
            dot << "</font></td></tr>";
        }
        dot << "</table>>];\n";
        return id;
    };

    for (const TracedRecord& r : records) {
        const std::string op = "op" + std::to_string(r.seq);
        dot << "  " << op << " [shape=ellipse, style=filled, fillcolor=\"#fff2cc\", label=\"#"
            << r.index << " " << escape(r.op);
        if (!detailed) dot << "\\n" << escape(shape_str(r.output.shape));
        dot << "\"];\n";
        for (const TracedTensor& in : r.inputs) {
            const bool from_op = in.creator != 0 && produced.count(in.creator);
            if (detailed || !from_op) {
                const std::string id = tensor_node(r, in);  // writes the box the first time
                dot << "  " << id << " -> " << op << ";\n";
            } else {  // shapes only: from the op that made it, the shape on the edge
                dot << "  op" << in.creator << " -> " << op << " [label=\""
                    << escape(shape_str(in.shape)) << "\"];\n";
            }
        }
        if (detailed || r.seq == last) {
            const std::string id = tensor_node(r, r.output);
            dot << "  " << op << " -> " << id << ";\n";
        }
    }
    dot << "}\n";
    return dot.str();
}

}  // namespace tapegrad
