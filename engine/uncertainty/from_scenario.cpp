#include "engine/uncertainty/from_scenario.hpp"

#include <cmath>

#include "engine/uncertainty/table.hpp"

namespace artel::uq {
namespace {

std::string at(const config::SourcePos& pos) { return config::to_string(pos) + ": "; }

config::SourcePos where(const config::ScenarioFile& sc, const std::string& key) {
    const auto it = sc.uncertainty.positions.find(key);
    if (it != sc.uncertainty.positions.end()) return it->second;
    return sc.priors.empty() ? config::SourcePos{sc.source, 0, 0} : sc.priors.front().where;
}

std::shared_ptr<const ParameterSampler> from_table(const std::filesystem::path& scenario_file,
                                                   const config::ScenarioFile& sc,
                                                   std::vector<UncertainParameter> params, std::int64_t replications) {
    const auto pos = where(sc, "table");
    if (sc.uncertainty.table.empty())
        throw config::ConfigError(at(where(sc, "design")) +
                                  "uncertainty.design = \"table\" needs uncertainty.table = \"FILE\": a CSV or HDF5 "
                                  "file whose columns are the uncertain parameters' keys");
    std::filesystem::path path = sc.uncertainty.table;
    if (path.is_relative() && !scenario_file.empty()) path = scenario_file.parent_path() / path;
    std::vector<std::string> columns;
    for (const auto& p : params) columns.push_back(p.param->key());
    ParameterTable table;
    try {
        table = read_parameter_table(path, columns);
    } catch (const std::exception& e) {
        throw config::ConfigError(at(pos) + "uncertainty.table = \"" + sc.uncertainty.table + "\": " + e.what());
    }
    if (table.rows < static_cast<std::uint64_t>(replications))
        throw config::ConfigError(at(pos) + "uncertainty.table = \"" + sc.uncertainty.table + "\" has " +
                                  std::to_string(table.rows) + " rows and the run has " +
                                  std::to_string(replications) +
                                  " replications: a row per replication (set run.replications to at most " +
                                  std::to_string(table.rows) + ")");
    const std::size_t d = params.size();
    for (std::uint64_t r = 0; r < table.rows; ++r)
        for (std::size_t j = 0; j < d; ++j) {
            const double v = table.values[r * d + j];
            if (!params[j].param->in_range(v))
                throw config::ConfigError(at(pos) + "uncertainty.table = \"" + sc.uncertainty.table + "\": row " +
                                          std::to_string(r + 1) + ", column " + columns[j] + " = " +
                                          config::shortest_text(v) + " is out of range: must be " +
                                          params[j].param->range_text());
        }
    return std::make_shared<const ParameterSampler>(std::move(params), std::move(table.values), table.rows,
                                                    path.string());
}

}  // namespace

std::shared_ptr<const ParameterSampler> make_sampler(const std::filesystem::path& scenario_file,
                                                     const config::ScenarioFile& sc, std::uint64_t seed,
                                                     std::int64_t replications) {
    const auto kind = parse_design_kind(sc.uncertainty.design);
    if (sc.priors.empty()) {
        if (kind == DesignKind::Table)
            throw config::ConfigError(at(where(sc, "design")) +
                                      "uncertainty.design = \"table\", but no parameter has a prior: the priors name "
                                      "the table's columns");
        return nullptr;
    }
    std::vector<UncertainParameter> params;
    for (const auto& p : sc.priors) params.push_back({p.param, p.prior});
    if (kind == DesignKind::Table) return from_table(scenario_file, sc, std::move(params), replications);
    try {
        return std::make_shared<const ParameterSampler>(std::move(params), kind, seed,
                                                        static_cast<std::uint64_t>(replications),
                                                        sc.uncertainty.scramble);
    } catch (const DesignError& e) {
        throw config::ConfigError(at(where(sc, "design")) + "uncertainty.design = \"" + sc.uncertainty.design +
                                  "\" with " + std::to_string(sc.priors.size()) + " uncertain parameters and " +
                                  std::to_string(replications) + " replications: " + e.what());
    }
}

}  // namespace artel::uq
