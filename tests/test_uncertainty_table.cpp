// Parameter tables (design "table") from CSV and HDF5: what is read, what is
// reported, and every refusal's message.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/h5/h5.hpp"
#include "engine/uncertainty/table.hpp"
#include "temp_dir.hpp"

using namespace artel::uq;
using artel::test::TempDir;
namespace fs = std::filesystem;

namespace {

fs::path write_text(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
    return p;
}

// The TableError message, or "(read)".
std::string refusal(const fs::path& p, const std::vector<std::string>& columns) {
    try {
        read_parameter_table(p, columns);
    } catch (const TableError& e) {
        return e.what();
    }
    return "(read)";
}

}  // namespace

TEST_CASE("uncertainty: a CSV table is read by column name", "[uncertainty]") {
    TempDir dir("uq-table");
    const auto p = write_text(dir.path / "post.csv",
                              "# accepted draws of a calibration\r\n"
                              "\r\n"
                              "step, \"q_imit\",failure_prob ,label,lambda0\r\n"
                              "0, 0.38, 0.15, \"a, b\", 2e-2\r\n"
                              "   # a comment between rows\n"
                              "1,+0.4,0.125,x,0.03\n"
                              "2,-1.5e-3,1,\"say \"\"hi\"\"\",1E2");  // no newline at the end
    const ParameterTable t = read_parameter_table(p, {"lambda0", "q_imit", "failure_prob"});
    CHECK(t.columns == std::vector<std::string>{"lambda0", "q_imit", "failure_prob"});
    CHECK(t.rows == 3);
    CHECK(t.values == std::vector<double>{0.02, 0.38, 0.15, 0.03, 0.4, 0.125, 100, -1.5e-3, 1});
    CHECK(t.at(2, 1) == -1.5e-3);
    CHECK(t.extra_columns == std::vector<std::string>{"step", "label"});
}

TEST_CASE("uncertainty: bad CSV tables are refused with file, line and column", "[uncertainty]") {
    TempDir dir("uq-table-bad");
    const std::string d = dir.path.string() + "/";
    auto csv = [&](const std::string& name, const std::string& text) { return write_text(dir.path / name, text); };
    CHECK(refusal(csv("missing.csv", "# c\na,b\n1,2\n"), {"a", "q_imit", "lambda0"}) ==
          d + "missing.csv:2: missing columns 'q_imit', 'lambda0' (the header has 'a', 'b')");
    CHECK(refusal(csv("dup.csv", "a,b, a\n1,2,3\n"), {"a"}) ==
          d + "dup.csv:1:6: duplicate column 'a' (also column 1 of the header)");
    CHECK(refusal(csv("ragged.csv", "a,b\n1,2\n3\n"), {"a"}) ==
          d + "ragged.csv:3: 1 cells, but the header has 2 (a ragged row)");
    CHECK(refusal(csv("text.csv", "a,b\n1,2\n3, x1\n"), {"a", "b"}) ==
          d + "text.csv:3:4: column 'b': \"x1\" is not a number");
    CHECK(refusal(csv("partial.csv", "a,b\n1,2.5.1\n"), {"b"}) ==
          d + "partial.csv:2:3: column 'b': \"2.5.1\" is not a number");
    CHECK(refusal(csv("nan.csv", "a,b\n1,nan\n"), {"b"}) ==
          d + "nan.csv:2:3: column 'b': \"nan\" is not a finite number");
    CHECK(refusal(csv("inf.csv", "a,b\n-inf,1\n"), {"a"}) ==
          d + "inf.csv:2:1: column 'a': \"-inf\" is not a finite number");
    CHECK(refusal(csv("huge.csv", "a\n1e400\n"), {"a"}) ==
          d + "huge.csv:2:1: column 'a': \"1e400\" is out of the range of a double");
    CHECK(refusal(csv("empty_cell.csv", "a,b\n1,\n"), {"b"}) ==
          d + "empty_cell.csv:2:3: column 'b': empty cell (a number is needed)");
    CHECK(refusal(csv("quote.csv", "a,b\n1,\"2\n"), {"b"}) ==
          d + "quote.csv:2:3: a quoted cell is not closed, or text follows its closing quote");
    CHECK(refusal(csv("no_rows.csv", "# only\na,b\n\n# nothing\n"), {"a"}) ==
          d + "no_rows.csv: no rows of values under the header");
    CHECK(refusal(csv("empty.csv", ""), {"a"}) ==
          d + "empty.csv: no header row (the column names) — the file is empty or all comments");
    // An unwanted column may hold anything.
    CHECK(refusal(csv("other.csv", "a,b\n1,x\n"), {"a"}) == "(read)");
    CHECK(refusal(dir.path / "absent.csv", {"a"}) == d + "absent.csv: cannot open: No such file or directory");
    CHECK(refusal(dir.path, {"a"}) ==
          d.substr(0, d.size() - 1) + ": not a regular file (a directory, FIFO or device cannot be a table)");
    CHECK(refusal(csv("group.csv", "a\n1\n").string() + ":/g", {"a"}) ==
          d + "group.csv: not an HDF5 file, so it has no group '/g' (a CSV table is named by its path alone)");
    CHECK_THROWS_AS(read_parameter_table(dir.path / "x.csv", {}), std::invalid_argument);
    CHECK_THROWS_AS(read_parameter_table(dir.path / "x.csv", {"a", "a"}), std::invalid_argument);
}

