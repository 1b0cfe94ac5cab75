// The contract between the engine's runner and a model. A replication is cut
// into work units (for the household model: village blocks); a unit's result
// depends only on (replication, unit), never on the thread or order that ran
// it. A worker adds the units it runs of one replication together and merges
// them into the replication's accumulator when it moves on to another
// replication or stops: workers merge in any order and with any share of the
// units, so the merge must be exact (integer or fixed-point sums) and
// thread-safe. That is what makes the output independent of the schedule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/run/results.hpp"

namespace artel::run {

// What the units of one replication add up to, owned by the model.
class Accumulator {
public:
    virtual ~Accumulator() = default;
    virtual void reset() = 0;  // ready for another replication, no reallocation
    // For a replication whose units ran in several processes (engine/mpi/):
    // save() appends what the accumulator holds to `out`, and merge_saved()
    // adds such bytes, saved by an accumulator of the same simulation and
    // replication, to this one. The merge is as exact as a worker's merge,
    // so a replication's record does not depend on how its units were split
    // between processes. Not thread-safe against workers merging into it.
    // The defaults refuse (a model that cannot split its replications).
    virtual void save(std::vector<std::byte>& out) const;
    virtual void merge_saved(std::span<const std::byte> saved);
};

// Per-thread working memory, allocated once and reused for every unit.
class Worker {
public:
    virtual ~Worker() = default;
    // Runs unit `unit` of replication `replication` and adds its result to
    // what the worker holds. The worker holds units of one replication at a
    // time: the runner calls merge() before it hands the worker a unit of
    // another replication. After a throw, what the worker holds is dropped
    // (its replication is not complete), and the worker is not used again.
    virtual void run(std::uint64_t replication, std::size_t unit) = 0;
    // Merges what the worker holds into its replication's accumulator `acc`
    // (which other threads may be merging into at the same time) and holds
    // nothing afterwards.
    virtual void merge(Accumulator& acc) = 0;
};

class Simulation {
public:
    virtual ~Simulation() = default;
    virtual const ResultSchema& schema() const = 0;
    virtual std::size_t units_per_replication() const = 0;
    // Household-years (or the model's unit of work) in one unit, for progress.
    virtual double work_per_unit(std::size_t unit) const = 0;
    virtual std::unique_ptr<Worker> make_worker() const = 0;
    virtual std::unique_ptr<Accumulator> make_accumulator() const = 0;
    // Turns the complete accumulator of replication `rep` into its record.
    virtual void finish_replication(std::uint64_t rep, const Accumulator& acc,
                                    ReplicationRecord& out) const = 0;
    // Bytes of one accumulator and of one worker, for sizing batches and
    // estimating memory before a run.
    virtual std::size_t accumulator_bytes() const = 0;
    virtual std::size_t worker_bytes() const = 0;
    // The same simulation with only its first `arms` arms (1 <= arms <=
    // n_arms()): what a plan times a work unit on, instead of allocating the
    // working memory of every arm (engine/run/plan.hpp).
    virtual std::unique_ptr<Simulation> first_arms(std::size_t arms) const = 0;
    // Seconds that workers have spent in the model's kernels so far, summed
    // over threads (what a run reports as its share of time in the kernels);
    // 0 when the model does not measure it.
    virtual double kernel_seconds() const { return 0.0; }
};

}  // namespace artel::run
