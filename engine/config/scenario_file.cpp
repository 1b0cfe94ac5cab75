// Scenario files (scenario_file.hpp).
#include "engine/config/scenario_file.hpp"
#include "engine/uncertainty/unit.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <sstream>
#include <utility>

#include <toml++/toml.h>

#include "engine/config/scenario_text.hpp"

namespace artel::config {
namespace {

using Table = std::span<const ParamInfo>;

constexpr double kTwo63 = 9223372036854775808.0;  // 2^63, exactly

// ---- small text helpers -------------------------------------------------------

std::string shortest(double v) { return shortest_text(v); }

// A TOML float literal: shortest round-trip text, with ".0" if it would
// otherwise read as an integer.
std::string toml_float(double v) {
    std::string s = shortest(v);
    if (std::isfinite(v) && s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
}

std::string format_number(ParamKind kind, double v) {
    switch (kind) {
    case ParamKind::Real: return toml_float(v);
    case ParamKind::Boolean: return v != 0.0 ? "true" : "false";
    case ParamKind::Integer:
    case ParamKind::Unsigned:
        if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < kTwo63)
            return std::to_string(static_cast<std::int64_t>(v));
        return shortest(v);
    }
    return shortest(v);
}

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string one_line(std::string s, std::size_t max_len = 60) {
    for (char& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (s.size() > max_len) s = s.substr(0, max_len - 3) + "...";
    return s;
}

// The value as the user wrote it (near enough), for messages.
std::string node_text(const toml::node& n) {
    if (const auto* v = n.as_integer()) return std::to_string(v->get());
    if (const auto* v = n.as_floating_point()) return toml_float(v->get());
    if (const auto* v = n.as_boolean()) return v->get() ? "true" : "false";
    if (const auto* v = n.as_string()) return one_line(quote(v->get()));
    if (n.is_table()) return "{...} (a table)";
    if (const auto* a = n.as_array()) {
        // Not toml++'s formatter: it converts log10 of a float below 0.1 to
        // an unsigned integer, undefined behaviour that UBSan reports (found
        // by the parser's fuzzer). Elements until the message is long
        // enough; one_line() cuts it.
        std::string out = "[";
        for (std::size_t i = 0; i < a->size() && out.size() < 80; ++i) {
            const toml::node& e = *a->get(i);
            out += (i ? ", " : "") + (e.is_table() ? std::string("{...}") : node_text(e));
        }
        return one_line(out + "]");
    }
    std::ostringstream os;
    if (const auto* d = n.as_date()) os << *d;
    else if (const auto* t = n.as_time()) os << *t;
    else if (const auto* dt = n.as_date_time()) os << *dt;
    return one_line(os.str());
}

std::string_view trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::string at(const SourcePos& pos) { return to_string(pos) + ": "; }

SourcePos pos_of(const toml::source_region& r, const std::string& file) {
    return SourcePos{file, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

// ---- suggestions --------------------------------------------------------------

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0u : 1u)});
            diag = up;
        }
    }
    return row[b.size()];
}

// The nearest candidate when it is close enough to be a likely typo.
std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& candidates) {
    std::optional<std::string> best;
    std::size_t best_d = std::numeric_limits<std::size_t>::max();
    for (const auto& c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    const std::size_t limit = std::max<std::size_t>(1, std::min<std::size_t>(3, word.size() / 3));
    if (!best || best_d > limit || best_d >= word.size()) return std::nullopt;
    return best;
}

// ---- table look-ups -----------------------------------------------------------

std::vector<std::string> sections_of(Table table) {
    std::vector<std::string> out;
    for (const auto& p : table)
        if (std::find(out.begin(), out.end(), p.section) == out.end()) out.emplace_back(p.section);
    return out;
}

const ParamInfo* find_in(Table table, std::string_view section, std::string_view name) {
    for (const auto& p : table)
        if (p.section == section && p.name == name) return &p;
    return nullptr;
}

const ParamInfo* find_key(Table table, std::string_view key) {
    for (const auto& p : table)
        if (p.key() == key) return &p;
    return nullptr;
}

std::vector<const ParamInfo*> find_name(Table table, std::string_view name) {
    std::vector<const ParamInfo*> out;
    for (const auto& p : table)
        if (p.name == name) out.push_back(&p);
    return out;
}

std::vector<std::string> names_in(Table table, std::string_view section) {
    std::vector<std::string> out;
    for (const auto& p : table)
        if (p.section == section) out.emplace_back(p.name);
    return out;
}

std::vector<std::string> policy_names(Table table) {
    std::vector<std::string> out;
    for (const auto& p : table)
        if (p.policy) out.emplace_back(p.name);
    return out;
}

std::string join(const std::vector<std::string>& v, std::string_view sep = ", ") {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) s += sep;
        s += v[i];
    }
    return s;
}

// A policy row by bare name (a policy row wins over a non-policy row of the
// same name, e.g. policy.bonus over mechanisms.bonus).
const ParamInfo* find_policy(Table table, std::string_view name) {
    const ParamInfo* any = nullptr;
    for (const auto& p : table) {
        if (p.name != name) continue;
        if (p.policy) return &p;
        if (!any) any = &p;
    }
    return any;
}

// ---- raw access to integer members (exact beyond 2^53) --------------------------

std::int64_t load_int(const void* base, const ParamInfo& p) {
    if (p.kind == ParamKind::Unsigned) {
        std::uint64_t u;
        std::memcpy(&u, static_cast<const unsigned char*>(base) + p.offset, sizeof u);
        return u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                   ? std::numeric_limits<std::int64_t>::max()
                   : static_cast<std::int64_t>(u);
    }
    std::int64_t i;
    std::memcpy(&i, static_cast<const unsigned char*>(base) + p.offset, sizeof i);
    return i;
}

void store_int(void* base, const ParamInfo& p, std::int64_t v) {
    auto* dst = static_cast<unsigned char*>(base) + p.offset;
    if (p.kind == ParamKind::Unsigned) {
        const auto u = static_cast<std::uint64_t>(v);
        std::memcpy(dst, &u, sizeof u);
    } else {
        std::memcpy(dst, &v, sizeof v);
    }
}

bool is_integer_kind(const ParamInfo& p) { return p.kind == ParamKind::Integer || p.kind == ParamKind::Unsigned; }

// The integer range of an integer parameter, for exact int64 comparisons.
bool int_in_range(const ParamInfo& p, std::int64_t v) {
    if (p.kind == ParamKind::Unsigned && v < 0) return false;
    // |v| <= 2^63 is represented exactly enough for the bound comparison: a
    // bound b compared against v in double is exact when b is an integer of
    // at most 53 bits, which holds for every practical range; beyond that the
    // comparison rounds v, never wrapping.
    const double d = static_cast<double>(v);
    const bool lo_ok = (p.lo_open || std::isinf(p.lo)) ? d > p.lo : d >= p.lo;
    const bool hi_ok = (p.hi_open || std::isinf(p.hi)) ? d < p.hi : d <= p.hi;
    return lo_ok && hi_ok;
}

// ---- checking one value -----------------------------------------------------------

