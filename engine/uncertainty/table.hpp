// Parameter vectors given by the user (design "table"), e.g. the accepted
// draws of a calibration: one row per replication, one column per uncertain
// parameter, matched by exact name.
//
//   CSV   a header row of column names, then rows of comma-separated
//         numbers; lines whose first non-blank character is '#' and blank
//         lines are skipped; a cell may be quoted ("..."). Only the columns
//         asked for must be numbers.
//   HDF5  "file.h5" (the root group) or "file.h5:/group": 1-D float64
//         datasets named by the columns, all of one length. Recognised by
//         HDF5's signature, not by the file name.
//
// Refusals are TableError, one line, "file:line:column: what is wrong"
// (CSV) or "file:/group/dataset: what is wrong" (HDF5): missing column,
// duplicate header, ragged row, a cell that is not a finite number, an
// empty table. Reads are bounded: only regular files (never a FIFO or a
// device, which could block forever), at most kMaxTableBytes (CSV file size;
// HDF5: the columns read).
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace artel::uq {

inline constexpr std::uintmax_t kMaxTableBytes = std::uintmax_t{256} << 20;  // 256 MiB

class TableError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ParameterTable {
    std::vector<std::string> columns;        // as asked for, in that order
    std::size_t rows = 0;
    std::vector<double> values;              // rows × columns, row-major
    std::vector<std::string> extra_columns;  // in the file but not asked for, in file order
    double at(std::size_t row, std::size_t column) const { return values.at(row * columns.size() + column); }
};

// `columns`: distinct, non-empty names (std::invalid_argument otherwise).
ParameterTable read_parameter_table(const std::filesystem::path& path, const std::vector<std::string>& columns);

}  // namespace artel::uq
