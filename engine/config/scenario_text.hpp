// Scenario text before toml++ sees it: read from a file with a bound, and
// checked by a small lexical scan. toml++ 3.3 recurses once per part of a
// dotted key or table header with no limit of its own (a key 50 000 parts
// deep overflowed the stack) and stops nested arrays only at 256 levels; it
// also reads whatever it is given. So the bounds are kept here, on the raw
// text, and nothing toml++ parses is larger or deeper than they allow.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace artel::config {

// The most bytes a scenario file may have (the default scenario has 8 KiB).
inline constexpr std::size_t kMaxScenarioBytes = std::size_t{4} << 20;

// The deepest a scenario may nest, as written: each part of the table
// header in force, each part of a dotted key and each level of arrays
// inside arrays adds one (an array or inline table is as deep as the key it
// is the value of): under [a.b], `c.d = [[1]]` has its outer array at
// level 4 and its inner one at 5. A valid scenario needs 2 ([output]
// histogram_years = [...], [[arm]] bonus = 5); 32 keeps toml++'s recursion
// shallow on any stack, sanitizers' included.
inline constexpr int kMaxNesting = 32;

// Where a text starts: a whole document, or a value (a --set value, which
// the parser reads as the value of a one-part key).
enum class TextStart { Document, Value };

// Checks, in one pass: at most kMaxScenarioBytes; valid UTF-8; non-ASCII
// only in comments (every key, value and arm name is ASCII; this also keeps
// toml++ 3.3 away from its Unicode whitespace classifier, which reaches
// __builtin_unreachable() for some characters outside comments and strings);
// no NUL; nesting at most kMaxNesting. Strings (basic, literal, multi-line)
// and comments are skipped as toml++ skips them: a '.', '[' or '{' in them
// counts for nothing, nor does a '.' in a value (1.5, a date). Throws
// ConfigError "source:line:column: what" naming the limit.
void check_scenario_text(std::string_view text, const std::string& source, TextStart start = TextStart::Document);

// Reads a scenario file: at most kMaxScenarioBytes + 1 bytes, so that
// /dev/zero, /dev/urandom or an endless pipe is refused after 4 MiB instead
// of filling memory; a regular file larger than the limit is refused before
// it is read. A directory, a missing or unreadable file throws
// "cannot read scenario 'x': <reason>"; a file too large throws
// "scenario 'x' is too large: ..." with its size when known and the limit.
// A FIFO is read like a pipe: the call waits for a writer.
std::string read_scenario_text(const std::filesystem::path& file);

}  // namespace artel::config