struct Checked {
    double value = 0.0;
    std::int64_t integer = 0;  // exact, for integer kinds
};

std::string finite_range_text(const ParamInfo& p) {
    std::string r = p.range_text();
    if (r.rfind("a number", 0) == 0) return "a finite number" + r.substr(8);
    return r;
}

// Checks a TOML value against a row; `node` null means the text did not
// parse as a TOML value (command line), `raw` is then the text shown.
// label: "population.households"; context: e.g. " in arm 'x'".
Checked check_value(const ParamInfo& p, const toml::node* node, std::string_view raw, const SourcePos& key_pos,
                    const SourcePos& value_pos, const std::string& label, const std::string& context = {}) {
    const std::string text = node ? node_text(*node) : one_line(std::string(raw));
    auto wrong_type = [&]() {
        return ConfigError(at(value_pos) + label + " = " + text + context + " has the wrong type: must be " +
                           p.range_text());
    };
    auto out_of_range = [&]() {
        return ConfigError(at(key_pos) + label + " = " + text + context + " is out of range: must be " +
                           p.range_text());
    };
    if (!node) throw wrong_type();
    Checked c;
    switch (p.kind) {
    case ParamKind::Boolean: {
        const auto* b = node->as_boolean();
        if (!b) throw wrong_type();
        c.value = b->get() ? 1.0 : 0.0;
        c.integer = b->get() ? 1 : 0;
        return c;
    }
    case ParamKind::Integer:
    case ParamKind::Unsigned: {
        const auto* i = node->as_integer();
        if (!i) throw wrong_type();
        c.integer = i->get();
        if (!int_in_range(p, c.integer)) throw out_of_range();
        c.value = static_cast<double>(c.integer);
        return c;
    }
    case ParamKind::Real: {
        if (const auto* i = node->as_integer()) {
            c.value = static_cast<double>(i->get());
        } else if (const auto* f = node->as_floating_point()) {
            c.value = f->get();
        } else {
            throw wrong_type();
        }
        if (!std::isfinite(c.value))
            throw ConfigError(at(key_pos) + label + " = " + text + context +
                              " is not allowed: must be " + finite_range_text(p));
        if (!p.in_range(c.value)) throw out_of_range();
        return c;
    }
    }
    return c;
}

void write_checked(void* params, const ParamInfo& p, const Checked& c) {
    if (is_integer_kind(p)) store_int(params, p, c.integer);
    else write_value(params, p, c.value);
}

// ---- priors, links, sweeps (MODEL.md §6) -----------------------------------------

// The smallest and largest values a prior gives to a run: its quantiles at
// the most extreme units any design produces (uq::kUnitLo, uq::kUnitHi). A
// prior is allowed when both lie in the parameter's range (the quantile
// function is monotone, so every draw does).
std::pair<double, double> attained(const uq::Prior& prior) {
    return {prior.quantile(uq::kUnitLo), prior.quantile(uq::kUnitHi)};
}

const char* kDistList = "uniform, normal, lognormal, beta, triangular or discrete";

// A `{ dist = ..., ... }` inline table as a prior for `p`, checked.
uq::Prior read_prior(const ParamInfo& p, const toml::table& t, const SourcePos& kpos, const SourcePos& vpos,
                     const std::string& key) {
    const std::string text = node_text(t);
    if (p.policy)
        throw ConfigError(at(kpos) + key + " = " + text +
                          ": a policy key takes no prior (arms compare policies at the values they set); priors "
                          "are for the parameters the model is unsure of");
    if (p.kind != ParamKind::Real)
        throw ConfigError(at(kpos) + key + " = " + text + ": " +
                          (p.kind == ParamKind::Boolean ? std::string("a switch") : std::string("an integer")) +
                          " parameter takes no prior (" +
                          (p.kind == ParamKind::Boolean ? std::string("it is on or off")
                                                        : std::string("integers set the run's shape and the "
                                                                      "kernels' tables")) +
                          "); give it a value");
    uq::PriorFields fields;
    bool has_dist = false;
    for (const auto& [k, n] : t) {
        const std::string field(k.str());
        if (field == "dist") {
            const auto* str = n.as_string();
            if (!str)
                throw ConfigError(at(vpos) + key + " = " + text + ": dist = " + node_text(n) +
                                  " must be a string: " + kDistList);
            fields.dist = str->get();
            has_dist = true;
        } else if (const auto* i = n.as_integer()) {
            fields.numbers[field] = static_cast<double>(i->get());
        } else if (const auto* f = n.as_floating_point()) {
            fields.numbers[field] = f->get();
        } else if (const auto* arr = n.as_array()) {
            std::vector<double> values;
            for (const auto& elem : *arr) {
                if (const auto* ei = elem.as_integer()) values.push_back(static_cast<double>(ei->get()));
                else if (const auto* ef = elem.as_floating_point()) values.push_back(ef->get());
                else
                    throw ConfigError(at(vpos) + key + " = " + text + ": " + field + " = " + node_text(n) +
                                      " must be a list of numbers");
            }
            fields.lists[field] = std::move(values);
        } else {
            throw ConfigError(at(vpos) + key + " = " + text + ": " + field + " = " + node_text(n) +
                              " must be a number or a list of numbers");
        }
    }
    if (!has_dist)
        throw ConfigError(at(vpos) + key + " = " + text + ": a prior needs dist = \"...\": " + kDistList);
    const uq::Prior prior = [&] {
        try {
            return uq::parse_prior(fields);
        } catch (const uq::PriorError& e) {
            throw ConfigError(at(vpos) + key + " = " + text + ": " + e.what());
        }
    }();
    const auto [lo, hi] = attained(prior);
    if (!std::isfinite(lo) || !std::isfinite(hi) || !p.in_range(lo) || !p.in_range(hi)) {
        const bool tails = fields.dist == "normal" || fields.dist == "lognormal";
        auto short6 = [](double v) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.6g", v);
            return std::string(buf);
        };
        throw ConfigError(at(vpos) + key + " = " + prior.describe() + " takes values in [" + short6(lo) + ", " +
                          short6(hi) + "] (its quantiles at 2^-53 and 1 - 2^-53), outside the valid range: must be " +
                          p.range_text() +
                          (tails ? ": truncate it with lo and hi inside the range" : ": choose one inside the range"));
    }
    return prior;
}

void set_prior(ScenarioFile& sc, const ParamInfo& p, uq::Prior prior, const SourcePos& where, Table table,
               void* params) {
    // The median stands in the parameter struct, so that anything reading
    // the base values sees one the prior can take.
    write_value(params, p, prior.quantile(0.5));
    auto it = std::find_if(sc.priors.begin(), sc.priors.end(), [&](const PriorSpec& q) { return q.param == &p; });
    if (it != sc.priors.end()) *it = PriorSpec{&p, std::move(prior), where};
    else sc.priors.push_back(PriorSpec{&p, std::move(prior), where});
    auto order = [&](const PriorSpec& q) { return q.param - table.data(); };
    std::sort(sc.priors.begin(), sc.priors.end(),
              [&](const PriorSpec& a, const PriorSpec& b) { return order(a) < order(b); });
}

