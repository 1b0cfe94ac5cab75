// libFuzzer target: any bytes as a scenario file, and as a --set value. The
// parser and validator must either accept the input or throw ConfigError —
// never crash, hang, overflow or leak (built with AddressSanitizer and
// UBSan). Accepted input must render to TOML that parses again to the same
// parameters. Everything goes through the lexical pre-scan
// (engine/config/scenario_text.hpp) first; what it lets through to toml++
// must nest no deeper than it allows.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "engine/config/scenario_file.hpp"
#include "engine/config/scenario_text.hpp"
#include "kernels/params.hpp"

using namespace artel;

namespace {

// Containers (tables, arrays) below `n`, at most: the root is 0.
int depth(const toml::node& n) {
    int d = 0;
    if (const auto* t = n.as_table())
        for (const auto& [k, v] : *t) d = std::max(d, 1 + depth(v));
    else if (const auto* a = n.as_array())
        for (const auto& v : *a) d = std::max(d, 1 + depth(v));
    return d;
}

// The pre-scan's bound holds for what toml++ builds: each level it counts
// is at most one level of the tree, except a part of a table header written
// [[...]] (an array of tables), which is two (the array and its table).
void check_depth(std::string_view text, config::TextStart start) {
    try {
        config::check_scenario_text(text, "fuzz.toml", start);
    } catch (const config::ConfigError&) {
        return;
    }
    toml::table root;
    try {
        root = toml::parse(start == config::TextStart::Value ? "v = " + std::string(text) : std::string(text));
    } catch (const toml::parse_error&) {
        return;
    }
    if (depth(root) > 2 * config::kMaxNesting) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto table = model::param_table();
    check_depth(text, config::TextStart::Document);
    check_depth(text, config::TextStart::Value);
    model::Params p;
    try {
        auto sc = config::parse_scenario(text, "fuzz.toml", table, &p);
        config::expand_sweeps(sc);
        config::validate(table, &p, sc, model::cross_checks());
        const auto rendered = config::render_scenario(table, &p, sc);
        model::Params q;
        auto again = config::parse_scenario(rendered, "rendered.toml", table, &q);
        config::expand_sweeps(again);
        config::validate(table, &q, again, model::cross_checks());
        for (const auto& info : table)
            if (config::format_value(&p, info) != config::format_value(&q, info)) __builtin_trap();
        if (again.arms.size() != sc.arms.size() || again.priors.size() != sc.priors.size()) __builtin_trap();
        for (std::size_t i = 0; i < sc.priors.size(); ++i)
            if (!(sc.priors[i].prior == again.priors[i].prior)) __builtin_trap();
    } catch (const config::ConfigError&) {
        // refused with a message: fine
    }
    // The same bytes as a --set value (pre-scanned as a value, then parsed
    // as `v = <text>`).
    try {
        model::Params d;
        config::ScenarioFile sc;
        config::apply_set("output.histogram_years=" + std::string(text), table, &d, sc);
    } catch (const config::ConfigError&) {
    }
    return 0;
}
