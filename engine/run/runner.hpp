// The parallel runner: OpenMP threads take work units (replication × unit)
// in increasing order from one counter, for the whole run, with no barrier
// between batches. Units run in any order on any thread and merge exactly
// into their replication's accumulator; a window of replications is in
// flight at once, and complete replications go to the sink in replication
// order, one thread at a time, while the other threads go on computing. A
// process may run any contiguous range of replications, or any list of
// pieces (some units of a replication: what one MPI rank runs, engine/mpi/),
// and the output does not depend on the thread count, the batch size or the
// schedule.
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "engine/run/progress.hpp"
#include "engine/run/results.hpp"
#include "engine/run/simulation.hpp"

namespace artel::run {

// A work unit failed; the message names the replication and unit.
class UnitFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class RecordSink {
public:
    virtual ~RecordSink() = default;
    // Called in replication order, by one thread at a time (not always the
    // same one).
    virtual void consume(const ReplicationRecord& record) = 0;
    // Called after every batch of records and after the last: make them
    // durable.
    virtual void batch_done() {}
    // A piece that is not all of its replication (RunOptions::pieces): what
    // its units add up to, for the process that finishes the replication to
    // merge (Accumulator::save). In piece order with consume(), one thread at
    // a time; `acc` is reused after the call.
    virtual void consume_partial(std::uint64_t replication, const Accumulator& acc);
};

// Some units of one replication: [first_unit, first_unit + units).
struct Piece {
    std::uint64_t replication = 0;
    std::size_t first_unit = 0;
    std::size_t units = 0;
};

struct RunOptions {
    int threads = 0;                    // 0: OpenMP's default (OMP_NUM_THREADS or all cores)
    std::uint64_t first_replication = 0;
    std::uint64_t replications = 0;     // how many, from first_replication
    // When not empty: the work is these pieces, in this order (each piece's
    // replication after the one before), instead of the range above. A piece
    // of every unit of its replication goes to the sink as a record; a piece
    // of some units, to consume_partial.
    std::vector<Piece> pieces;
    // Replications per batch (between two batch_done) and at most in flight
    // at once; 0: chosen from units per replication, threads and memory.
    std::size_t batch_replications = 0;
    Progress* progress = nullptr;
    // When set, no new work starts: the units running finish, the complete
    // replications that precede the first incomplete one go to the sink, the
    // others are dropped, and the run returns stopped.
    const std::atomic<bool>* stop = nullptr;
};

struct RunSummary {
    std::uint64_t replications_done = 0;  // pieces given to the sink (records and partial ones)
    double seconds = 0;
    double work = 0;  // household-years
    bool stopped = false;
};

RunSummary run_replications(const Simulation& sim, const RunOptions& options, RecordSink& sink);

// The batch size the runner would choose.
std::size_t auto_batch(const Simulation& sim, int threads, std::uint64_t replications);

}  // namespace artel::run