void drop_prior(ScenarioFile& sc, const ParamInfo& p) {
    std::erase_if(sc.priors, [&](const PriorSpec& q) { return q.param == &p; });
}

const PriorSpec* prior_of(const ScenarioFile& sc, const ParamInfo& p) {
    for (const auto& q : sc.priors)
        if (q.param == &p) return &q;
    return nullptr;
}

// The base parameter an arm's key follows: "section.name" or a unique bare
// name, numeric and not a policy key.
const ParamInfo* link_target(Table table, const ParamInfo& p, const std::string& name, const SourcePos& pos,
                             const std::string& arm) {
    const ParamInfo* q = find_key(table, name);
    if (!q) {
        const auto found = find_name(table, name);
        if (found.size() == 1) q = found.front();
        if (found.size() > 1) {
            std::vector<std::string> keys;
            for (const auto* f : found) keys.push_back(f->key());
            throw ConfigError(at(pos) + std::string(p.name) + " = \"" + name + "\" in arm '" + arm +
                              "': the name is ambiguous: write one of " + join(keys, " or "));
        }
    }
    if (!q) {
        std::vector<std::string> keys;
        for (const auto& r : table)
            if (!r.policy && r.kind == ParamKind::Real) keys.push_back(r.key());
        std::string msg = at(pos) + std::string(p.name) + " = \"" + name + "\" in arm '" + arm +
                          "': a string names the base parameter the key follows, and there is no parameter '" + name +
                          "'";
        if (const auto s = nearest(name, keys)) msg += " (did you mean '" + *s + "'?)";
        throw ConfigError(msg);
    }
    if (q->policy || q->kind != ParamKind::Real || q->section == "output")
        throw ConfigError(at(pos) + std::string(p.name) + " = \"" + name + "\" in arm '" + arm + "': '" + q->key() +
                          "' is " + (q->policy ? "a policy key" : "not a real-valued parameter") +
                          "; an arm's key may follow a real-valued base parameter (e.g. rate_coop = "
                          "\"economy.rate_private\")");
    return q;
}

// ---- [output] -------------------------------------------------------------------

const ParamInfo kOutputRows[] = {
    {"output", "histogram_bins", ParamKind::Integer, 2, 1000, false, false, false, 0, "",
     "bins of every household histogram"},
    {"output", "trajectory_households", ParamKind::Integer, 0, 100000, false, false, false, 0, "",
     "households whose whole trajectories are written"},
    {"output", "trajectory_replications", ParamKind::Integer, 0, 2147483647.0, false, false, false, 0, "",
     "replications the trajectories are taken from (at most [run] replications)"},
};
constexpr std::string_view kHistYears = "histogram_years";
constexpr std::string_view kHistYearsDoc = "calendar years at whose end household histograms are taken";

void* output_member(OutputSpec& o, std::string_view name) {
    if (name == "histogram_bins") return &o.histogram_bins;
    if (name == "trajectory_households") return &o.trajectory_households;
    if (name == "trajectory_replications") return &o.trajectory_replications;
    return nullptr;
}
const void* output_member(const OutputSpec& o, std::string_view name) {
    return output_member(const_cast<OutputSpec&>(o), name);
}

const ParamInfo* find_output(std::string_view name) {
    for (const auto& r : kOutputRows)
        if (r.name == name) return &r;
    return nullptr;
}

// The model's own [output] options: rows of its parameter table in section
// "output" (for the household model, the histograms' upper edges in its
// units and the per-region series), written into its parameter struct.
const ParamInfo* find_model_output(Table table, std::string_view name) {
    for (const auto& r : table)
        if (r.section == "output" && r.name == name) return &r;
    return nullptr;
}

std::vector<std::string> output_names(Table table) {
    std::vector<std::string> out{std::string(kHistYears)};
    for (const auto& r : kOutputRows) out.emplace_back(r.name);
    for (const auto& r : table)
        if (r.section == "output") out.emplace_back(r.name);
    return out;
}

void set_histogram_years(const toml::node* node, std::string_view raw, const SourcePos& key_pos,
                         const SourcePos& value_pos, OutputSpec& out) {
    const std::string label = "output.histogram_years";
    const std::string text = node ? node_text(*node) : one_line(std::string(raw));
    const std::string want = "must be an array of integer calendar years, e.g. [1923, 1932]";
    const auto* arr = node ? node->as_array() : nullptr;
    if (!arr) throw ConfigError(at(value_pos) + label + " = " + text + " has the wrong type: " + want);
    std::vector<std::int64_t> years;
    for (const auto& e : *arr) {
        const auto* i = e.as_integer();
        if (!i)
            throw ConfigError(at(value_pos) + label + " = " + text + " has the wrong type: element " +
                              node_text(e) + " is not an integer; " + want);
        years.push_back(i->get());
    }
    std::sort(years.begin(), years.end());
    const auto dup = std::adjacent_find(years.begin(), years.end());
    if (dup != years.end())
        throw ConfigError(at(key_pos) + label + " = " + text + " lists the year " + std::to_string(*dup) +
                          " twice: each year may appear once");
    out.histogram_years = std::move(years);
}

// Recomputes the default histogram years unless they were set explicitly.
void resolve_output_defaults(Table table, const void* params, ScenarioFile& sc) {
    if (sc.positions.count("output.histogram_years")) return;
    const ParamInfo* ps = find_key(table, "run.start_year");
    const ParamInfo* pt = find_key(table, "run.years");
    if (!ps || !pt) return;
    const std::int64_t s = load_int(params, *ps);
    const std::int64_t T = load_int(params, *pt);
    std::vector<std::int64_t> years;
    if (T >= 1 && T < (std::int64_t{1} << 40) && std::llabs(s) < (std::int64_t{1} << 40)) {
        for (const std::int64_t dt : {std::int64_t{0}, std::int64_t{4}, std::int64_t{9}, T - 1})
            if (dt < T) years.push_back(s + dt);
        std::sort(years.begin(), years.end());
        years.erase(std::unique(years.begin(), years.end()), years.end());
    }
    sc.output.histogram_years = std::move(years);
}

// ---- parsing ----------------------------------------------------------------------

struct Entry {
    const toml::key* key;
    const toml::node* node;
};

// A table's entries in file order (toml::table iterates by key).
std::vector<Entry> in_file_order(const toml::table& t) {
    std::vector<Entry> v;
    for (const auto& [k, n] : t) v.push_back({&k, &n});
    std::stable_sort(v.begin(), v.end(), [](const Entry& a, const Entry& b) {
        const auto& pa = a.key->source().begin;
        const auto& pb = b.key->source().begin;
        return std::pair(pa.line, pa.column) < std::pair(pb.line, pb.column);
    });
    return v;
}

bool valid_arm_name(std::string_view name) {
    if (name.empty() || name == "." || name == "..") return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '.' || c == '-';
    });
}

const char* kArmNameRule = "an arm name must be 1 or more letters, digits, '_', '.' or '-' (not '.' or '..')";

std::string not_policy_message(Table table, const std::string& arm, const ParamInfo& p) {
    return "arm '" + arm + "' overrides '" + p.key() + "', which is not a policy key; arms may override: " +
           join(policy_names(table));
}

