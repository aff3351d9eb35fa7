#include "csv.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>

namespace tapegrad {

namespace {


std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && is_space(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    return s;
}

std::vector<std::string_view> split(std::string_view line, char delimiter) {
    std::vector<std::string_view> cells;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = line.find(delimiter, start);
        cells.push_back(trim(line.substr(start, end - start)));
        if (end == std::string_view::npos) return cells;
        start = end + 1;
    }
}

enum class Parse { ok, not_a_number, out_of_range };

// std::from_chars: exact, and independent of the C locale (strtod would read "1,5" in some).
Parse parse(std::string_view cell, double& value) {
    if (!cell.empty() && cell.front() == '+') {  // from_chars takes '-' but not '+'
        cell.remove_prefix(1);
        if (!cell.empty() && (cell.front() == '-' || cell.front() == '+'))
            return Parse::not_a_number;
    }
    if (cell.empty()) return Parse::not_a_number;
    const char* end = cell.data() + cell.size();
    auto [ptr, ec] = std::from_chars(cell.data(), end, value);
    if (ec == std::errc::result_out_of_range) return Parse::out_of_range;
    if (ec != std::errc() || ptr != end) return Parse::not_a_number;
    return Parse::ok;
}

}  // namespace

CsvTable read_csv(const std::string& path, const CsvOptions& options) {
    const Bytes bytes = read_file_maybe_gzip(path);
    if (bytes.empty()) throw DataError(path + ": empty file");
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());

    CsvTable table;
    std::vector<float> values;
    std::size_t cols = 0;
    std::size_t rows = 0;
    std::size_t header_line = 0;  // 0: no header
    bool first = true;            // the next non-blank line is the first of the table

    std::size_t line_no = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++line_no;
        if (line_no <= options.skip_lines) continue;
        if (trim(line).empty()) continue;

        std::vector<std::string_view> cells = split(line, options.delimiter);
        const std::string where = path + ": line " + std::to_string(line_no);
        if (first) {
            first = false;
            cols = cells.size();
            bool header = options.header == CsvHeader::present;
            if (options.header == CsvHeader::detect) {
                double v;
                for (std::string_view c : cells) header |= parse(c, v) == Parse::not_a_number;
            }
            if (header) {
                header_line = line_no;
                for (std::string_view c : cells) table.columns.emplace_back(c);
                continue;
            }
        }
        if (cells.size() != cols)
            throw DataError(where + " has " + std::to_string(cells.size()) + " cells, expected " +
                            std::to_string(cols) +
                            (header_line ? " (as the header on line " +
                                               std::to_string(header_line) + ")"
                                         : " (as the first row)"));
        for (std::size_t c = 0; c < cells.size(); ++c) {
            const std::string cell_where =
                where + ", column " + std::to_string(c + 1) + ": \"" + std::string(cells[c]) +
                "\"";
            double v = 0;
            switch (parse(cells[c], v)) {
                case Parse::not_a_number:
                    throw DataError(cells[c].empty()
                                        ? where + ", column " + std::to_string(c + 1) +
                                              ": empty cell"
                                        : cell_where + " is not a number");
                case Parse::out_of_range:
                    throw DataError(cell_where + " is out of range for a float");
                case Parse::ok: break;
            }
            if (std::isnan(v)) throw DataError(cell_where + " is NaN; cells must be finite");
            if (std::isinf(v)) throw DataError(cell_where + " is infinite; cells must be finite");
            if (std::fabs(v) > std::numeric_limits<float>::max())
                throw DataError(cell_where + " is out of range for a float");
            values.push_back(static_cast<float>(v));
        }
        ++rows;
    }

    if (rows == 0) {
        if (header_line)
            throw DataError(path + ": no data rows after the header on line " +
                            std::to_string(header_line));
        throw DataError(path + ": no data" +
                        (options.skip_lines ? " after skipping " +
                                                  std::to_string(options.skip_lines) +
                                                  (options.skip_lines == 1 ? " line" : " lines")
                                            : std::string(": the file holds only blank lines")));
    }
    table.values = Array::from_shape({rows, cols});
    std::copy(values.begin(), values.end(), table.values.data());
    return table;
}

}  // namespace tapegrad
