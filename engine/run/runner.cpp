#include "engine/run/runner.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace artel::run {

std::size_t auto_batch(const Simulation& sim, int threads, std::uint64_t replications) {
    // Enough replications in flight that a thread seldom waits for the oldest
    // one to reach the sink (≥ 32 units per thread), but at most ~64 MiB of
    // accumulators,
    const std::size_t units = std::max<std::size_t>(1, sim.units_per_replication());
    const std::size_t want = (32 * static_cast<std::size_t>(std::max(1, threads)) + units - 1) / units;
    const std::size_t cap = std::max<std::size_t>(1, (64u << 20) / std::max<std::size_t>(1, sim.accumulator_bytes()));
    // and at least ~16 batches per run, so that a checkpoint after each batch
    // keeps most of the work of an interrupted run.
    const std::size_t granular = static_cast<std::size_t>((replications + 15) / 16);
    return static_cast<std::size_t>(std::clamp<std::uint64_t>(std::min({want, cap, granular}), 1,
                                                              std::max<std::uint64_t>(1, replications)));
}

void RecordSink::consume_partial(std::uint64_t replication, const Accumulator&) {
    throw std::logic_error("this sink takes whole replications only (replication " + std::to_string(replication) +
                           " came in pieces)");
}

namespace {

// The work of a run: its pieces in order, and the work items (units) they
// hold, numbered from 0 across pieces. A range of whole replications is kept
// as a range, so that it costs no memory however many replications it has.
class WorkList {
public:
    WorkList(const RunOptions& opt, std::size_t units) : units_(std::max<std::size_t>(1, units)), opt_(opt) {
        if (opt.pieces.empty()) return;
        first_item_.reserve(opt.pieces.size() + 1);
        std::uint64_t items = 0;
        for (const auto& p : opt.pieces) {
            if (p.units == 0 || p.first_unit + p.units > units_)
                throw std::invalid_argument("run: a piece of replication " + std::to_string(p.replication) +
                                            " holds units outside [0, " + std::to_string(units_) + ")");
            first_item_.push_back(items);
            items += p.units;
        }
        first_item_.push_back(items);
    }
    std::uint64_t size() const { return opt_.pieces.empty() ? opt_.replications : opt_.pieces.size(); }
    std::uint64_t items() const { return opt_.pieces.empty() ? opt_.replications * units_ : first_item_.back(); }
    Piece piece(std::uint64_t i) const {
        if (opt_.pieces.empty()) return {opt_.first_replication + i, 0, units_};
        return opt_.pieces[static_cast<std::size_t>(i)];
    }
    bool whole(std::uint64_t i) const { return opt_.pieces.empty() || piece(i).units == units_; }
    // The piece that holds work item k, and the item's unit.
    std::pair<std::uint64_t, std::size_t> locate(std::uint64_t k) const {
        if (opt_.pieces.empty()) return {k / units_, static_cast<std::size_t>(k % units_)};
        const auto it = std::upper_bound(first_item_.begin(), first_item_.end(), k) - 1;
        const auto i = static_cast<std::uint64_t>(it - first_item_.begin());
        return {i, opt_.pieces[static_cast<std::size_t>(i)].first_unit + static_cast<std::size_t>(k - *it)};
    }

private:
    std::size_t units_;
    const RunOptions& opt_;
    std::vector<std::uint64_t> first_item_;  // per piece, and the total at the end
};

// A replication in flight: its accumulator and how many of its units have
// yet to merge. On its own cache line, so that threads finishing units of
// different replications do not contend.
struct alignas(64) Slot {
    std::unique_ptr<Accumulator> acc;
    std::atomic<std::size_t> remaining{0};
};

// What the threads of one run share. Work item k is a unit of piece p
// (WorkList::locate; for a range of replications, unit k % units of
// replication k / units); piece p merges into slot p % window, which it may
// take only once piece p - window has gone to the sink. Items are handed out
// in increasing order, so the items of the piece a thread waits for went to
// threads that wait for still older ones or for none, and a thread merges the
// units it holds before it waits or takes a unit of a later piece: the oldest
// piece in flight always completes, and no thread waits for ever.
class InOrderRun {
public:
    InOrderRun(const Simulation& sim, const RunOptions& opt, RecordSink& sink, std::size_t batch)
        : sim_(sim), opt_(opt), sink_(sink), work_(opt, sim.units_per_replication()), batch_(batch),
          window_(static_cast<std::size_t>(std::max<std::uint64_t>(1, std::min<std::uint64_t>(batch, work_.size())))),
          items_(work_.items()), slots_(window_) {
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            slots_[i].acc = sim.make_accumulator();
            if (i < work_.size()) slots_[i].remaining.store(work_.piece(i).units, std::memory_order_relaxed);
        }
    }

