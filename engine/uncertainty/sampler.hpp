// The parameter vector of every replication (MODEL.md §6): a design's point
// turned into values by the priors' quantile functions, or a row of a table
// of vectors (for example a calibration's accepted draws). Generic: the
// parameters are rows of a ParamInfo table, written into an opaque struct.
// values() and apply() are pure functions of (seed, design, replication,
// parameter), so a replication has the same parameters whatever thread,
// process or resume computes it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/config/param_info.hpp"
#include "engine/uncertainty/design.hpp"
#include "engine/uncertainty/prior.hpp"

namespace artel::uq {

struct UncertainParameter {
    const config::ParamInfo* param;
    Prior prior;
};

class ParameterSampler {
public:
    // A design's points through the priors.
    ParameterSampler(std::vector<UncertainParameter> parameters, DesignKind kind, std::uint64_t seed,
                     std::uint64_t replications, bool scramble);
    // Rows of a table: row r is replication r's vector (values in the order
    // of `parameters`, `rows` rows, at least the replications).
    ParameterSampler(std::vector<UncertainParameter> parameters, std::vector<double> table, std::uint64_t rows,
                     std::string source);

    std::size_t size() const { return parameters_.size(); }
    const std::vector<UncertainParameter>& parameters() const { return parameters_; }
    DesignKind kind() const { return kind_; }
    const Design* design() const { return design_.get(); }
    const std::string& table_source() const { return source_; }

    // The replication whose random numbers (weather, households) replication
    // r uses. A Saltelli design's d + 2 replications of one base point share
    // them, so that its estimators compare parameter vectors on common random
    // numbers instead of measuring the histories' own randomness as an
    // effect of the parameters; every other design: r itself.
    std::uint64_t stream_replication(std::uint64_t replication) const;
    // Replication r's values, one per parameter.
    void values(std::uint64_t replication, std::span<double> out) const;
    // Writes replication r's values into the parameter struct at `params`.
    void apply(std::uint64_t replication, void* params) const;

private:
    std::vector<UncertainParameter> parameters_;
    DesignKind kind_;
    std::shared_ptr<const Design> design_;
    std::vector<double> table_;
    std::uint64_t rows_ = 0;
    std::string source_;
};

}  // namespace artel::uq