TEST_CASE("uncertainty: a table read never waits on a FIFO and never reads past its limit", "[uncertainty]") {
    TempDir dir("uq-table-fifo");
    const fs::path fifo = dir.path / "pipe.csv";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto start = std::chrono::steady_clock::now();
    CHECK(refusal(fifo, {"a"}) == fifo.string() + ": not a regular file (a directory, FIFO or device cannot be a table)");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    // A sparse file just over the limit: refused by its size, nothing read.
    const fs::path big = write_text(dir.path / "big.csv", "a\n1\n");
    fs::resize_file(big, kMaxTableBytes + 1);
    CHECK(refusal(big, {"a"}) == big.string() + ": 268435457 bytes; a CSV table may have at most 256 MiB");
}

TEST_CASE("uncertainty: an HDF5 table is a group of 1-D float64 datasets", "[uncertainty]") {
    namespace h5 = artel::h5;
    TempDir dir("uq-table-h5");
    const fs::path p = dir.path / "posterior.h5";
    {
        h5::File f = h5::File::create(p);
        {
            h5::Group root = f.root();
            root.write_dataset<double>("q_imit", std::vector<double>{0.3, 0.4, 0.5}, {3});
            root.write_dataset<double>("lambda0", std::vector<double>{0.01, 0.02, 0.03}, {3});
            root.write_dataset<std::int64_t>("chain", std::vector<std::int64_t>{0, 0, 1}, {3});
            h5::Group g = root.create_group("accepted");
            g.write_dataset<double>("q_imit", std::vector<double>{0.35, 0.45}, {2});
            g.write_dataset<double>("lambda0", std::vector<double>{0.015, 0.025}, {2});
            g.write_dataset<double>("short", std::vector<double>{1}, {1});
            g.write_dataset<double>("flat", std::vector<double>{1, 2, 3, 4}, {2, 2});
            g.write_dataset<double>("bad", std::vector<double>{1, std::nan("")}, {2});
            g.write_dataset<std::int64_t>("count", std::vector<std::int64_t>{1, 2}, {2});
        }
        f.close();
    }
    const ParameterTable t = read_parameter_table(p, {"lambda0", "q_imit"});
    CHECK(t.rows == 3);
    CHECK(t.values == std::vector<double>{0.01, 0.3, 0.02, 0.4, 0.03, 0.5});
    CHECK(t.extra_columns == std::vector<std::string>{"chain", "accepted"});
    const ParameterTable g = read_parameter_table(p.string() + ":/accepted", {"q_imit", "lambda0"});
    CHECK(g.rows == 2);
    CHECK(g.values == std::vector<double>{0.35, 0.015, 0.45, 0.025});
    CHECK(g.extra_columns == std::vector<std::string>{"short", "flat", "bad", "count"});

    const std::string at = p.string() + ":/accepted";
    CHECK(refusal(at, {"q_imit", "p_inn"}) ==
          at + ": missing dataset 'p_inn' (the group has 'q_imit', 'lambda0', 'short', 'flat', 'bad', 'count')");
    CHECK(refusal(at, {"q_imit", "short"}) ==
          at + "/short: 1 values, but 'q_imit' has 2 (columns must have one length)");
    CHECK(refusal(at, {"flat"}) == at + "/flat: 2-D; a column is 1-D");
    CHECK(refusal(at, {"bad"}) == at + "/bad[1] = nan is not a finite number");
    CHECK(refusal(at, {"count"}).rfind(at + "/count: cannot be read as float64 values (", 0) == 0);
    CHECK(refusal(p.string() + ":/nowhere", {"q_imit"}).find("no such group") != std::string::npos);
    CHECK(refusal(p, {"a/b"}) == p.string() + ": column 'a/b' cannot be the name of an HDF5 dataset");
}
