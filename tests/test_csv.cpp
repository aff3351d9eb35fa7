#include <cstdlib>
#include <filesystem>
#include <string>

#include "helpers.hpp"
#include <tapegrad/data/formats/csv.hpp>

using namespace tapegrad;
namespace fs = std::filesystem;

namespace {

using test::TempDir;

}  // namespace

TEST_CASE("a first line with a non-numeric cell is detected as the header") {
    TempDir tmp;
    CsvTable t = read_csv(tmp.write("iris.csv", "length,width,class\n5.1,3.5,0\n4.9,3,1\n"));
    CHECK(t.columns == std::vector<std::string>{"length", "width", "class"});
    CHECK(shape_str(t.values.shape()) == "[2, 3]");
    CHECK(t.values(0, 0) == 5.1f);
    CHECK(t.values(1, 1) == 3.0f);
    CHECK(t.values(1, 2) == 1.0f);
}

TEST_CASE("an all-numeric first line is data") {
    TempDir tmp;
    CsvTable t = read_csv(tmp.write("plain.csv", "1,2\n3,4\n"));
    CHECK(t.columns.empty());
    CHECK(shape_str(t.values.shape()) == "[2, 2]");
    CHECK(t.values(0, 0) == 1.0f);
    CHECK(t.values(1, 1) == 4.0f);
}

TEST_CASE("the header option overrides detection") {
    TempDir tmp;
    const std::string path = tmp.write("years.csv", "2019,2020\n3,4\n");
    CsvTable with = read_csv(path, {CsvHeader::present});
    CHECK(with.columns == std::vector<std::string>{"2019", "2020"});
    CHECK(shape_str(with.values.shape()) == "[1, 2]");
    CHECK(with.values(0, 1) == 4.0f);
    const std::string named = tmp.write("named.csv", "a,b\n1,2\n");
    CHECK_THROWS_WITH_AS(read_csv(named, {CsvHeader::absent}),
                         doctest::Contains("named.csv: line 1, column 1: \"a\" is not a number"),
                         DataError);
}

TEST_CASE("exact values: signs exponents and decimals") {
    TempDir tmp;
    CsvTable t = read_csv(tmp.write("v.csv", "-1.5, +4 ,2e3,1.25E-2,0.1,-0\n"));
    REQUIRE(shape_str(t.values.shape()) == "[1, 6]");
    CHECK(t.values(0, 0) == -1.5f);
    CHECK(t.values(0, 1) == 4.0f);
    CHECK(t.values(0, 2) == 2000.0f);
    CHECK(t.values(0, 3) == 0.0125f);
    CHECK(t.values(0, 4) == 0.1f);
    CHECK(t.values(0, 5) == 0.0f);
}

TEST_CASE("CRLF line ends blank lines and quoted cells are accepted") {
    TempDir tmp;
    CsvTable t = read_csv(tmp.write("win.csv", "\"x\",\"y\"\r\n\r\n\"1\",2\r\n3,4\r\n\r\n"));
    CHECK(t.columns == std::vector<std::string>{"x", "y"});
    CHECK(shape_str(t.values.shape()) == "[2, 2]");
    CHECK(t.values(0, 0) == 1.0f);
    CHECK(t.values(1, 0) == 3.0f);
}

TEST_CASE("skip_lines reads the sklearn breast_cancer layout") {
    TempDir tmp;
    const std::string path =
        tmp.write("breast_cancer.csv", "3,2,malignant,benign\n1.5,2,0\n3,4.25,1\n5,6,1\n");
    CsvTable t = read_csv(path, {CsvHeader::absent, 1});
    CHECK(t.columns.empty());
    CHECK(shape_str(t.values.shape()) == "[3, 3]");
    CHECK(t.values(0, 0) == 1.5f);
    CHECK(t.values(1, 1) == 4.25f);
    CHECK(t.values(2, 2) == 1.0f);
    // Without the option the count line is taken as a 4-column header.
    CHECK_THROWS_WITH_AS(read_csv(path),
                         doctest::Contains("breast_cancer.csv: line 2 has 3 cells, expected 4"),
                         DataError);
}

TEST_CASE("a ragged row names its line and both cell counts") {
    TempDir tmp;
    const std::string path = tmp.write("ragged.csv", "a,b,c\n1,2,3\n\n4,5\n");
    CHECK_THROWS_WITH_AS(read_csv(path),
                         doctest::Contains("ragged.csv: line 4 has 2 cells, expected 3"),
                         DataError);
}

TEST_CASE("a non-numeric cell names its line and column") {
    TempDir tmp;
    const std::string path = tmp.write("bad.csv", "1,2,3,4\n5,6,7,abc\n");
    CHECK_THROWS_WITH_AS(read_csv(path),
                         doctest::Contains("bad.csv: line 2, column 4: \"abc\" is not a number"),
                         DataError);
    const std::string partial = tmp.write("partial.csv", "1,2\n3,4x\n");
    CHECK_THROWS_WITH_AS(read_csv(partial),
                         doctest::Contains("line 2, column 2: \"4x\" is not a number"),
                         DataError);
}

TEST_CASE("an empty cell is an error") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_csv(tmp.write("hole.csv", "1,2\n3,\n")),
                         doctest::Contains("hole.csv: line 2, column 2: empty cell"), DataError);
}

TEST_CASE("NaN cells are errors") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_csv(tmp.write("nan.csv", "x,y\n1,2\n3,nan\n")),
                         doctest::Contains("nan.csv: line 3, column 2: \"nan\" is NaN"),
                         DataError);
}

TEST_CASE("Inf cells are errors") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_csv(tmp.write("inf.csv", "1,-inf\n")),
                         doctest::Contains("inf.csv: line 1, column 2: \"-inf\" is infinite"),
                         DataError);
    CHECK_THROWS_WITH_AS(read_csv(tmp.write("big.csv", "1e39,1\n")),
                         doctest::Contains("big.csv: line 1, column 1: \"1e39\" is out of range "
                                           "for a float"),
                         DataError);
}

TEST_CASE("an empty CSV file is an error") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_csv(tmp.write("empty.csv", "")),
                         doctest::Contains("empty.csv: empty file"), DataError);
    CHECK_THROWS_WITH_AS(read_csv(tmp.write("blank.csv", "\n \n")),
                         doctest::Contains("blank.csv: no data"), DataError);
}

TEST_CASE("a header without rows is an error") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_csv(tmp.write("head.csv", "a,b\n")),
                         doctest::Contains("head.csv: no data rows after the header on line 1"),
                         DataError);
}

TEST_CASE("a missing CSV file is an error naming the path") {
    CHECK_THROWS_WITH_AS(read_csv("/nonexistent/missing.csv"),
                         doctest::Contains("/nonexistent/missing.csv: cannot open"), DataError);
}

TEST_CASE("another delimiter can be chosen") {
    TempDir tmp;
    CsvOptions options;
    options.delimiter = ';';
    CsvTable t = read_csv(tmp.write("semi.csv", "1.5;2\n3;4\n"), options);
    CHECK(shape_str(t.values.shape()) == "[2, 2]");
    CHECK(t.values(0, 0) == 1.5f);
}
