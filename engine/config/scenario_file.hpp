// Scenario files: TOML text -> a filled parameter struct, the policy arms and
// the [output] choices; command-line "--set" overrides; validation; and the
// resolved scenario written back as TOML. Generic: the parameters are
// described by a ParamInfo table and written into an opaque struct; nothing
// here knows what they mean (except the [run] keys start_year, years and
// replications, which [output] is checked against, and the cross-field rules
// passed to validate(), which apply only when their keys are in the table).
//
// Typical use:
//   Params p;                                  // defaults
//   auto sc = load_scenario(file, table, &p);  // per-key checks
//   for (auto& s : sets) apply_set(s, table, &p, sc);
//   validate(table, &p, sc);                   // cross-field, arms, [output]
//
// File format: sections named by ParamInfo::section ([run], [population],
// ...) hold `name = value`; [output] holds OutputSpec's keys; each [[arm]]
// holds `name = "..."` and bare policy keys (ParamInfo::policy), e.g.
//   [[arm]]
//   name = "bonus-verified"
//   bonus = 5.0
//   audit_prob = 0.5
// Types: real parameters take TOML floats or integers (5 -> 5.0); integer
// parameters take TOML integers only (3.0 is refused); unsigned parameters
// (the seed) take TOML integers in [0, 2^63 - 1], the most a TOML integer
// holds; booleans take true/false only. NaN and inf are refused everywhere.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config/error.hpp"
#include "engine/config/param_info.hpp"

namespace artel::config {

struct Override {
    const ParamInfo* param;  // a row of the table (policy == true)
    double value;            // checked against the row's range
    SourcePos where;
};

// The most arms a scenario may have (more are refused when the file is
// parsed, at the first arm too many). Arms are policy packages compared with
// the baseline (MODEL.md §5): a study has a handful. Whatever the
// population, each arm costs the result writer 5.5-7 MiB of memory (most of
// it its statistics datasets, held open in HDF5 until the end of the run)
// and ~0.55 MB of file, and the writer's time grows faster than the arms:
// 1000 arms of 10 households and 2 replications took 5.2 GiB and 106 s, 90
// of them for the statistics (docs/performance.md, "Estimates before a
// run"). At 1024 a run stays within a few minutes and 5-7 GiB of
// bookkeeping; a larger study is better split into several runs.
inline constexpr std::size_t kMaxArms = 1024;

struct ArmSpec {
    std::string name;  // [A-Za-z0-9_.-]+, unique; becomes an HDF5 group name
    std::vector<Override> overrides;
    SourcePos where;   // the [[arm]] header
};

// The [output] section.
struct OutputSpec {
    // Calendar years at whose end household histograms are taken, sorted and
    // distinct. Unless set explicitly: {start_year, start_year+4,
    // start_year+9, start_year+years-1} restricted to the simulated years,
    // recomputed whenever [run] start_year or years change. Each must lie in
    // [start_year, start_year+years-1].
    std::vector<std::int64_t> histogram_years;
    std::int64_t histogram_bins = 40;          // [2, 1000]
    double hist_wealth_max = 400.0;            // (0, inf) roubles; last bin counts overflow
    double hist_grain_max = 100.0;             // (0, inf) centners; last bin counts overflow
    std::int64_t trajectory_households = 100;  // [0, 100000] households whose trajectories are written
    std::int64_t trajectory_replications = 1;  // [0, replications] replications they are taken from
};

struct ScenarioFile {
    std::string source;  // file name as given ("" when built without a file)
    std::string text;    // the file's text
    std::vector<ArmSpec> arms;
    OutputSpec output;
    // "section.name" -> where it was last set (file position or "--set");
    // absent = default. "output.histogram_years" present = set explicitly.
    std::map<std::string, SourcePos> positions;
};

// A cross-field rule between two numeric parameters (by "section.name").
struct CrossCheck {
    enum class Op { SumAtMost, ProductAtMost };
    Op op;
    std::string_view a;
    std::string_view b;
    double bound;
    std::string_view why;  // appended to the message, e.g. "households per replication"
};

// Parses TOML text. `params` already holds defaults; every key present is
// checked (type, finite, range) and written. Collects arms (names checked,
// unique; keys must be policy keys) and [output]. Unknown sections/keys,
// wrong types, out-of-range values and malformed TOML throw ConfigError with
// "source:line:column: ...". Cross-field rules, the arm count and
// histogram years are left to validate().
ScenarioFile parse_scenario(std::string_view text, std::string source_name, std::span<const ParamInfo> table,
                            void* params);
// Reads (read_scenario_text: at most 4 MiB, whatever the file) and parses a
// file; a missing/unreadable file throws "cannot read scenario 'x.toml':
// <reason>". Before toml++ sees any text, parse_scenario and apply_set check
// it with check_scenario_text (size, UTF-8, nesting depth).
ScenarioFile load_scenario(const std::filesystem::path& file, std::span<const ParamInfo> table, void* params);

// Applies one "--set key=value". key: "section.name", a bare name that is
// unique in the table (else an "ambiguous" error naming the candidates),
// "output.name" / a bare output name, or "arm.NAME.key" (bare policy key in
// the existing arm NAME; NAME may contain dots, the key is after the last
// one). The value is read as a TOML value and checked like a file's.
void apply_set(std::string_view assignment, std::span<const ParamInfo> table, void* params,
               ScenarioFile& scenario);

// Checks everything: every parameter in range, 1 to kMaxArms arms, arm names
// valid and unique, overrides are policy keys in range, the cross-field
// rules, and [output] (histogram years within the simulated years,
// trajectory_replications <= replications). Throws ConfigError.
void validate(std::span<const ParamInfo> table, const void* params, const ScenarioFile& scenario,
              std::span<const CrossCheck> checks = {});

// The resolved scenario as TOML: every section and parameter with its final
// value (unit and meaning as a trailing comment), then [output], then every
// [[arm]] with its overrides. Parsing it again gives the same values exactly
// (shortest round-trip formatting of reals).
std::string render_scenario(std::span<const ParamInfo> table, const void* params, const ScenarioFile& scenario);

// Writes an arm's overrides into a copy of the parameters.
void apply_arm(const ArmSpec& arm, void* params);

}  // namespace artel::config
