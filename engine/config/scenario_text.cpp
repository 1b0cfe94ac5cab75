// Scenario text before toml++ sees it (scenario_text.hpp).
#include "engine/config/scenario_text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "engine/config/error.hpp"

namespace artel::config {
namespace {

const std::string kLimitText = std::to_string(kMaxScenarioBytes) + " bytes (4 MiB)";

// How deeply the text nests, followed one character outside strings and
// comments at a time. Keys are where a line starts (outside any array), and
// after '{' or ',' in an inline table; a table header is a '[' that starts a
// line outside any array. Levels as kMaxNesting counts them.
class Nesting {
public:
    Nesting(TextStart start, int limit) : limit_(limit) {
        if (start == TextStart::Value) {
            // As the parser reads it: `v = <text>`.
            line_start_ = false, in_key_ = false, after_eq_ = true;
        }
    }

    // A character outside strings and comments (a quote or '#' that opens
    // one included). Returns what became too deep, or nullptr.
    const char* code(char c) {
        if (c == '\n') {
            newline();
            return nullptr;
        }
        if (c == ' ' || c == '\t' || c == '\r') return nullptr;
        const bool line_start = std::exchange(line_start_, false);
        const bool after_eq = std::exchange(after_eq_, false);
        switch (header_) {
            case Header::Open:
                if (c == '.') return ++table_parts_ > limit_ ? "table header" : nullptr;
                if (c == ']') header_ = Header::Done;
                return nullptr;
            case Header::Done:  // toml++ allows nothing but a comment here, and stops at anything else
                return nullptr;
            case Header::None:
                break;
        }
        if (line_start && open_.empty() && c == '[') {
            header_ = Header::Open;
            table_parts_ = 1;
            in_key_ = false;
            return nullptr;  // `[[`: the second '[' is part of the header
        }
        switch (c) {
            case '=':
                if (!in_key_) return nullptr;
                in_key_ = false;
                after_eq_ = true;
                return context() + key_parts_ > limit_ ? "key" : nullptr;
            case '.':
                if (!in_key_) return nullptr;  // in a value: 1.5, a date
                return context() + ++key_parts_ > limit_ ? "dotted key" : nullptr;
            case '[':
            case '{': {
                // The value of a key is as deep as the key's last part; an
                // element of an array one level below the array.
                const int inside = context() + (after_eq ? key_parts_ : 1);
                if (inside > limit_) return c == '[' ? "array" : "inline table";
                open_.push_back({c, inside});
                in_key_ = c == '{';
                key_parts_ = 1;
                return nullptr;
            }
            case ']':
            case '}':
                if (!open_.empty()) open_.pop_back();
                in_key_ = false;
                return nullptr;
            case ',':
                if (!open_.empty() && open_.back().kind == '{') {
                    in_key_ = true;
                    key_parts_ = 1;
                }
                return nullptr;
            default:
                return nullptr;
        }
    }

    // A line ends (outside a multi-line string).
    void newline() {
        line_start_ = true;
        after_eq_ = false;
        if (header_ != Header::None) header_ = Header::None;
        if (open_.empty()) {
            in_key_ = true;
            key_parts_ = 1;
        }
    }

private:
    struct Open {
        char kind;   // '[' or '{'
        int inside;  // the level of the array or table itself
    };
    enum class Header { None, Open, Done };

    // The level that a key's parts add to here.
    int context() const { return open_.empty() ? table_parts_ : open_.back().inside; }

