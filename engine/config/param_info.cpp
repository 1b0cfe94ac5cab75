// Range text, range checks and typed access for ParamInfo (param_info.hpp).
#include "engine/config/param_info.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <system_error>

namespace artel::config {
namespace {

std::string shortest(double v) { return shortest_text(v); }

// The range of an integer parameter as integers. Bounds beyond the int64
// range (including the uint64 seed's 2^64 - 1, which a TOML integer cannot
// hold) are clamped to it; infinite bounds are open.
struct IntRange {
    std::int64_t lo, hi;
    bool lo_inf, hi_inf;
};

constexpr double kTwo63 = 9223372036854775808.0;  // 2^63, exactly

IntRange int_range(const ParamInfo& p) {
    IntRange r{std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
               std::isinf(p.lo), std::isinf(p.hi)};
    if (!r.lo_inf) {
        const double lo = p.lo_open ? std::floor(p.lo) + 1.0 : std::ceil(p.lo);
        if (lo >= kTwo63) r.lo = std::numeric_limits<std::int64_t>::max();
        else if (lo > -kTwo63) r.lo = static_cast<std::int64_t>(lo);
    }
    if (!r.hi_inf) {
        const double hi = p.hi_open ? std::ceil(p.hi) - 1.0 : std::floor(p.hi);
        if (hi < -kTwo63) r.hi = std::numeric_limits<std::int64_t>::min();
        else if (hi < kTwo63) r.hi = static_cast<std::int64_t>(hi);
    }
    if (p.kind == ParamKind::Unsigned && r.lo < 0) {
        r.lo = 0;
        r.lo_inf = false;
    }
    return r;
}

template <class T>
T load(const void* base, std::size_t offset) {
    T v;
    std::memcpy(&v, static_cast<const unsigned char*>(base) + offset, sizeof v);
    return v;
}

template <class T>
void store(void* base, std::size_t offset, T v) {
    std::memcpy(static_cast<unsigned char*>(base) + offset, &v, sizeof v);
}

}  // namespace

std::string shortest_text(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

std::string ParamInfo::range_text() const {
    switch (kind) {
    case ParamKind::Boolean:
        return "true or false";
    case ParamKind::Integer:
    case ParamKind::Unsigned: {
        const IntRange r = int_range(*this);
        std::string s = "an integer in ";
        s += r.lo_inf ? "(-inf" : "[" + std::to_string(r.lo);
        s += ", ";
        s += r.hi_inf ? "inf)" : std::to_string(r.hi) + "]";
        return s;
    }
    case ParamKind::Real:
        break;
    }
    std::string s = "a number in ";
    s += (lo_open || std::isinf(lo)) ? '(' : '[';
    s += shortest(lo);
    s += ", ";
    s += shortest(hi);
    s += (hi_open || std::isinf(hi)) ? ')' : ']';
    return s;
}

bool ParamInfo::in_range(double v) const {
    if (!std::isfinite(v)) return false;
    switch (kind) {
    case ParamKind::Boolean:
        return v == 0.0 || v == 1.0;
    case ParamKind::Integer:
    case ParamKind::Unsigned: {
        if (v != std::floor(v) || v >= kTwo63 || v < -kTwo63) return false;
        const IntRange r = int_range(*this);
        const auto i = static_cast<std::int64_t>(v);
        return i >= r.lo && i <= r.hi;
    }
    case ParamKind::Real:
        break;
    }
    const bool lo_ok = (lo_open || std::isinf(lo)) ? v > lo : v >= lo;
    const bool hi_ok = (hi_open || std::isinf(hi)) ? v < hi : v <= hi;
    return lo_ok && hi_ok;
}

double read_value(const void* base, const ParamInfo& info) {
    switch (info.kind) {
    case ParamKind::Real: return load<double>(base, info.offset);
    case ParamKind::Integer: return static_cast<double>(load<std::int64_t>(base, info.offset));
    case ParamKind::Unsigned: return static_cast<double>(load<std::uint64_t>(base, info.offset));
    case ParamKind::Boolean: return load<bool>(base, info.offset) ? 1.0 : 0.0;
    }
    return 0.0;
}

void write_value(void* base, const ParamInfo& info, double value) {
    switch (info.kind) {
    case ParamKind::Real:
        store<double>(base, info.offset, value);
        return;
    case ParamKind::Integer:
        if (!(value == std::floor(value) && value >= -kTwo63 && value < kTwo63))
            throw std::out_of_range("write_value: " + info.key() + " = " + shortest(value) +
                                    " is not a 64-bit integer");
        store<std::int64_t>(base, info.offset, static_cast<std::int64_t>(value));
        return;
    case ParamKind::Unsigned:
        if (!(value == std::floor(value) && value >= 0.0 && value < 2.0 * kTwo63))
            throw std::out_of_range("write_value: " + info.key() + " = " + shortest(value) +
                                    " is not a 64-bit unsigned integer");
        store<std::uint64_t>(base, info.offset, static_cast<std::uint64_t>(value));
        return;
    case ParamKind::Boolean:
        store<bool>(base, info.offset, value != 0.0);
        return;
    }
}

std::string format_value(const void* base, const ParamInfo& info) {
    switch (info.kind) {
    case ParamKind::Real: {
        const double v = load<double>(base, info.offset);
        std::string s = shortest(v);
        // Keep it a TOML float: "5" -> "5.0" ("1e+20" already is one).
        if (std::isfinite(v) && s.find_first_of(".eE") == std::string::npos) s += ".0";
        return s;
    }
    case ParamKind::Integer: return std::to_string(load<std::int64_t>(base, info.offset));
    case ParamKind::Unsigned: return std::to_string(load<std::uint64_t>(base, info.offset));
    case ParamKind::Boolean: return load<bool>(base, info.offset) ? "true" : "false";
    }
    return {};
}

}  // namespace artel::config