    // The body of every thread of the parallel region; throws nothing.
    void work() {
        std::unique_ptr<Worker> worker;
        try {
            worker = sim_.make_worker();  // first touch on its own thread
        } catch (...) {
            fail(std::current_exception());
            return;
        }
        // Progress prints from one thread only: the calling one.
        const bool reporter = omp_get_thread_num() == 0;
        // The units of replication `held` that this worker has run but not
        // merged. A worker merges once per replication it took part in, not
        // once per unit: merging a unit of the household model (its tallies
        // and 100 Gini histograms) took 1.5% of a default run (perf).
        std::uint64_t held = 0;
        std::size_t held_units = 0;
        auto merge_held = [&]() -> bool {
            if (held_units == 0) return true;
            Slot& slot = slots_[static_cast<std::size_t>(held % window_)];
            try {
                worker->merge(*slot.acc);
            } catch (...) {
                fail(std::current_exception());
                return false;
            }
            const std::size_t n = std::exchange(held_units, 0);
            if (slot.remaining.fetch_sub(n, std::memory_order_acq_rel) == n) drain();
            return true;
        };
        while (!stopping()) {
            const std::uint64_t k = next_.fetch_add(1);
            if (k >= items_) break;
            const auto [rep, unit] = work_.locate(k);  // rep: the piece
            // Before waiting for a slot: the replication held may be the one
            // whose completion frees it.
            if (rep != held && !merge_held()) return;
            wait_for_slot(rep);
            if (stopping()) break;
            try {
                if (work_.piece(rep).replication == fail_replication_)
                    throw std::runtime_error("a failure injected by ARTEL_FAIL_REPLICATION (a test of how runs fail)");
                worker->run(work_.piece(rep).replication, unit);
            } catch (const std::exception& e) {
                // Name the unit of work so that it can be replayed alone.
                const auto r = std::to_string(work_.piece(rep).replication);
                fail(std::make_exception_ptr(UnitFailure("replication " + r + ", work unit " + std::to_string(unit) +
                                                         ": " + e.what() + " (replay it alone with --first-replication " +
                                                         r + " --replications 1)")));
                return;
            } catch (...) {
                fail(std::current_exception());
                return;
            }
            held = rep;
            ++held_units;
            if (opt_.progress) {
                opt_.progress->advance(sim_.work_per_unit(unit));
                if (reporter) opt_.progress->report();
            }
        }
        // Also on a stop: the units run are kept, and a replication they
        // complete goes to the sink.
        merge_held();
    }

    // On the calling thread after the parallel region: gives the sink the
    // complete replications that a stop or a failed unit left behind, makes
    // what it has durable and rethrows the failure. A sink that has thrown is
    // not called again.
    RunSummary finish() {
        if (!sink_failed_) {
            while (sink_next()) {}
            if (durable_ < consumed_) sink_.batch_done();
        }
        if (failure_) std::rethrow_exception(failure_);
        RunSummary summary;
        summary.replications_done = consumed_;
        summary.stopped = consumed_ < work_.size();
        for (std::uint64_t i = 0; i < consumed_ && !opt_.pieces.empty(); ++i) {
            const auto p = work_.piece(i);
            for (std::size_t u = 0; u < p.units; ++u) summary.work += sim_.work_per_unit(p.first_unit + u);
        }
        return summary;
    }

private:
    // Whether to start no more work; a stop request halts every thread.
    bool stopping() {
        if (opt_.stop && opt_.stop->load(std::memory_order_relaxed)) halt();
        return halted_.load();
    }

    void halt() {
        {
            std::lock_guard lock(mutex_);
            halted_ = true;
        }
        slot_free_.notify_all();
    }

    void fail(std::exception_ptr e) {
        {
            std::lock_guard lock(mutex_);
            if (!failure_) failure_ = std::move(e);
        }
        halt();
    }