std::string unknown_arm_key_message(Table table, const std::string& arm, std::string_view key) {
    std::string msg = "unknown key '" + std::string(key) + "' in arm '" + arm + "'";
    if (const auto s = nearest(key, policy_names(table))) msg += " (did you mean '" + *s + "'?)";
    else msg += "; arms may override: " + join(policy_names(table));
    return msg;
}

void parse_section(const toml::table& t, std::string_view section, Table table, void* params, ScenarioFile& sc) {
    for (const auto& e : in_file_order(t)) {
        const std::string name(e.key->str());
        const SourcePos kpos = pos_of(e.key->source(), sc.source);
        const SourcePos vpos = pos_of(e.node->source(), sc.source);
        const std::string key = std::string(section) + "." + name;
        const ParamInfo* p = find_in(table, section, name);
        if (!p) {
            std::string msg = at(kpos) + "unknown key '" + key + "'";
            if (const auto s = nearest(name, names_in(table, section))) {
                msg += " (did you mean '" + *s + "'?)";
            } else if (const auto elsewhere = find_name(table, name); !elsewhere.empty()) {
                msg += " ('" + name + "' belongs in [" + std::string(elsewhere.front()->section) + "])";
            }
            throw ConfigError(msg);
        }
        // An inline table is a prior; a [section.key] table is a mistake.
        if (const auto* fields = e.node->as_table(); fields && fields->is_inline())
            set_prior(sc, *p, read_prior(*p, *fields, kpos, vpos, key), kpos, table, params);
        else
            write_checked(params, *p, check_value(*p, e.node, {}, kpos, vpos, key));
        sc.positions[key] = kpos;
    }
}

const char* kDesigns[] = {"random", "lhs", "sobol", "saltelli", "table"};

void parse_uncertainty(const toml::table& t, ScenarioFile& sc) {
    for (const auto& e : in_file_order(t)) {
        const std::string name(e.key->str());
        const SourcePos kpos = pos_of(e.key->source(), sc.source);
        const SourcePos vpos = pos_of(e.node->source(), sc.source);
        const std::string key = "uncertainty." + name;
        if (name == "design") {
            const auto* str = e.node->as_string();
            const bool known = str && std::find(std::begin(kDesigns), std::end(kDesigns), str->get()) != std::end(kDesigns);
            if (!known)
                throw ConfigError(at(vpos) + key + " = " + node_text(*e.node) +
                                  " is not a design: must be \"random\", \"lhs\", \"sobol\", \"saltelli\" or \"table\"");
            sc.uncertainty.design = str->get();
        } else if (name == "table") {
            const auto* str = e.node->as_string();
            if (!str || str->get().empty())
                throw ConfigError(at(vpos) + key + " = " + node_text(*e.node) +
                                  " must be the name of a CSV or HDF5 file of parameter vectors");
            sc.uncertainty.table = str->get();
        } else if (name == "scramble") {
            const auto* b = e.node->as_boolean();
            if (!b) throw ConfigError(at(vpos) + key + " = " + node_text(*e.node) + " must be true or false");
            sc.uncertainty.scramble = b->get();
        } else {
            std::string msg = at(kpos) + "unknown key '" + key + "'";
            if (const auto s = nearest(name, {"design", "table", "scramble"})) msg += " (did you mean '" + *s + "'?)";
            else msg += "; [uncertainty] takes design, table and scramble";
            throw ConfigError(msg);
        }
        sc.uncertainty.positions[name] = kpos;
        sc.positions[key] = kpos;
    }
}

void parse_output(const toml::table& t, Table table, void* params, ScenarioFile& sc) {
    for (const auto& e : in_file_order(t)) {
        const std::string name(e.key->str());
        const SourcePos kpos = pos_of(e.key->source(), sc.source);
        const SourcePos vpos = pos_of(e.node->source(), sc.source);
        const std::string key = "output." + name;
        if (name == kHistYears) {
            set_histogram_years(e.node, {}, kpos, vpos, sc.output);
        } else if (const ParamInfo* r = find_output(name)) {
            write_checked(output_member(sc.output, name), *r, check_value(*r, e.node, {}, kpos, vpos, key));
        } else if (const ParamInfo* m = find_model_output(table, name)) {
            write_checked(params, *m, check_value(*m, e.node, {}, kpos, vpos, key));
        } else {
            std::string msg = at(kpos) + "unknown key '" + key + "'";
            if (const auto s = nearest(name, output_names(table))) msg += " (did you mean '" + *s + "'?)";
            throw ConfigError(msg);
        }
        sc.positions[key] = kpos;
    }
}

// Where: the first arm too many.
ConfigError too_many_arms(std::size_t arms, const SourcePos& where) {
    return ConfigError(at(where) + "too many arms: " + std::to_string(arms) + " [[arm]] entries, and a scenario may " +
                       "have at most " + std::to_string(kMaxArms) + " (this is entry " +
                       std::to_string(kMaxArms + 1) + "); split a larger study into several runs");
}

void parse_arms(const toml::node& node, const SourcePos& kpos, Table table, ScenarioFile& sc) {
    const auto* arr = node.as_array();
    if (!arr || !arr->is_array_of_tables())
        throw ConfigError(at(kpos) + "'arm' must be a list of tables, each written [[arm]] with name = \"...\"");
    // Before anything else: checking the names is quadratic in the arms.
    if (arr->size() > kMaxArms) throw too_many_arms(arr->size(), pos_of(arr->get(kMaxArms)->source(), sc.source));
    int index = 0;
    for (const auto& elem : *arr) {
        ++index;
        const auto& t = *elem.as_table();
        ArmSpec arm;
        arm.where = pos_of(elem.source(), sc.source);
        const toml::node* name_node = t.get("name");
        if (!name_node)
            throw ConfigError(at(arm.where) + "[[arm]] entry " + std::to_string(index) +
                              " has no name: write name = \"...\" (" + kArmNameRule + ")");
        const SourcePos name_vpos = pos_of(name_node->source(), sc.source);
        const auto* name_str = name_node->as_string();
        if (!name_str)
            throw ConfigError(at(name_vpos) + "arm name = " + node_text(*name_node) +
                              " has the wrong type: must be a string; " + kArmNameRule);
        arm.name = name_str->get();
        if (!valid_arm_name(arm.name))
            throw ConfigError(at(name_vpos) + "arm name " + one_line(quote(arm.name)) + " is not allowed: " +
                              kArmNameRule);
        for (const auto& other : sc.arms)
            if (other.name == arm.name) {
                std::string first = other.where.line > 0 ? "line " + std::to_string(other.where.line)
                                                         : to_string(other.where);
                throw ConfigError(at(arm.where) + "duplicate arm name '" + arm.name + "' (first at " + first + ")");
            }
        for (const auto& e : in_file_order(t)) {
            const std::string key(e.key->str());
            if (key == "name") continue;
            const SourcePos ekpos = pos_of(e.key->source(), sc.source);
            const SourcePos evpos = pos_of(e.node->source(), sc.source);
            const ParamInfo* p = find_policy(table, key);
            if (!p) throw ConfigError(at(ekpos) + unknown_arm_key_message(table, arm.name, key));
            if (!p->policy) throw ConfigError(at(ekpos) + not_policy_message(table, arm.name, *p));
            if (const auto* str = e.node->as_string()) {
                const ParamInfo* q = link_target(table, *p, str->get(), evpos, arm.name);
                arm.overrides.push_back(Override{p, std::numeric_limits<double>::quiet_NaN(), ekpos, q});
                continue;
            }
            const Checked c = check_value(*p, e.node, {}, ekpos, evpos, key, " in arm '" + arm.name + "'");
            arm.overrides.push_back(Override{p, c.value, ekpos});
        }
        sc.arms.push_back(std::move(arm));
    }
}

