// Numeric CSV tables: every data cell must be a finite number.
//
//   CsvTable t = read_csv("iris.csv");      // [rows, cols] floats, header detected
//
// The header: with CsvHeader::detect (the default) the first line is a header when one of its
// cells is not a number; CsvHeader::present / ::absent say so explicitly. Lines before the table
// can be skipped. scikit-learn's breast_cancer.csv starts with the line "569,30,malignant,benign"
// (sample count, feature count, class names) that is neither a header nor data (it has 4 cells,
// the rows have 31: 30 features, then the class 0 = malignant or 1 = benign). Read it with
//   read_csv(path, {CsvHeader::absent, 1});   // skip 1 line, no header
//
// Cells are separated by `delimiter`, surrounding spaces and one pair of double quotes are
// removed (a quoted cell cannot contain the delimiter). Blank lines are skipped; CRLF is fine; a
// gzip-compressed file is read transparently. Errors name the file, the 1-based line number in
// the file and the 1-based column:
//   breast_cancer.csv: line 7 has 29 cells, expected 31
//   breast_cancer.csv: line 12, column 4: "abc" is not a number
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "../../core/tensor.hpp"
#include "file.hpp"

namespace tapegrad {

enum class CsvHeader { detect, present, absent };

struct CsvOptions {
    CsvHeader header = CsvHeader::detect;
    std::size_t skip_lines = 0;  // lines dropped before the header or first row, blank or not
    char delimiter = ',';
};

struct CsvTable {
    std::vector<std::string> columns;  // the header's cells; empty without a header
    Array values;                      // [rows, cols]
};

CsvTable read_csv(const std::string& path, const CsvOptions& options = {});

}  // namespace tapegrad