    void wait_for_slot(std::uint64_t rep) {
        if (rep < released_.load(std::memory_order_acquire) + window_) return;
        std::unique_lock lock(mutex_);
        slot_free_.wait(lock, [&] { return halted_.load() || rep < released_.load() + window_; });
    }

    // Gives the sink the complete replications that come next in order. The
    // thread that raises `requests_` from zero does it, alone, and looks again
    // for as long as other threads complete replications meanwhile; they do
    // not wait for it. A sink that has thrown leaves `requests_` raised, so
    // that it is not called again.
    void drain() {
        if (requests_.fetch_add(1, std::memory_order_acq_rel) != 0) return;
        std::uint64_t seen = 1;
        do {
            try {
                while (!halted_.load() && sink_next()) {}
            } catch (...) {
                sink_failed_ = true;
                fail(std::current_exception());
                return;
            }
        } while ((seen = requests_.fetch_sub(seen, std::memory_order_acq_rel) - seen) != 0);
    }

    // Finishes the next replication and gives it to the sink if it is
    // complete. One thread at a time: the draining one, or the calling one
    // after the parallel region.
    bool sink_next() {
        if (consumed_ == work_.size()) return false;
        const std::uint64_t i = consumed_;
        Slot& slot = slots_[static_cast<std::size_t>(i % window_)];
        if (slot.remaining.load(std::memory_order_acquire) != 0) return false;
        const Piece piece = work_.piece(i);
        if (work_.whole(i)) {
            sim_.finish_replication(piece.replication, *slot.acc, record_);
            sink_.consume(record_);
        } else {
            sink_.consume_partial(piece.replication, *slot.acc);
        }
        ++consumed_;
        slot.acc->reset();
        if (i + window_ < work_.size())
            slot.remaining.store(work_.piece(i + window_).units, std::memory_order_relaxed);
        {
            std::lock_guard lock(mutex_);
            released_.store(consumed_, std::memory_order_release);
        }
        slot_free_.notify_all();
        // After the slot is free, so that the fsync of a checkpoint does not
        // hold up a thread waiting for it.
        if (consumed_ % batch_ == 0) {
            sink_.batch_done();
            durable_ = consumed_;
        }
        return true;
    }

    const Simulation& sim_;
    const RunOptions& opt_;
    RecordSink& sink_;
    const WorkList work_;
    const std::size_t batch_, window_;
    // For the tests of failing runs (tests/mpi/): the units of this
    // replication throw. Not a setting: nothing else reads it.
    const std::uint64_t fail_replication_ = [] {
        const char* v = std::getenv("ARTEL_FAIL_REPLICATION");
        return v && *v ? std::strtoull(v, nullptr, 10) : ~std::uint64_t{0};
    }();
    const std::uint64_t items_;
    std::vector<Slot> slots_;
    std::atomic<std::uint64_t> next_{0};  // the next work item to hand out

    // Guards failure_ and the waits for a slot.
    std::mutex mutex_;
    std::condition_variable slot_free_;
    std::atomic<std::uint64_t> released_{0};  // replications whose slot is free again
    std::atomic<bool> halted_{false};         // start no more work: stop requested or failure
    std::exception_ptr failure_;

    // The sink side: the draining thread owns the members below requests_.
    std::atomic<std::uint64_t> requests_{0};  // completions not yet looked at by the draining thread
    ReplicationRecord record_;
    std::uint64_t consumed_ = 0;  // replications given to the sink
    std::uint64_t durable_ = 0;   // of them, made durable by batch_done
    bool sink_failed_ = false;
};

}  // namespace

RunSummary run_replications(const Simulation& sim, const RunOptions& opt, RecordSink& sink) {
    const auto t0 = std::chrono::steady_clock::now();
    const int threads = opt.threads > 0 ? opt.threads : omp_get_max_threads();
    const std::uint64_t pieces = opt.pieces.empty() ? opt.replications : opt.pieces.size();
    const std::size_t batch = opt.batch_replications ? opt.batch_replications : auto_batch(sim, threads, pieces);
    InOrderRun run(sim, opt, sink, batch);
#pragma omp parallel num_threads(threads)
    run.work();
    RunSummary summary = run.finish();
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (opt.pieces.empty()) {
        for (std::size_t u = 0; u < sim.units_per_replication(); ++u) summary.work += sim.work_per_unit(u);
        summary.work *= static_cast<double>(summary.replications_done);
    }
    return summary;
}

}  // namespace artel::run