// The most arms a scenario may have, sweeps included: every arm is a group
// of some 300 datasets in the result file and a share of every replication.
constexpr std::size_t kMaxSweepArms = 1024;

void parse_sweeps(const toml::node& node, const SourcePos& kpos, Table table, ScenarioFile& sc) {
    const auto* arr = node.as_array();
    if (!arr || !arr->is_array_of_tables())
        throw ConfigError(at(kpos) + "'sweep' must be a list of tables, each written [[sweep]] with name = \"...\"");
    for (const auto& elem : *arr) {
        const auto& t = *elem.as_table();
        SweepSpec sw;
        sw.where = pos_of(elem.source(), sc.source);
        std::size_t arms = 1;
        for (const auto& e : in_file_order(t)) {
            const std::string key(e.key->str());
            const SourcePos ekpos = pos_of(e.key->source(), sc.source);
            const SourcePos evpos = pos_of(e.node->source(), sc.source);
            if (key == "name" || key == "arm") {
                const auto* str = e.node->as_string();
                if (!str || (key == "name" && !valid_arm_name(str->get())))
                    throw ConfigError(at(evpos) + "sweep " + key + " = " + node_text(*e.node) +
                                      (key == "name" ? std::string(" is not allowed: ") + kArmNameRule
                                                     : std::string(" must be the name of an arm")));
                (key == "name" ? sw.name : sw.base_arm) = str->get();
                continue;
            }
            const ParamInfo* p = find_policy(table, key);
            const std::string label = "sweep '" + sw.name + "'";
            if (!p) throw ConfigError(at(ekpos) + unknown_arm_key_message(table, label, key));
            if (!p->policy) throw ConfigError(at(ekpos) + not_policy_message(table, label, *p));
            const auto* values = e.node->as_array();
            if (!values || values->empty())
                throw ConfigError(at(evpos) + key + " = " + node_text(*e.node) + " in " + label +
                                  " must be a non-empty list of values, e.g. " + key + " = [0, 2.5, 5]");
            std::vector<double> grid;
            for (const auto& v : *values) {
                const Checked c = check_value(*p, &v, {}, ekpos, evpos, key, " in " + label);
                if (std::find(grid.begin(), grid.end(), c.value) != grid.end())
                    throw ConfigError(at(evpos) + key + " = " + node_text(*e.node) + " in " + label +
                                      " lists " + shortest(c.value) + " twice");
                grid.push_back(c.value);
            }
            arms *= grid.size();
            if (arms > kMaxSweepArms)
                throw ConfigError(at(evpos) + label + " makes more than " + std::to_string(kMaxSweepArms) +
                                  " arms: use fewer values");
            sw.axes.emplace_back(p, std::move(grid));
        }
        if (sw.name.empty())
            throw ConfigError(at(sw.where) + "[[sweep]] has no name: write name = \"...\" (" + kArmNameRule + ")");
        if (sw.axes.empty())
            throw ConfigError(at(sw.where) + "sweep '" + sw.name +
                              "' has no policy key with a list of values, e.g. bonus = [0, 2.5, 5]");
        for (const auto& other : sc.sweeps)
            if (other.name == sw.name) throw ConfigError(at(sw.where) + "duplicate sweep name '" + sw.name + "'");
        sc.sweeps.push_back(std::move(sw));
    }
}

// ---- validation helpers --------------------------------------------------------------

SourcePos where_set(const ScenarioFile& sc, const std::string& key) {
    const auto it = sc.positions.find(key);
    return it != sc.positions.end() ? it->second : SourcePos{};
}

std::string value_text(const void* params, const ParamInfo& p) {
    if (p.kind == ParamKind::Real) return shortest(read_value(params, p));
    return format_value(params, p);
}

void check_cross(Table table, const void* params, const ScenarioFile& sc, const CrossCheck& cc) {
    const ParamInfo* a = find_key(table, cc.a);
    const ParamInfo* b = find_key(table, cc.b);
    if (!a || !b || a->kind == ParamKind::Boolean || b->kind == ParamKind::Boolean) return;
    const std::string ka = a->key(), kb = b->key();
    // With a prior, the largest value it gives (the rules bound sums and
    // products of non-negative parameters from above).
    const PriorSpec* qa = prior_of(sc, *a);
    const PriorSpec* qb = prior_of(sc, *b);
    const double xa = qa ? attained(qa->prior).second : read_value(params, *a);
    const double xb = qb ? attained(qb->prior).second : read_value(params, *b);
    const std::string va = qa ? shortest(xa) + " (the largest value of its prior)" : value_text(params, *a);
    const std::string vb = qb ? shortest(xb) + " (the largest value of its prior)" : value_text(params, *b);
    std::string combined;
    bool bad = false;
    if (cc.op == CrossCheck::Op::SumAtMost) {
        const double s = xa + xb;
        bad = !(s <= cc.bound + 1e-12 * std::fabs(cc.bound));
        combined = ka + " + " + kb + " = " + va + " + " + vb + " = " + shortest(s);
    } else if (is_integer_kind(*a) && is_integer_kind(*b)) {
        std::int64_t prod = 0;
        const bool overflow = __builtin_mul_overflow(load_int(params, *a), load_int(params, *b), &prod);
        bad = overflow || !(static_cast<double>(prod) <= cc.bound);
        combined = ka + " * " + kb + " = " + va + " * " + vb + (overflow ? " overflows" : " = " + std::to_string(prod));
    } else {
        const double prod = xa * xb;
        bad = !(prod <= cc.bound);
        combined = ka + " * " + kb + " = " + va + " * " + vb + " = " + shortest(prod);
    }
    if (!bad) return;
    // Point at where the values were set: the first one set, and name the other.
    const SourcePos pa = where_set(sc, ka), pb = where_set(sc, kb);
    const bool a_set = !pa.file.empty() || pa.line > 0, b_set = !pb.file.empty() || pb.line > 0;
    SourcePos pos = a_set ? pa : (b_set ? pb : SourcePos{sc.source, 0, 0});
    std::string also;
    if (a_set && b_set) also = "; " + kb + " is set at " + to_string(pb);
    const bool integral = cc.op == CrossCheck::Op::ProductAtMost && is_integer_kind(*a) && is_integer_kind(*b);
    const std::string bound_text = integral ? format_number(ParamKind::Integer, cc.bound) : shortest(cc.bound);
    std::string msg = at(pos) + combined + " is out of range: must be at most " + bound_text;
    if (!cc.why.empty()) msg += " (" + std::string(cc.why) + ")";
    throw ConfigError(msg + also);
}

}  // namespace


