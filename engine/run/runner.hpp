// The parallel runner: OpenMP over work units (replication × unit) in batches
// of replications. Units of a batch run in any order on any thread and merge
// exactly into their replication's accumulator; finished replications go to
// the sink in replication order. A process may run any contiguous range of
// replications (the later MPI split), and the output does not depend on the
// thread count, the batch size or the schedule.
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>

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
    virtual void consume(const ReplicationRecord& record) = 0;
    // Called after the records of each batch: make them durable.
    virtual void batch_done() {}
};

struct RunOptions {
    int threads = 0;                    // 0: OpenMP's default (OMP_NUM_THREADS or all cores)
    std::uint64_t first_replication = 0;
    std::uint64_t replications = 0;     // how many, from first_replication
    std::size_t batch_replications = 0; // 0: chosen from units per replication and threads
    Progress* progress = nullptr;
    // When set, no new work starts: the batch in flight is abandoned (its
    // replications are not given to the sink) and the run returns stopped.
    const std::atomic<bool>* stop = nullptr;
};

struct RunSummary {
    std::uint64_t replications_done = 0;
    double seconds = 0;
    double work = 0;  // household-years
    bool stopped = false;
};

RunSummary run_replications(const Simulation& sim, const RunOptions& options, RecordSink& sink);

// The batch size the runner would choose.
std::size_t auto_batch(const Simulation& sim, int threads, std::uint64_t replications);

}  // namespace artel::run
