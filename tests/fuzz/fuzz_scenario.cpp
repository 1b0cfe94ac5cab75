// libFuzzer target: any bytes as a scenario file. The parser and validator
// must either accept the input or throw ConfigError — never crash, hang,
// overflow or leak (built with AddressSanitizer and UBSan). Accepted input
// must render to TOML that parses again to the same parameters.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "engine/config/scenario_file.hpp"
#include "kernels/params.hpp"

using namespace artel;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto table = model::param_table();
    model::Params p;
    try {
        auto sc = config::parse_scenario(text, "fuzz.toml", table, &p);
        config::validate(table, &p, sc, model::cross_checks());
        const auto rendered = config::render_scenario(table, &p, sc);
        model::Params q;
        auto again = config::parse_scenario(rendered, "rendered.toml", table, &q);
        config::validate(table, &q, again, model::cross_checks());
        for (const auto& info : table)
            if (config::format_value(&p, info) != config::format_value(&q, info)) __builtin_trap();
        if (again.arms.size() != sc.arms.size()) __builtin_trap();
    } catch (const config::ConfigError&) {
        // refused with a message: fine
    }
    return 0;
}