ScenarioFile parse_scenario(std::string_view text, std::string source_name, Table table, void* params) {
    ScenarioFile sc;
    sc.source = std::move(source_name);
    sc.text = std::string(text);
    check_scenario_text(sc.text, sc.source);
    toml::table root;
    try {
        root = toml::parse(sc.text, std::string_view(sc.source));
    } catch (const toml::parse_error& e) {
        throw ConfigError(at(pos_of(e.source(), sc.source)) + "malformed TOML: " + std::string(e.description()));
    }
    const std::vector<std::string> sections = sections_of(table);
    for (const auto& e : in_file_order(root)) {
        const std::string name(e.key->str());
        const SourcePos kpos = pos_of(e.key->source(), sc.source);
        SourcePos npos = pos_of(e.node->source(), sc.source);
        if (npos.line <= 0) npos = kpos;
        const bool known = name == "output" || name == "arm" || name == "uncertainty" || name == "sweep" ||
                           std::find(sections.begin(), sections.end(), name) != sections.end();
        if (name == "arm") {
            parse_arms(*e.node, kpos, table, sc);
        } else if (name == "sweep") {
            parse_sweeps(*e.node, kpos, table, sc);
        } else if (known) {
            const auto* t = e.node->as_table();
            if (!t)
                throw ConfigError(at(kpos) + "'" + name + "' = " + node_text(*e.node) + " must be a section [" +
                                  name + "], not a value");
            if (name == "output") parse_output(*t, table, params, sc);
            else if (name == "uncertainty") parse_uncertainty(*t, sc);
            else parse_section(*t, name, table, params, sc);
        } else if (e.node->is_table()) {
            std::vector<std::string> all = sections;
            all.emplace_back("output");
            all.emplace_back("uncertainty");
            std::string msg = at(npos) + "unknown section [" + name + "]";
            if (const auto s = nearest(name, all)) msg += " (did you mean [" + *s + "]?)";
            else msg += "; sections are [" + join(all, "], [") + "], [[arm]] and [[sweep]]";
            throw ConfigError(msg);
        } else {
            std::string msg = at(kpos) + "key '" + name + "' is outside any section";
            if (const auto owners = find_name(table, name); !owners.empty())
                msg += ": write it under [" + std::string(owners.front()->section) + "]";
            else if (find_output(name) || name == kHistYears)
                msg += ": write it under [output]";
            else
                msg += " and is not a known key";
            throw ConfigError(msg);
        }
    }
    resolve_output_defaults(table, params, sc);
    return sc;
}

ScenarioFile load_scenario(const std::filesystem::path& file, Table table, void* params) {
    return parse_scenario(read_scenario_text(file), file.string(), table, params);
}

void apply_set(std::string_view assignment, Table table, void* params, ScenarioFile& sc) {
    const std::string whole = one_line(std::string(assignment), 200);
    const auto eq = assignment.find('=');
    if (eq == std::string_view::npos)
        throw ConfigError("--set: '" + whole + "' is not of the form key=value (e.g. --set population.villages=50)");
    const std::string key(trim(assignment.substr(0, eq)));
    const std::string raw(trim(assignment.substr(eq + 1)));
    if (key.empty()) throw ConfigError("--set: '" + whole + "' has no key before '='");
    const SourcePos where{"--set", 0, 0};

    // The value as a TOML value; a parse failure is reported as a wrong type.
    std::optional<toml::table> holder;
    const toml::node* node = nullptr;
    try {
        check_scenario_text(raw, "--set " + one_line(key), TextStart::Value);
        holder = toml::parse("v = " + raw + "\n", std::string_view("--set"));
        node = holder->get("v");
    } catch (const toml::parse_error&) {
        node = nullptr;
    }

    // arm.NAME.key
    if (key.rfind("arm.", 0) == 0) {
        const std::string rest = key.substr(4);
        const auto dot = rest.rfind('.');
        if (dot == std::string::npos || dot == 0 || dot + 1 == rest.size())
            throw ConfigError("--set: '" + key + "' must be arm.NAME.key, e.g. arm.bonus-verified.bonus=5");
        const std::string arm_name = rest.substr(0, dot), pkey = rest.substr(dot + 1);
        auto it = std::find_if(sc.arms.begin(), sc.arms.end(), [&](const ArmSpec& a) { return a.name == arm_name; });
        if (it == sc.arms.end()) {
            std::vector<std::string> names;
            for (const auto& a : sc.arms) names.push_back(a.name);
            std::string msg = "--set: no arm named '" + arm_name + "'";
            if (const auto s = nearest(arm_name, names)) msg += " (did you mean '" + *s + "'?)";
            else msg += names.empty() ? " (the scenario has no arms)" : "; arms: " + join(names);
            throw ConfigError(msg);
        }
        const ParamInfo* p = find_policy(table, pkey);
        if (!p) throw ConfigError(at(where) + unknown_arm_key_message(table, arm_name, pkey));
        if (!p->policy) throw ConfigError(at(where) + not_policy_message(table, arm_name, *p));
        Override next{p, 0.0, where};
        if (const auto* str = node ? node->as_string() : nullptr) {
            next.follows = link_target(table, *p, str->get(), where, arm_name);
            next.value = std::numeric_limits<double>::quiet_NaN();
        } else {
            next.value = check_value(*p, node, raw, where, where, pkey, " in arm '" + arm_name + "'").value;
        }
        auto ov = std::find_if(it->overrides.begin(), it->overrides.end(),
                               [&](const Override& o) { return o.param == p; });
        if (ov != it->overrides.end()) *ov = next;
        else it->overrides.push_back(next);
        return;
    }

    // uncertainty.design, .table, .scramble
    if (key.rfind("uncertainty.", 0) == 0) {
        if (!node) throw ConfigError("--set: " + key + " = " + one_line(raw) + " is not a TOML value");
        const auto t = toml::parse(key.substr(12) + " = " + raw + "\n", std::string_view("--set"));
        parse_uncertainty(t, sc);
        for (auto& [k, pos] : sc.uncertainty.positions)
            if (k == key.substr(12)) pos = where;
        sc.positions[key] = where;
        return;
    }

    // output.name or a bare output name
    const std::string oname = key.rfind("output.", 0) == 0 ? key.substr(7) : key;
    const bool dotted = key.find('.') != std::string::npos;
    if (key.rfind("output.", 0) == 0 ||
        (!dotted && (oname == kHistYears || find_output(oname) || find_model_output(table, oname)))) {
        const std::string full = "output." + oname;
        if (oname == kHistYears) {
            set_histogram_years(node, raw, where, where, sc.output);
        } else if (const ParamInfo* r = find_output(oname)) {
            write_checked(output_member(sc.output, oname), *r, check_value(*r, node, raw, where, where, full));
        } else if (const ParamInfo* m = find_model_output(table, oname)) {
            write_checked(params, *m, check_value(*m, node, raw, where, where, full));
        } else {
            std::string msg = "--set: unknown key '" + full + "'";
            if (const auto s = nearest(oname, output_names(table))) msg += " (did you mean '" + *s + "'?)";
            throw ConfigError(msg);
        }
        sc.positions[full] = where;
        return;
    }

    // section.name or a bare unique name
    const ParamInfo* p = nullptr;
    if (dotted) {
        p = find_key(table, key);
        if (!p) {
            const auto dot = key.find('.');
            const std::string section = key.substr(0, dot), name = key.substr(dot + 1);
            const auto sections = sections_of(table);
            std::string msg;
            if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
                std::vector<std::string> all = sections;
                all.emplace_back("output");
                msg = "--set: unknown section [" + section + "] in '" + key + "'";
                if (const auto s = nearest(section, all)) msg += " (did you mean [" + *s + "]?)";
            } else {
                msg = "--set: unknown key '" + key + "'";
                if (const auto s = nearest(name, names_in(table, section))) msg += " (did you mean '" + *s + "'?)";
                else if (const auto elsewhere = find_name(table, name); !elsewhere.empty())
                    msg += " ('" + name + "' belongs in [" + std::string(elsewhere.front()->section) + "])";
            }
            throw ConfigError(msg);
        }
    } else {
        const auto found = find_name(table, key);
        if (found.empty()) {
            std::vector<std::string> names;
            for (const auto& q : table) names.emplace_back(q.name);
            std::string msg = "--set: unknown key '" + key + "'";
            if (const auto s = nearest(key, names)) msg += " (did you mean '" + *s + "'?)";
            throw ConfigError(msg);
        }
        if (found.size() > 1) {
            std::vector<std::string> keys;
            for (const auto* q : found) keys.push_back(q->key());
            throw ConfigError("--set: key '" + key + "' is ambiguous: write one of " + join(keys, " or "));
        }
        p = found.front();
    }
    const std::string full = p->key();
    if (const auto* t = node ? node->as_table() : nullptr) {
        set_prior(sc, *p, read_prior(*p, *t, where, where, full), where, table, params);
    } else {
        write_checked(params, *p, check_value(*p, node, raw, where, where, full));
        drop_prior(sc, *p);  // a value given later replaces a prior given before
    }
    sc.positions[full] = where;
    resolve_output_defaults(table, params, sc);
}

