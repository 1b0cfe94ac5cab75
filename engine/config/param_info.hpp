// A generic, typed description of one configuration parameter: its place in a
// scenario file, its valid range and where it lives in a plain parameter
// struct. The engine's configuration code works on tables of these and knows
// nothing of what the parameters mean.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace artel::config {

enum class ParamKind { Real, Integer, Unsigned, Boolean };

struct ParamInfo {
    std::string_view section;
    std::string_view name;
    ParamKind kind;
    double lo;          // valid range, closed unless lo_open / hi_open
    double hi;
    bool lo_open;
    bool hi_open;
    bool policy;        // an arm may override it
    std::size_t offset; // byte offset of the member in the parameter struct
    std::string_view unit;
    std::string_view doc;

    std::string key() const { return std::string(section) + "." + std::string(name); }
    // "[0, 1]", "(0, inf)", "an integer in [1, 16]", "true or false".
    std::string range_text() const;
    bool in_range(double v) const;
};

// Reads/writes the member described by `info` in the struct at `base`,
// converting to and from double (integers up to 2^53 are exact).
double read_value(const void* base, const ParamInfo& info);
void write_value(void* base, const ParamInfo& info, double value);
// Shortest text that reads back as the same double ("0.1", "5", "1e+20",
// "nan", "inf").
std::string shortest_text(double v);

// The exact text of the value as a scenario file would hold it.
std::string format_value(const void* base, const ParamInfo& info);

}  // namespace artel::config
