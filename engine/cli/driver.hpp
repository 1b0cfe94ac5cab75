// The seam between the command line and a model: the CLI knows how to parse
// arguments, run, write and report; the driver knows how to turn a scenario
// file into a Simulation and which results make a headline.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/output/result_writer.hpp"
#include "engine/run/simulation.hpp"
#include "engine/uncertainty/sampler.hpp"

namespace artel::cli {

struct PreparedRun {
    std::unique_ptr<run::Simulation> simulation;
    output::RunMetadata metadata;  // scenario text, seed, arm overrides (command line filled by the CLI)
    double work = 0;               // household-years of the whole run
    // The uncertain parameters and their design (null: none).
    std::shared_ptr<const uq::ParameterSampler> parameters;
    std::string work_unit = "household-years";
};

struct Headline {
    std::string label;    // "active share"
    std::string name;     // a series or event name in the stats group
    bool series = true;   // series: value at the final year; otherwise an event
    int decimals = 3;
};

class ModelDriver {
public:
    virtual ~ModelDriver() = default;
    // Loads `file`, applies "key=value" assignments in order, validates.
    // Throws config::ConfigError for anything the user wrote wrong.
    virtual PreparedRun prepare(const std::filesystem::path& file, const std::vector<std::string>& sets) const = 0;
    virtual std::vector<Headline> headlines() const = 0;
    // Chooses the kernel: "auto" (fastest available), an instruction set
    // ("avx3", "avx2", "sse4", "scalar") or "reference" (the scalar reference
    // kernel). Results do not depend on it. Throws std::invalid_argument.
    virtual void select_kernel(const std::string& name) = 0;
    virtual std::string kernel() const = 0;
    virtual std::vector<std::string> kernels() const = 0;
};

}  // namespace artel::cli
