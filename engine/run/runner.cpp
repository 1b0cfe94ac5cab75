#include "engine/run/runner.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace artel::run {

std::size_t auto_batch(const Simulation& sim, int threads, std::uint64_t replications) {
    // Enough units per batch that the tail of a batch idles threads little
    // (≥ 32 units per thread), but at most ~64 MiB of accumulators,
    const std::size_t units = std::max<std::size_t>(1, sim.units_per_replication());
    const std::size_t want = (32 * static_cast<std::size_t>(std::max(1, threads)) + units - 1) / units;
    const std::size_t cap = std::max<std::size_t>(1, (64u << 20) / std::max<std::size_t>(1, sim.accumulator_bytes()));
    // and at least ~16 batches per run, so that a checkpoint after each batch
    // keeps most of the work of an interrupted run.
    const std::size_t granular = static_cast<std::size_t>((replications + 15) / 16);
    return static_cast<std::size_t>(std::clamp<std::uint64_t>(std::min({want, cap, granular}), 1,
                                                              std::max<std::uint64_t>(1, replications)));
}

RunSummary run_replications(const Simulation& sim, const RunOptions& opt, RecordSink& sink) {
    const auto t0 = std::chrono::steady_clock::now();
    const int threads = opt.threads > 0 ? opt.threads : omp_get_max_threads();
    const std::size_t units = sim.units_per_replication();
    const std::size_t batch = opt.batch_replications ? opt.batch_replications
                                                     : auto_batch(sim, threads, opt.replications);

    std::vector<std::unique_ptr<Worker>> workers(static_cast<std::size_t>(threads));
    std::vector<std::unique_ptr<Accumulator>> accs;
    for (std::size_t b = 0; b < std::min<std::uint64_t>(batch, opt.replications); ++b)
        accs.push_back(sim.make_accumulator());
    ReplicationRecord record;
    RunSummary summary;

    for (std::uint64_t r0 = 0; r0 < opt.replications; r0 += batch) {
        if (opt.stop && opt.stop->load()) {
            summary.stopped = true;
            break;
        }
        const std::size_t nrep = static_cast<std::size_t>(std::min<std::uint64_t>(batch, opt.replications - r0));
        for (std::size_t b = 0; b < nrep; ++b) accs[b]->reset();
        const auto work_items = static_cast<std::int64_t>(nrep * units);
        std::exception_ptr failure;
        std::atomic<bool> failed{false};

#pragma omp parallel num_threads(threads)
        {
            const auto tid = static_cast<std::size_t>(omp_get_thread_num());
            try {
                if (!workers[tid]) workers[tid] = sim.make_worker();  // first touch on its own thread
            } catch (...) {
#pragma omp critical(artel_failure)
                if (!failure) failure = std::current_exception();
                failed = true;
            }
#pragma omp for schedule(dynamic, 1)
            for (std::int64_t k = 0; k < work_items; ++k) {
                if (failed.load(std::memory_order_relaxed)) continue;
                if (opt.stop && opt.stop->load(std::memory_order_relaxed)) continue;
                const auto rep_local = static_cast<std::size_t>(k) / units;
                const auto unit = static_cast<std::size_t>(k) % units;
                try {
                    workers[tid]->run(opt.first_replication + r0 + rep_local, unit, *accs[rep_local]);
                    if (opt.progress) {
                        opt.progress->advance(sim.work_per_unit(unit));
                        if (tid == 0) opt.progress->report();
                    }
                } catch (const std::exception& e) {
                    // Name the unit of work so that it can be replayed alone.
                    const auto rep = opt.first_replication + r0 + rep_local;
                    auto named = std::make_exception_ptr(UnitFailure(
                        "replication " + std::to_string(rep) + ", work unit " + std::to_string(unit) + ": " +
                        e.what() + " (replay it alone with --first-replication " + std::to_string(rep) +
                        " --replications 1)"));
#pragma omp critical(artel_failure)
                    if (!failure) failure = named;
                    failed = true;
                }
            }
        }
        if (failure) std::rethrow_exception(failure);
        if (opt.stop && opt.stop->load()) {  // the batch may be incomplete: drop it
            summary.stopped = true;
            break;
        }

        for (std::size_t b = 0; b < nrep; ++b) {
            sim.finish_replication(opt.first_replication + r0 + b, *accs[b], record);
            sink.consume(record);
            ++summary.replications_done;
        }
        sink.batch_done();
        if (opt.progress) opt.progress->report();
    }
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (std::size_t u = 0; u < units; ++u) summary.work += sim.work_per_unit(u);
    summary.work *= static_cast<double>(summary.replications_done);
    return summary;
}

}  // namespace artel::run
