// The explorer's page: explore()'s numbers as JSON inside core/inspect/explorer.html.
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "../../data/formats/file.hpp"
#include "explorer.hpp"

namespace tapegrad {

namespace embedded {
extern const char* const explorer_page;  // core/inspect/explorer.html (cmake/embed.cmake)
}

namespace {

// ---- the page's data, as JSON ---------------------------------------------------------------

class Json {
  public:
    std::string text;

    void string(const std::string& s) {
        text += '"';
        for (const char ch : s) {
            const auto c = static_cast<unsigned char>(ch);
            if (c == '"' || c == '\\') (text += '\\') += ch;
            else if (c == '<') text += "\\u003c";  // never "</script>" inside the page's script
            else if (c == '\n') text += "\\n";
            else if (c < 0x20) text += ' ';
            else text += ch;
        }
        text += '"';
    }
    void number(double x, int digits = 7) {
        if (std::isnan(x)) text += "\"NaN\"";
        else if (std::isinf(x)) text += x > 0 ? "\"Infinity\"" : "\"-Infinity\"";
        else {
            char buffer[32];
            std::snprintf(buffer, sizeof buffer, "%.*g", digits, x);
            text += buffer;
        }
    }
    template <class List, class Each>
    void list(const List& items, Each each) {
        text += '[';
        bool first = true;
        for (const auto& item : items) {
            if (!first) text += ',';
            first = false;
            each(item);
        }
        text += ']';
    }
    void key(const char* name) {
        if (text.back() != '{') text += ',';
        string(name);
        text += ':';
    }
};

void write_view(Json& j, const TensorView& v, std::size_t table_up_to) {
    if (!v.kept) {
        j.text += "null";
        return;
    }
    j.text += '{';
    j.key("shape");
    j.list(v.shape, [&](std::size_t d) { j.number(static_cast<double>(d)); });
    j.key("size");
    j.number(static_cast<double>(v.size), 17);
    for (auto [name, x] : {std::pair{"min", v.min}, {"max", v.max}, {"mean", v.mean}, {"norm", v.norm}}) {
        j.key(name);
        j.number(x);
    }
    if (!v.values.empty()) {
        // Numbers shown as numbers keep float's digits; a heat map's colours need fewer.
        const int digits = v.size <= table_up_to ? 9 : 4;
        j.key("values");
        j.list(v.values, [&](float x) { j.number(x, digits); });
    }
    if (!v.histogram.empty()) {
        j.key("histogram");
        j.list(v.histogram, [&](std::size_t c) { j.number(static_cast<double>(c), 17); });
    }
    j.text += '}';
}

std::string to_json(const Exploration& e) {
    const std::size_t table_up_to = e.table_up_to;
    Json j;
    j.text = "{";
    j.key("title");
    j.string(e.title);
    j.key("table_up_to");
    j.number(static_cast<double>(table_up_to));
    j.key("root");
    j.number(static_cast<double>(e.root));
    j.key("tensors");
    j.list(e.tensors, [&](const ExploredTensor& t) {
        j.text += '{';
        j.key("label");
        j.string(t.label);
        j.key("kind");
        j.string(t.kind);
        j.key("record");
        j.number(t.record);
        j.key("value");
        write_view(j, t.value, table_up_to);
        j.key("grad");
        write_view(j, t.grad, table_up_to);
        j.key("checks");
        j.list(t.checks, [&](const GradientCheck& c) {
            j.text += '[';
            j.number(static_cast<double>(c.element), 17);
            j.text += ',';
            j.number(c.gradient);
            j.text += ',';
            j.number(c.estimate);
            j.text += ']';
        });
        j.text += '}';
    });
    j.key("records");
    j.list(e.records, [&](const ExploredRecord& r) {
        j.text += '{';
        j.key("index");
        j.number(static_cast<double>(r.index), 17);
        j.key("op");
        j.string(r.op);
        j.key("formula");
        j.string(r.formula);
        j.key("derivative");
        j.string(r.derivative);
        j.key("legend");
        j.string(r.legend);
        j.key("family");
        j.string(r.family);
        j.key("inputs");
        j.list(r.inputs, [&](std::size_t i) { j.number(static_cast<double>(i), 17); });
        j.key("output");
        j.number(static_cast<double>(r.output), 17);
        j.key("dx");
        j.list(r.dx, [&](const TensorView& v) { write_view(j, v, table_up_to); });
        j.key("sum");
        j.list(r.sum, [&](const TensorView& v) { write_view(j, v, table_up_to); });
        j.key("contribution");
        j.list(r.contribution, [&](std::size_t c) { j.number(static_cast<double>(c)); });
        j.key("contributions");
        j.list(r.contributions, [&](std::size_t c) { j.number(static_cast<double>(c)); });
        j.key("same_as");
        j.list(r.same_as, [&](int s) { j.number(s); });
        j.text += '}';
    });
    j.text += '}';
    return j.text;
}

// Every occurrence of marker.
void replace_marker(std::string& page, const std::string& marker, const std::string& with) {
    std::size_t at = page.find(marker);
    if (at == std::string::npos)
        throw std::logic_error("explorer_html: the page template has no " + marker);
    for (; at != std::string::npos; at = page.find(marker, at + with.size())) page.replace(at, marker.size(), with);
}

std::string html_escaped(const std::string& s) {
    std::string out;
    for (const char c : s) {
        if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else if (c == '&') out += "&amp;";
        else out += c;
    }
    return out;
}

}  // namespace

std::string explorer_html(const Exploration& exploration) {
    std::string page = embedded::explorer_page;
    const std::string title = exploration.title.empty() ? "tapegrad explorer" : exploration.title;
    replace_marker(page, "TAPEGRAD_TITLE", html_escaped(title));
    replace_marker(page, "null /*TAPEGRAD_DATA*/", to_json(exploration));
    return page;
}

void write_explorer(const Tensor& root, const std::string& path, const ExplorerOptions& options) {
    write_file_atomic(path, explorer_html(explore(root, options)), "write_explorer");
}

}  // namespace tapegrad
