// read_csv on arbitrary bytes, with header detection and with the breast-cancer layout (one line
// skipped, no header). On success the table is [rows >= 1, cols >= 1], every value finite, and a
// header has one name per column.
#include <cmath>

#include <tapegrad/data/formats/csv.hpp>

#include "fuzz_input.hpp"

namespace {

void check(const tapegrad::CsvTable& t) {
    if (t.values.dimension() != 2 || t.values.shape()[0] == 0 || t.values.shape()[1] == 0)
        fuzz::broken("a table of shape " + tapegrad::shape_str(t.values.shape()));
    if (!t.columns.empty() && t.columns.size() != t.values.shape()[1])
        fuzz::broken(std::to_string(t.columns.size()) + " header cells for " +
                     std::to_string(t.values.shape()[1]) + " columns");
    for (float v : t.values)
        if (!std::isfinite(v)) fuzz::broken("a value that is not finite");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write_input(data, size, ".csv");
    using tapegrad::CsvHeader, tapegrad::CsvOptions;
    for (const CsvOptions& options : {CsvOptions{}, CsvOptions{CsvHeader::absent, 1}}) {
        tapegrad::CsvTable table;
        if (fuzz::expect_clean([&] { table = tapegrad::read_csv(path, options); })) check(table);
    }
    return 0;
}
