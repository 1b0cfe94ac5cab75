// The per-replication rows of a result file, written by every rank at once
// with parallel HDF5 (MPI-IO, collective transfers): each rank writes the
// rows of the records it made, as hyperslabs of the datasets rank 0 created
// (ResultWriter with parallel_rows: chunked, not compressed, allocated when
// created). Every call here is collective: every rank makes it, with the
// same datasets in the same order, with rows or without.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/output/result_writer.hpp"
#include "engine/run/results.hpp"

namespace artel::dist {

class ParallelRows {
public:
    // Opens `partial` for writing on every rank of `comm` (H5Pset_fapl_mpio).
    ParallelRows(const std::filesystem::path& partial, const run::ResultSchema& schema, MPI_Comm comm);
    ~ParallelRows();  // closes quietly (collective: every rank must reach it)
    ParallelRows(const ParallelRows&) = delete;
    ParallelRows& operator=(const ParallelRows&) = delete;

    // Writes the rows of `records` (this rank's; sorted here by replication)
    // into every per-replication dataset, one collective write per dataset.
    void write(std::vector<run::ReplicationRecord>& records);
    // Closes the file (collective); throws if HDF5 cannot.
    void close();
    // Collective writes made so far (datasets x rounds), for the measurements.
    std::uint64_t writes() const { return writes_; }

private:
    std::string path_;
    run::ResultSchema schema_;
    std::vector<output::RowDigests::RowDataset> sets_;
    std::int64_t file_ = -1, dxpl_ = -1;
    std::vector<std::int64_t> datasets_;
    std::uint64_t writes_ = 0;
};

}  // namespace artel::dist
