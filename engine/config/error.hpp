// Configuration errors: where a value came from, and the one exception type
// the configuration layer throws for anything a user wrote wrong.
#pragma once

#include <stdexcept>
#include <string>

namespace artel::config {

// Where a value was set. line == 0: not from a file (command line "--set",
// or a default); then only `file` is meaningful (e.g. "--set").
struct SourcePos {
    std::string file;
    int line = 0;
    int column = 0;
};

// "nep.toml:12:5", "nep.toml:12" (no column), "--set" (line 0), "default"
// (empty file name and line 0).
inline std::string to_string(const SourcePos& pos) {
    if (pos.file.empty() && pos.line <= 0) return "default";
    std::string s = pos.file;
    if (pos.line > 0) {
        s += ':' + std::to_string(pos.line);
        if (pos.column > 0) s += ':' + std::to_string(pos.column);
    }
    return s;
}

// A user-facing error: the message is complete (position, key, offending
// value, what is allowed) and fits on one line. Print it as is.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace artel::config