void validate(Table table, const void* params, const ScenarioFile& sc, std::span<const CrossCheck> checks) {
    // Every parameter in range.
    for (const auto& p : table) {
        const std::string key = p.key();
        const SourcePos pos = where_set(sc, key);
        if (is_integer_kind(p)) {
            bool ok;
            if (p.kind == ParamKind::Unsigned) {
                std::uint64_t u;
                std::memcpy(&u, static_cast<const unsigned char*>(params) + p.offset, sizeof u);
                ok = u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) &&
                     int_in_range(p, static_cast<std::int64_t>(u));
            } else {
                ok = int_in_range(p, load_int(params, p));
            }
            if (!ok)
                throw ConfigError(at(pos) + key + " = " + format_value(params, p) + " is out of range: must be " +
                                  p.range_text());
        } else if (p.kind == ParamKind::Real) {
            const double v = read_value(params, p);
            if (!std::isfinite(v))
                throw ConfigError(at(pos) + key + " = " + shortest(v) + " is not allowed: must be " +
                                  finite_range_text(p));
            if (!p.in_range(v))
                throw ConfigError(at(pos) + key + " = " + shortest(v) + " is out of range: must be " +
                                  p.range_text());
        }
    }

    // Arms.
    if (sc.arms.empty())
        throw ConfigError((sc.source.empty() ? std::string("scenario") : sc.source) +
                          ": no [[arm]] entries: a scenario needs at least one policy arm");
    if (sc.arms.size() > kMaxArms) throw too_many_arms(sc.arms.size(), sc.arms[kMaxArms].where);
    for (std::size_t i = 0; i < sc.arms.size(); ++i) {
        const ArmSpec& arm = sc.arms[i];
        if (!valid_arm_name(arm.name))
            throw ConfigError(at(arm.where) + "arm name " + one_line(quote(arm.name)) + " is not allowed: " +
                              kArmNameRule);
        for (std::size_t j = 0; j < i; ++j)
            if (sc.arms[j].name == arm.name)
                throw ConfigError(at(arm.where) + "duplicate arm name '" + arm.name + "' (first at " +
                                  (sc.arms[j].where.line > 0 ? "line " + std::to_string(sc.arms[j].where.line)
                                                             : to_string(sc.arms[j].where)) +
                                  ")");
        for (const auto& o : arm.overrides) {
            if (!o.param) throw ConfigError(at(o.where) + "arm '" + arm.name + "' has an override without a key");
            if (!o.param->policy) throw ConfigError(at(o.where) + not_policy_message(table, arm.name, *o.param));
            if (o.follows) {
                const PriorSpec* q = prior_of(sc, *o.follows);
                const double v = read_value(params, *o.follows);
                const auto [lo, hi] = q ? attained(q->prior) : std::pair{v, v};
                if (!o.param->in_range(lo) || !o.param->in_range(hi))
                    throw ConfigError(at(o.where) + std::string(o.param->name) + " = \"" + o.follows->key() +
                                      "\" in arm '" + arm.name + "': " + o.follows->key() + " takes " +
                                      (q ? "values in [" + shortest(lo) + ", " + shortest(hi) + "]"
                                         : "the value " + shortest(v)) +
                                      ", outside " + std::string(o.param->name) + "'s range " +
                                      o.param->range_text());
                continue;
            }
            if (!std::isfinite(o.value))
                throw ConfigError(at(o.where) + std::string(o.param->name) + " = " + shortest(o.value) +
                                  " in arm '" + arm.name + "' is not allowed: must be " +
                                  finite_range_text(*o.param));
            if (!o.param->in_range(o.value))
                throw ConfigError(at(o.where) + std::string(o.param->name) + " = " +
                                  format_number(o.param->kind, o.value) + " in arm '" + arm.name +
                                  "' is out of range: must be " + o.param->range_text());
        }
    }

    // Cross-field rules.
    for (const auto& cc : checks) check_cross(table, params, sc, cc);

    // [output].
    for (const auto& r : kOutputRows) {
        const double v = read_value(output_member(sc.output, r.name), r);
        if (!r.in_range(v))
            throw ConfigError(at(where_set(sc, r.key())) + r.key() + " = " + format_number(r.kind, v) +
                              " is out of range: must be " + r.range_text());
    }
    if (const ParamInfo* pr = find_key(table, "run.replications")) {
        const std::int64_t reps = load_int(params, *pr);
        if (sc.output.trajectory_replications > reps)
            throw ConfigError(at(where_set(sc, "output.trajectory_replications")) +
                              "output.trajectory_replications = " +
                              std::to_string(sc.output.trajectory_replications) +
                              " is out of range: must be an integer in [0, " + std::to_string(reps) +
                              "] (at most run.replications = " + std::to_string(reps) + ")");
    }
    const ParamInfo* ps = find_key(table, "run.start_year");
    const ParamInfo* pt = find_key(table, "run.years");
    if (ps && pt) {
        const std::int64_t s = load_int(params, *ps);
        const std::int64_t T = load_int(params, *pt);
        const std::int64_t last = s + T - 1;  // both range-checked above: no overflow
        const SourcePos pos = where_set(sc, "output.histogram_years");
        std::int64_t prev = std::numeric_limits<std::int64_t>::min();
        for (const std::int64_t y : sc.output.histogram_years) {
            if (y < s || y > last)
                throw ConfigError(at(pos) + "output.histogram_years contains " + std::to_string(y) +
                                  ", which is outside the simulated years: must be an integer in [" +
                                  std::to_string(s) + ", " + std::to_string(last) + "] (run.start_year = " +
                                  std::to_string(s) + ", run.years = " + std::to_string(T) + ")");
            if (y == prev)
                throw ConfigError(at(pos) + "output.histogram_years lists the year " + std::to_string(y) +
                                  " twice: each year may appear once");
            prev = y;
        }
    }
}

