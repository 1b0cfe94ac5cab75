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

#include "engine/output/output_files.hpp"
#include "engine/run/results.hpp"
#include "engine/run/runner.hpp"

namespace artel::output {

inline constexpr int kFormatMajor = 1;
inline constexpr int kFormatMinor = 2;
inline constexpr const char* kFormatName = "artel-results";

// The [[sweep]] that generated an arm, and the arm's point on its grid.
struct ArmSweep {
    std::string name;
    std::vector<std::pair<std::string, double>> coordinates;  // policy key, value
};

struct RunMetadata {
    std::string scenario_text;            // the resolved scenario (TOML)
    std::string scenario_file;            // as given on the command line
    std::string command_line;
    std::uint64_t seed = 0;
    std::vector<std::string> arm_overrides;  // per arm, its overrides as TOML lines
    std::vector<ArmSweep> arm_sweeps;        // per arm (or empty)
};

// The temporary name a run writes to before it is complete.
std::filesystem::path partial_path(const std::filesystem::path& final_path);

// Digests of the per-replication rows (series, start values, events,
// trajectories) that a result file should hold, one per dataset, summed over
// rows so that the order in which records arrive does not matter. A file is
// verified when it is complete and every dataset's digest, read back from the
// file, equals the digest of the records.
class RowDigests {
public:
    explicit RowDigests(const run::ResultSchema& schema);
    void add(const run::ReplicationRecord& record);
    // "" when `path` is a complete artel result file whose rows are exactly
    // the records added; otherwise what is wrong.
    std::string check_file(const std::filesystem::path& path) const;

    // One per-replication dataset, and where a record's row of it comes from.
    struct RowDataset {
        std::string path;
        std::size_t arm;
        enum class Kind { Series, Start, Event, Trajectory, Parameter, Region } kind;
        std::size_t index;  // series, event or trajectory variable
    };

private:
    run::ResultSchema schema_;
    std::vector<RowDataset> sets_;
    std::vector<std::uint64_t> digest_;
    std::uint64_t records_ = 0;
};

// The per-replication datasets of a schema, in one fixed order (the
// digests', and the order in which MPI ranks write them), and record r's row
// of one of them (empty when r has none there: trajectories).
std::vector<RowDigests::RowDataset> row_datasets(const run::ResultSchema& schema);
void record_row(const run::ResultSchema& schema, const RowDigests::RowDataset& dataset,
                const run::ReplicationRecord& record, std::vector<double>& row);

// A result file that does not hold what was written to it.
class ResultUnverified : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class ResultWriter final : public run::RecordSink {
public:
    // Creates OUT.partial, which must not exist (O_EXCL: a link planted at
    // the name is never followed).
    //
    // `parallel_rows`: the per-replication datasets are made for MPI ranks to
    // write with parallel HDF5 (engine/mpi/): chunked as usual but not
    // compressed (HDF5 1.10's parallel writes of compressed chunks hang,
    // docs/clusters.md), their storage allocated when created.
    ResultWriter(std::filesystem::path final_path, const run::ResultSchema& schema, const RunMetadata& meta,
                 bool parallel_rows = false);
    ~ResultWriter() override;
    ResultWriter(const ResultWriter&) = delete;
    ResultWriter& operator=(const ResultWriter&) = delete;

    void consume(const run::ReplicationRecord& record) override;
    void batch_done() override;
    // An MPI run (engine/mpi/), on rank 0: hand_over() writes the rows
    // consumed so far and closes the file, for the ranks to open it with
    // parallel HDF5 and write the rows of the records they make; each of
    // those records is counted (digests, histograms) with
    // count_written_elsewhere(); take_back() opens the file again, after the
    // ranks have closed it, for finish().
    void hand_over();
    void count_written_elsewhere(const run::ReplicationRecord& record);
    void take_back();
    // Writes statistics, histograms and the completion mark, closes the
    // file, reads it back to verify it (ResultUnverified if it does not hold
    // every record consumed) and renames it to the final name, replacing
    // only the file `replaces` (see place_result in output_files.hpp).
    void finish(FileId replaces = {});

    const std::filesystem::path& final_path() const { return final_; }
    const std::filesystem::path& temp_path() const { return temp_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::filesystem::path final_, temp_;
};

}  // namespace artel::output
