// Writes a run's results to HDF5 (layout: docs/output-format.md). The file is
// written under a temporary name (OUT.partial) and renamed to OUT only when
// complete, so a file under the final name is always whole. Each replication
// fills only its own rows, so processes running disjoint replication ranges
// can later share one file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/run/results.hpp"
#include "engine/run/runner.hpp"

namespace artel::output {

inline constexpr int kFormatMajor = 1;
inline constexpr int kFormatMinor = 0;
inline constexpr const char* kFormatName = "artel-results";

struct RunMetadata {
    std::string scenario_text;            // the resolved scenario (TOML)
    std::string scenario_file;            // as given on the command line
    std::string command_line;
    std::uint64_t seed = 0;
    std::vector<std::string> arm_overrides;  // per arm, its overrides as TOML lines
};

// The temporary name a run writes to before it is complete.
std::filesystem::path partial_path(const std::filesystem::path& final_path);

class ResultWriter final : public run::RecordSink {
public:
    // Creates OUT.partial (replacing a stale one only if `replace_partial`).
    ResultWriter(std::filesystem::path final_path, const run::ResultSchema& schema, const RunMetadata& meta,
                 bool replace_partial);
    ~ResultWriter() override;
    ResultWriter(const ResultWriter&) = delete;
    ResultWriter& operator=(const ResultWriter&) = delete;

    void consume(const run::ReplicationRecord& record) override;
    void batch_done() override;
    // Writes statistics, histograms and the completion mark, closes the file
    // and renames it to the final name (replacing an existing file).
    void finish();

    const std::filesystem::path& final_path() const { return final_; }
    const std::filesystem::path& temp_path() const { return temp_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::filesystem::path final_, temp_;
};

}  // namespace artel::output