std::string render_scenario(Table table, const void* params, const ScenarioFile& sc) {
    std::string out;
    out += "# artel scenario, resolved: every parameter with its final value.\n";
    if (!sc.source.empty()) out += "# From: " + one_line(sc.source, 200) + " (and any --set).\n";
    out += "# Parsing this text again gives exactly these values.\n";

    auto line = [&out](const std::string& assignment, std::string_view unit, std::string_view doc) {
        std::string l = assignment;
        std::string comment;
        if (!unit.empty()) comment += "[" + std::string(unit) + "]";
        if (!doc.empty()) comment += (comment.empty() ? "" : " ") + std::string(doc);
        if (!comment.empty()) {
            if (l.size() < 36) l.resize(36, ' ');
            else l += "  ";
            l += "# " + one_line(comment, 200);
        }
        out += l + "\n";
    };

    for (const auto& section : sections_of(table)) {
        if (section == "output") continue;  // with the engine's [output] keys below
        out += "\n[" + section + "]\n";
        for (const auto& p : table) {
            if (p.section != section) continue;
            const PriorSpec* q = prior_of(sc, p);
            line(std::string(p.name) + " = " + (q ? q->prior.to_toml() : format_value(params, p)), p.unit, p.doc);
        }
    }
    if (!sc.priors.empty() || !sc.uncertainty.positions.empty()) {
        out += "\n[uncertainty]\n";
        line("design = " + quote(sc.uncertainty.design), "", "how the replications' parameter vectors are laid out");
        if (!sc.uncertainty.table.empty()) line("table = " + quote(sc.uncertainty.table), "", "parameter vectors");
        line(std::string("scramble = ") + (sc.uncertainty.scramble ? "true" : "false"), "",
             "sobol and saltelli points scrambled by the seed");
    }

    out += "\n[output]\n";
    {
        std::string years = "[";
        for (std::size_t i = 0; i < sc.output.histogram_years.size(); ++i)
            years += (i ? ", " : "") + std::to_string(sc.output.histogram_years[i]);
        years += "]";
        line(std::string(kHistYears) + " = " + years, "", kHistYearsDoc);
        for (const auto& r : kOutputRows)
            line(std::string(r.name) + " = " + format_value(output_member(sc.output, r.name), r), r.unit, r.doc);
        for (const auto& r : table)
            if (r.section == "output") line(std::string(r.name) + " = " + format_value(params, r), r.unit, r.doc);
    }

    for (const auto& arm : sc.arms) {
        if (!arm.sweep.empty()) continue;  // written as its [[sweep]]
        out += "\n[[arm]]\nname = " + quote(arm.name) + "\n";
        for (const auto& o : arm.overrides)
            line(std::string(o.param->name) + " = " +
                     (o.follows ? quote(o.follows->key()) : format_number(o.param->kind, o.value)),
                 o.param->unit, o.follows ? "follows the base parameter" : o.param->doc);
    }
    for (const auto& sw : sc.sweeps) {
        out += "\n[[sweep]]\nname = " + quote(sw.name) + "\n";
        if (!sw.base_arm.empty()) out += "arm = " + quote(sw.base_arm) + "\n";
        for (const auto& [p, values] : sw.axes) {
            std::string list = "[";
            for (std::size_t i = 0; i < values.size(); ++i) list += (i ? ", " : "") + format_number(p->kind, values[i]);
            line(std::string(p->name) + " = " + list + "]", p->unit, p->doc);
        }
    }
    return out;
}

void expand_sweeps(ScenarioFile& sc) {
    std::erase_if(sc.arms, [](const ArmSpec& a) { return !a.sweep.empty(); });
    for (const auto& sw : sc.sweeps) {
        const ArmSpec* base = sc.arms.empty() ? nullptr : &sc.arms.front();
        if (!sw.base_arm.empty()) {
            base = nullptr;
            for (const auto& a : sc.arms)
                if (a.name == sw.base_arm) base = &a;
            if (!base)
                throw ConfigError(at(sw.where) + "sweep '" + sw.name + "' is on arm '" + sw.base_arm +
                                  "', and there is no arm of that name");
        }
        if (!base) throw ConfigError(at(sw.where) + "sweep '" + sw.name + "' needs an [[arm]] to start from");
        const ArmSpec start = *base;
        std::size_t points = 1;
        for (const auto& axis : sw.axes) points *= axis.second.size();
        for (std::size_t k = 0; k < points; ++k) {
            ArmSpec arm = start;
            arm.where = sw.where;
            arm.sweep = sw.name;
            arm.name = sw.name;
            std::size_t rest = k;
            std::vector<std::size_t> index(sw.axes.size());
            for (std::size_t j = sw.axes.size(); j-- > 0;) {  // the first axis varies slowest
                index[j] = rest % sw.axes[j].second.size();
                rest /= sw.axes[j].second.size();
            }
            for (std::size_t j = 0; j < sw.axes.size(); ++j) {
                const ParamInfo* p = sw.axes[j].first;
                const double v = sw.axes[j].second[index[j]];
                arm.name += "." + std::string(p->name) + "-" + shortest(v);
                arm.coordinates.emplace_back(p->key(), v);
                auto ov = std::find_if(arm.overrides.begin(), arm.overrides.end(),
                                       [&](const Override& o) { return o.param == p; });
                if (ov != arm.overrides.end()) *ov = Override{p, v, sw.where};
                else arm.overrides.push_back(Override{p, v, sw.where});
            }
            for (const auto& other : sc.arms)
                if (other.name == arm.name)
                    throw ConfigError(at(sw.where) + "sweep '" + sw.name + "' makes an arm named '" + arm.name +
                                      "', which exists already");
            sc.arms.push_back(std::move(arm));
            if (sc.arms.size() > kMaxSweepArms)
                throw ConfigError(at(sw.where) + "the sweeps make more than " + std::to_string(kMaxSweepArms) +
                                  " arms in all: use fewer values");
        }
    }
}

void apply_arm(const ArmSpec& arm, void* params) {
    for (const auto& o : arm.overrides)
        write_value(params, *o.param, o.follows ? read_value(params, *o.follows) : o.value);
}

}  // namespace artel::config
