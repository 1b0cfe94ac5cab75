// What a run will need, estimated before any work: peak memory, the size of
// the result file and the time. Planning allocates nothing that grows with
// the run: the estimate is computed from the schema and the model's own
// sizes, and the time from one work unit of a one-arm copy of the simulation
// (Simulation::first_arms). The model behind the figures, and how well they
// match measured runs, is in docs/performance.md ("Estimates before a run").
#pragma once

#include <cstdint>
#include <string>

#include "engine/run/simulation.hpp"

namespace artel::run {

// Peak resident memory, in parts (bytes). While rows are written the
// workers, the window of accumulators and the records in flight are
// resident; at the end, the statistics. The result file's open objects are
// resident throughout.
struct MemoryEstimate {
    double fixed = 0;         // the executable, its libraries, HDF5 and OpenMP
    double workers = 0;       // threads x the model's working memory
    double accumulators = 0;  // replications in flight (the runner's window)
    double records = 0;       // replication records on their way to the file
    double file = 0;          // HDF5's share of the result file's open groups and datasets, chunk caches
    double statistics = 0;    // at the end: statistics datasets held open until their scales are attached
    double peak() const;
};

// What the result writer creates for a schema (engine/output/
// result_writer.cpp, docs/output-format.md), counted; tests/test_plan.cpp
// checks the counts against a file the writer made.
struct FileLayout {
    double open = 0;         // groups and datasets open while rows are written
    double chunk_cache = 0;  // bytes in their chunk caches
    double statistics = 0;   // statistics datasets and groups held open at the end
    double objects = 0;      // groups and datasets in the file, the root included
    double values = 0;       // bytes of the numeric values stored as they are (not the arm names)
    double rows = 0;         // bytes of the rows (series, start, events), before compression
};
FileLayout count_layout(const ResultSchema& schema);

struct Plan {
    int threads = 1;
    std::size_t batch = 1;  // replications in flight
    double work = 0;        // the model's units of work, whole run
    FileLayout layout;
    MemoryEstimate memory;
    // Bytes of the result file, an upper bound: metadata and values, the
    // compressed rows (series, start, events) counted uncompressed. Deflate
    // saves 50-70% of the rows, which are a small part of a file of few
    // replications and most of a file of thousands.
    double output = 0;
    // The simulation, from one timed work unit, and the writer's bookkeeping
    // per dataset; rough (the writer's share grows faster than the arms).
    double seconds = 0;
    // An MPI job of `ranks` ranks (engine/mpi/): `memory` is rank 0's (it
    // also makes the file's layout and, at the end, the statistics);
    // `memory_other_rank` that of each of the others (its threads, its
    // window of accumulators, the rows it holds for the next collective
    // write, the parallel file's open datasets).
    int ranks = 1;
    MemoryEstimate memory_other_rank;
};

// `threads`: 0 for OpenMP's default. `work`: of the whole run, as the
// driver counts it.
Plan make_plan(const Simulation& sim, int threads, double work, int ranks = 1);

// "fixed 25.0 MiB, workers 1.2 MiB, ...": the parts of the estimate.
std::string describe(const MemoryEstimate& m);

// MemAvailable from /proc/meminfo, in bytes; 0 if unknown.
std::uint64_t available_memory();

}  // namespace artel::run
