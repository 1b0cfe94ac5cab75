#include "engine/uncertainty/table.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <string_view>

#include "engine/h5/h5.hpp"
#include "engine/uncertainty/prior.hpp"

namespace artel::uq {

namespace {

// An open regular file, closed on scope exit.
class RegularFile {
public:
    explicit RegularFile(const std::string& path) : path_(path) {
        // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd_ < 0) throw TableError(path + ": cannot open: " + std::strerror(errno));
        struct stat st {};
        if (::fstat(fd_, &st) != 0) fail(std::string("cannot stat: ") + std::strerror(errno));
        if (!S_ISREG(st.st_mode)) fail("not a regular file (a directory, FIFO or device cannot be a table)");
        size_ = static_cast<std::uintmax_t>(st.st_size);
    }
    ~RegularFile() { ::close(fd_); }
    RegularFile(const RegularFile&) = delete;
    RegularFile& operator=(const RegularFile&) = delete;

    std::uintmax_t size() const { return size_; }
    [[noreturn]] void fail(const std::string& what) const { throw TableError(path_ + ": " + what); }

    // Up to n bytes at offset (fewer at the end of the file).
    std::string read_at(std::uintmax_t offset, std::size_t n) const {
        std::string s(n, '\0');
        std::size_t got = 0;
        while (got < n) {
            const ssize_t r = ::pread(fd_, s.data() + got, n - got, static_cast<off_t>(offset + got));
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) fail(std::string("cannot read: ") + std::strerror(errno));
            if (r == 0) break;
            got += static_cast<std::size_t>(r);
        }
        s.resize(got);
        return s;
    }

private:
    std::string path_;
    int fd_ = -1;
    std::uintmax_t size_ = 0;
};

// HDF5's signature, at 0 or after a user block of 512, 1024, 2048, ... bytes.
bool is_hdf5(const RegularFile& f) {
    static constexpr std::string_view kSignature("\x89HDF\r\n\x1a\n", 8);
    for (std::uintmax_t at = 0; at + kSignature.size() <= f.size(); at = at == 0 ? 512 : 2 * at)
        if (f.read_at(at, kSignature.size()) == kSignature) return true;
    return false;
}

bool exists(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
}

// "file.h5:/group" → ("file.h5", "/group") when "file.h5:/group" itself does not exist.
std::pair<std::string, std::string> split_group(const std::string& spec) {
    if (exists(spec)) return {spec, ""};
    for (std::size_t pos = spec.rfind(":/"); pos != std::string::npos && pos > 0; pos = spec.rfind(":/", pos - 1))
        if (exists(spec.substr(0, pos))) return {spec.substr(0, pos), spec.substr(pos + 1)};
    return {spec, ""};
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

struct Cell {
    std::string text;    // trimmed, unquoted
    std::size_t column;  // 1-based character column of the cell's first non-blank character
};

// Splits one CSV line; a quoted cell may hold commas and "" for a quote.
// Returns false for an unterminated quote.
bool split_cells(std::string_view line, std::vector<Cell>& cells, std::size_t& bad_column) {
    cells.clear();
    std::size_t i = 0;
    for (;;) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        Cell cell{"", i + 1};
        if (i < line.size() && line[i] == '"') {
            const std::size_t open = i++;
            for (;;) {
                if (i >= line.size()) {
                    bad_column = open + 1;
                    return false;
                }
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        cell.text += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                cell.text += line[i++];
            }
            const std::size_t rest = std::min(line.find(',', i), line.size());
            if (!trim(line.substr(i, rest - i)).empty()) {
                bad_column = i + 1;
                return false;
            }
            i = rest;
        } else {
            const std::size_t end = std::min(line.find(',', i), line.size());
            cell.text = std::string(trim(line.substr(i, end - i)));
            i = end;
        }
        cells.push_back(std::move(cell));
        if (i >= line.size()) return true;
        ++i;  // the comma
    }
}

std::string join_names(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
    return s.empty() ? "(none)" : s;
}

// The header's fields → for each asked column, its index; extras reported.
std::vector<std::size_t> match_header(const std::string& where, const std::vector<Cell>& header,
                                      const std::vector<std::string>& columns, std::vector<std::string>& extras) {
    std::map<std::string, std::size_t> index;
    std::vector<std::string> names;
    for (std::size_t k = 0; k < header.size(); ++k) {
        const auto [it, fresh] = index.emplace(header[k].text, k);
        if (!fresh)
            throw TableError(where + ":" + std::to_string(header[k].column) + ": duplicate column '" + header[k].text +
                             "' (also column " + std::to_string(it->second + 1) + " of the header)");
        names.push_back(header[k].text);
    }
    std::vector<std::size_t> at;
    std::vector<std::string> missing;
    for (const auto& c : columns) {
        const auto it = index.find(c);
        if (it == index.end())
            missing.push_back(c);
        else
            at.push_back(it->second);
    }
    if (!missing.empty())
        throw TableError(where + ": missing column" + (missing.size() > 1 ? "s " : " ") + join_names(missing) +
                         " (the header has " + join_names(names) + ")");
    for (const auto& n : names)
        if (std::find(columns.begin(), columns.end(), n) == columns.end()) extras.push_back(n);
    return at;
}

double parse_cell(const std::string& where, const Cell& cell, const std::string& column) {
    const auto place = [&] { return where + ":" + std::to_string(cell.column) + ": column '" + column + "': "; };
    std::string_view t = cell.text;
    if (t.empty()) throw TableError(place() + "empty cell (a number is needed)");
    if (t.front() == '+') t.remove_prefix(1);
    double x = 0;
    const auto r = std::from_chars(t.data(), t.data() + t.size(), x);
    if (r.ec == std::errc::result_out_of_range)
        throw TableError(place() + "\"" + cell.text + "\" is out of the range of a double");
    if (r.ec != std::errc() || r.ptr != t.data() + t.size() || t.empty())
        throw TableError(place() + "\"" + cell.text + "\" is not a number");
    if (!std::isfinite(x)) throw TableError(place() + "\"" + cell.text + "\" is not a finite number");
    return x;
}

ParameterTable read_csv(const std::string& path, const RegularFile& file, const std::vector<std::string>& columns) {
    const std::string text = file.read_at(0, static_cast<std::size_t>(file.size()));
    ParameterTable t;
    t.columns = columns;
    std::vector<std::size_t> at;
    std::size_t fields = 0;
    bool have_header = false;
    std::vector<Cell> cells;
    std::size_t line_no = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t end = std::min(text.find('\n', pos), text.size());
        std::string_view line(text.data() + pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const std::string_view content = trim(line);
        if (content.empty() || content.front() == '#') continue;
        const std::string where = path + ":" + std::to_string(line_no);
        std::size_t bad = 0;
        if (!split_cells(line, cells, bad))
            throw TableError(where + ":" + std::to_string(bad) + ": a quoted cell is not closed, or text follows its closing quote");
        if (!have_header) {
            at = match_header(where, cells, columns, t.extra_columns);
            fields = cells.size();
            have_header = true;
            continue;
        }
        if (cells.size() != fields)
            throw TableError(where + ": " + std::to_string(cells.size()) + " cells, but the header has " +
                             std::to_string(fields) + " (a ragged row)");
        for (std::size_t c = 0; c < columns.size(); ++c) t.values.push_back(parse_cell(where, cells[at[c]], columns[c]));
        ++t.rows;
    }
    if (!have_header) file.fail("no header row (the column names) — the file is empty or all comments");
    if (t.rows == 0) file.fail("no rows of values under the header");
    return t;
}

ParameterTable read_hdf5(const std::string& path, std::string group, const std::vector<std::string>& columns) {
    for (const auto& c : columns)
        if (c.find('/') != std::string::npos || c == "." || c == "..")
            throw TableError(path + ": column '" + c + "' cannot be the name of an HDF5 dataset");
    if (group.empty()) group = "/";
    ParameterTable t;
    t.columns = columns;
    try {
        const h5::File file = h5::File::open_read(path);
        const h5::Group g = group == "/" ? file.root() : file.root().open_group(group);
        const std::string prefix = path + ":" + (group == "/" ? "" : g.path()) + "/";
        std::vector<std::string> missing;
        for (const auto& c : columns)
            if (!g.has(c)) missing.push_back(c);
        if (!missing.empty())
            throw TableError(path + ":" + g.path() + ": missing dataset" + (missing.size() > 1 ? "s " : " ") +
                             join_names(missing) + " (the group has " + join_names(g.children()) + ")");
        for (const auto& n : g.children())
            if (std::find(columns.begin(), columns.end(), n) == columns.end()) t.extra_columns.push_back(n);
        std::vector<std::vector<double>> data;
        for (std::size_t c = 0; c < columns.size(); ++c) {
            const h5::Dataset ds = g.open_dataset(columns[c]);
            const auto dims = ds.dims();
            if (dims.size() != 1)
                throw TableError(prefix + columns[c] + ": " + std::to_string(dims.size()) + "-D; a column is 1-D");
            if (c == 0) t.rows = static_cast<std::size_t>(dims[0]);
            if (dims[0] != t.rows)
                throw TableError(prefix + columns[c] + ": " + std::to_string(dims[0]) + " values, but '" + columns[0] +
                                 "' has " + std::to_string(t.rows) + " (columns must have one length)");
            if (t.rows > kMaxTableBytes / 8 / columns.size())
                throw TableError(prefix + columns[c] + ": " + std::to_string(t.rows) + " rows x " +
                                 std::to_string(columns.size()) + " columns exceed the " +
                                 std::to_string(kMaxTableBytes >> 20) + " MiB a table may hold");
            try {
                data.push_back(ds.read<double>());
            } catch (const h5::Error& e) {
                throw TableError(prefix + columns[c] + ": cannot be read as float64 values (" + e.what() + ")");
            }
            for (std::size_t r = 0; r < t.rows; ++r)
                if (!std::isfinite(data[c][r]))
                    throw TableError(prefix + columns[c] + "[" + std::to_string(r) + "] = " + format_number(data[c][r]) +
                                     " is not a finite number");
        }
        if (t.rows == 0) throw TableError(prefix.substr(0, prefix.size() - 1) + ": the columns hold no values");
        t.values.resize(t.rows * columns.size());
        for (std::size_t r = 0; r < t.rows; ++r)
            for (std::size_t c = 0; c < columns.size(); ++c) t.values[r * columns.size() + c] = data[c][r];
    } catch (const h5::Error& e) {
        throw TableError(e.what());
    }
    return t;
}

}  // namespace

ParameterTable read_parameter_table(const std::filesystem::path& path, const std::vector<std::string>& columns) {
    if (columns.empty()) throw std::invalid_argument("read_parameter_table: no columns asked for");
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].empty()) throw std::invalid_argument("read_parameter_table: an empty column name");
        if (std::find(columns.begin(), columns.begin() + static_cast<std::ptrdiff_t>(i), columns[i]) !=
            columns.begin() + static_cast<std::ptrdiff_t>(i))
            throw std::invalid_argument("read_parameter_table: column '" + columns[i] + "' asked for twice");
    }
    const auto [file_path, group] = split_group(path.string());
    const RegularFile file(file_path);
    if (is_hdf5(file)) return read_hdf5(file_path, group, columns);
    if (!group.empty())
        file.fail("not an HDF5 file, so it has no group '" + group + "' (a CSV table is named by its path alone)");
    if (file.size() > kMaxTableBytes)
        file.fail(std::to_string(file.size()) + " bytes; a CSV table may have at most " +
                  std::to_string(kMaxTableBytes >> 20) + " MiB");
    return read_csv(file_path, file, columns);
}

}  // namespace artel::uq