    const int limit_;
    int table_parts_ = 0;  // of the header in force
    Header header_ = Header::None;
    std::vector<Open> open_;  // never more than limit_
    bool line_start_ = true, in_key_ = true, after_eq_ = false;
    int key_parts_ = 1;  // of the key being read, or of the last key before '='
};

}  // namespace

void check_scenario_text(std::string_view text, const std::string& source, TextStart start) {
    if (text.size() > kMaxScenarioBytes)
        throw ConfigError(source + ": the text has " + std::to_string(text.size()) +
                          " bytes; a scenario may have at most " + kLimitText);
    int line = 1, column = 1;
    enum class In { Code, Comment, Basic, Literal, MultiBasic, MultiLiteral } in = In::Code;
    Nesting nesting(start, kMaxNesting);
    auto here = [&] { return source + ":" + std::to_string(line) + ":" + std::to_string(column) + ": "; };
    const std::string_view triple_quote = "\"\"\"", triple_apostrophe = "'''";
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t len = 1;
        if (c >= 0x80) {
            // A UTF-8 sequence: length from the lead byte, continuation bytes
            // 10xxxxxx, no overlong forms, no surrogates.
            std::uint32_t cp = 0;
            if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1Fu;
            else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0Fu;
            else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07u;
            else throw ConfigError(here() + "the file is not valid UTF-8");
            if (i + len > text.size()) throw ConfigError(here() + "the file is not valid UTF-8 (truncated character)");
            for (std::size_t k = 1; k < len; ++k) {
                const auto cc = static_cast<unsigned char>(text[i + k]);
                if ((cc & 0xC0) != 0x80) throw ConfigError(here() + "the file is not valid UTF-8");
                cp = (cp << 6) | (cc & 0x3Fu);
            }
            const std::uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
            if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                throw ConfigError(here() + "the file is not valid UTF-8");
            if (in != In::Comment)
                throw ConfigError(here() + "non-ASCII character outside a comment (keys, values and arm names "
                                           "are ASCII)");
        } else if (c == 0) {
            throw ConfigError(here() + "the file contains a NUL byte (binary data?)");
        } else {
            const auto rest = text.substr(i, 3);
            const bool escape = c == '\\' && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0x80;
            switch (in) {
                case In::Code:
                    if (const char* what = nesting.code(static_cast<char>(c)))
                        throw ConfigError(here() + what + " nested too deeply: more than " +
                                          std::to_string(kMaxNesting) +
                                          " levels of tables, keys and arrays (a valid scenario needs 2)");
                    if (c == '#') in = In::Comment;
                    else if (rest == triple_quote) in = In::MultiBasic, len = 3;
                    else if (rest == triple_apostrophe) in = In::MultiLiteral, len = 3;
                    else if (c == '"') in = In::Basic;
                    else if (c == '\'') in = In::Literal;
                    break;
                case In::Comment:
                case In::Basic:
                case In::Literal:
                    // A line ends a comment, and a one-line string (malformed:
                    // toml++ stops there).
                    if (c == '\n') in = In::Code, nesting.newline();
                    else if (in == In::Basic && escape) len = 2;
                    else if ((in == In::Basic && c == '"') || (in == In::Literal && c == '\'')) in = In::Code;
                    break;
                case In::MultiBasic:
                    if (escape) len = 2;
                    else if (rest == triple_quote) in = In::Code, len = 3;
                    break;
                case In::MultiLiteral:
                    if (rest == triple_apostrophe) in = In::Code, len = 3;
                    break;
            }
        }
        for (std::size_t k = 0; k < len; ++k) {
            if (text[i + k] == '\n') line += 1, column = 1;
            else if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) column += 1;
        }
        i += len;
    }
}

std::string read_scenario_text(const std::filesystem::path& file) {
    const std::string name = file.string();
    auto cannot = [&](int err) {
        return ConfigError("cannot read scenario '" + name + "': " + std::strerror(err ? err : EIO));
    };
    int fd;
    do fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) throw cannot(errno);
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw cannot(errno);
    if (S_ISDIR(st.st_mode)) throw cannot(EISDIR);
    auto too_large = [&](const std::string& size) {
        return ConfigError("scenario '" + name + "' is too large: " + size + "; a scenario file may have at most " +
                           kLimitText);
    };
    const bool regular = S_ISREG(st.st_mode);
    if (regular && static_cast<std::uint64_t>(st.st_size) > kMaxScenarioBytes)
        throw too_large(std::to_string(st.st_size) + " bytes");
    std::string text;
    text.reserve(regular ? static_cast<std::size_t>(st.st_size) + 1 : std::size_t{64} << 10);
    char buf[64 << 10];
    while (text.size() <= kMaxScenarioBytes) {
        const std::size_t want = std::min(sizeof buf, kMaxScenarioBytes + 1 - text.size());
        const ssize_t n = ::read(fd, buf, want);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw cannot(errno);
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    if (text.size() > kMaxScenarioBytes)
        throw too_large(regular ? "it grew beyond the limit while being read"
                                : "reading stopped after " + std::to_string(text.size()) +
                                      " bytes (its size is not known in advance)");
    return text;
}

}  // namespace artel::config
