// The processes of one run (MPI ranks), as the command line sees them. With
// the MPI build (ARTEL_MPI, preset mpi: engine/mpi/) and a launcher (mpirun,
// srun) there are several; otherwise there is one, every collective call
// returns at once, and run() is never called. The kernels know nothing of
// this: a rank runs pieces of replications with the ordinary runner
// (engine/run/runner.hpp), and the rest is the exchange of finished records
// and accumulators, written out here. How the work is divided, how the
// file is written and how a run stops: docs/clusters.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/run/progress.hpp"
#include "engine/run/results.hpp"
#include "engine/run/runner.hpp"
#include "engine/run/simulation.hpp"

namespace artel::dist {

// Starts MPI (MPI_THREAD_FUNNELED) when the process was started by an MPI
// launcher and the build has MPI; finalises it when destroyed. One per
// process, made by the front door before anything else.
class Environment {
public:
    Environment(int& argc, char**& argv);
    ~Environment();
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;
};

int rank();
int size();
inline bool is_root() { return rank() == 0; }

// What went wrong on one rank, with the exit code it calls for.
struct Failure {
    int rank = 0;
    int code = 1;
    std::string message;
};

// Collective: every rank gives what went wrong on it, if anything; every
// rank gets the failure of the lowest rank that had one.
std::optional<Failure> agree(const std::optional<Failure>& mine);

// Collective: rank 0's values, on every rank.
void broadcast(std::vector<std::uint64_t>& values);

// For a failure that leaves the ranks unable to meet again (inside parallel
// HDF5's collective calls): prints "artel: error: rank R of N: message" and
// ends every rank of the job (MPI_Abort) with `code`.
[[noreturn]] void abort_job(const std::string& message, int code);

// What rank 0 does with every finished record, whoever made it: journal it
// and count it (the rows are written by the rank that made the record).
class RootSink {
public:
    virtual ~RootSink() = default;
    virtual void record(const run::ReplicationRecord& record) = 0;
    // Make what was recorded durable (the journal's fsync).
    virtual void sync() = 0;
};

struct RunOptions {
    int threads = 0;                       // per rank; 0: OpenMP's default
    std::vector<std::uint64_t> remaining;  // the replications to run, increasing; the same on every rank
    std::filesystem::path partial;         // the result file, its layout made by rank 0 and closed
    run::Progress* progress = nullptr;     // rank 0: the job's progress line; elsewhere unused
    const std::atomic<bool>* stop = nullptr;  // set by a signal on this rank
    const std::atomic<int>* signal = nullptr; // which one
    RootSink* sink = nullptr;              // rank 0 only
};

struct RunSummary {
    bool stopped = false;     // a signal on some rank, or a failure: not every record was made
    int signal = 0;           // the signal that stopped it (the highest number seen on any rank)
    std::uint64_t records = 0;  // records rank 0 received (and journaled) in this run
    std::optional<Failure> failure;  // the lowest failing rank's message, on every rank
    double seconds = 0;
    double work = 0;          // the whole job's, in the model's units
    // What went between ranks and into the file (the whole job's), for the
    // cost model of docs/performance.md.
    double record_bytes = 0;  // records sent to rank 0
    double piece_bytes = 0;   // saved accumulators of split replications sent to their owners
    std::uint64_t pieces_sent = 0;
    std::uint64_t rounds = 0;   // rounds of collective writes
    std::uint64_t writes = 0;   // collective H5Dwrite calls made by each rank
    double write_seconds = 0;   // rank 0's time in them (and in opening and closing the file)
};

// Collective: runs `remaining` on all ranks and writes every record's rows
// into `partial` with parallel HDF5; on return the file is closed. Rank 0's
// sink has every record.
RunSummary run(const run::Simulation& sim, const RunOptions& options);

// The pieces of rank `rank` of `ranks` when `remaining` replications of
// `units` units each are divided among them: the work items (replication x
// unit, in order) cut into `ranks` contiguous shares of equal size.
std::vector<run::Piece> share(const std::vector<std::uint64_t>& remaining, std::size_t units, int rank, int ranks);
// Where share k of `items` begins (floor(items * k / ranks)).
std::uint64_t share_bound(std::uint64_t items, int k, int ranks);

}  // namespace artel::dist
