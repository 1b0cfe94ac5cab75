// The runner's guarantees, with a model whose units take uneven random time:
// the sink sees every replication once, in order, complete, one call at a
// time, whatever the threads and batch size; checkpoints keep their cadence;
// a stop, a failing unit and a failing sink end the run as documented.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "engine/run/runner.hpp"
#include "test_inputs.hpp"

using namespace artel;

namespace {

// What unit `unit` of replication `rep` contributes: unique to the pair.
std::uint64_t contribution(std::uint64_t rep, std::size_t unit) { return rep * 1000 + unit + 1; }

// Per unit, the sum of what merged and how many times: a unit lost, run
// twice, or merged into the wrong replication shows in the record.
struct FakeAccumulator final : run::Accumulator {
    explicit FakeAccumulator(std::size_t units) : sum(units), merges(units) {}
    std::vector<std::atomic<std::uint64_t>> sum;
    std::vector<std::atomic<int>> merges;
    void reset() override {
        for (auto& s : sum) s = 0;
        for (auto& m : merges) m = 0;
    }
};

struct FakeSimulation;

class FakeWorker final : public run::Worker {
public:
    explicit FakeWorker(const FakeSimulation& sim) : sim_(sim) {}
    void run(std::uint64_t replication, std::size_t unit) override;
    void merge(run::Accumulator& acc) override;

private:
    const FakeSimulation& sim_;
    std::vector<std::pair<std::uint64_t, std::size_t>> held_;  // (replication, unit) run, not merged
};

struct FakeSimulation final : run::Simulation {
    explicit FakeSimulation(std::size_t units_per_rep) : units(units_per_rep) {}
    std::size_t units;
    run::ResultSchema empty;
    const std::atomic<bool>* stop = nullptr;
    std::uint64_t fail_replication = ~0ull;  // this replication's unit fail_unit throws
    std::size_t fail_unit = 0;
    mutable std::atomic<int> accumulators{0};
    mutable std::atomic<int> units_run{0};
    mutable std::atomic<int> units_after_stop{0};
    mutable std::atomic<int> merge_calls{0};
    mutable std::atomic<int> mixed_merges{0};  // merges of units of more than one replication

    const run::ResultSchema& schema() const override { return empty; }
    std::size_t units_per_replication() const override { return units; }
    double work_per_unit(std::size_t) const override { return 1.0; }
    std::unique_ptr<run::Worker> make_worker() const override { return std::make_unique<FakeWorker>(*this); }
    std::unique_ptr<run::Accumulator> make_accumulator() const override {
        ++accumulators;
        return std::make_unique<FakeAccumulator>(units);
    }
    void finish_replication(std::uint64_t rep, const run::Accumulator& acc_base,
                            run::ReplicationRecord& out) const override {
        const auto& acc = static_cast<const FakeAccumulator&>(acc_base);
        out.replication = rep;
        out.series.assign(units, 0.0);
        out.events.assign(units, 0.0);
        for (std::size_t u = 0; u < units; ++u) {
            out.series[u] = static_cast<double>(acc.sum[u].load());
            out.events[u] = acc.merges[u].load();
        }
    }
    std::size_t accumulator_bytes() const override { return 16 * units; }
    std::size_t worker_bytes() const override { return 0; }
    std::unique_ptr<run::Simulation> first_arms(std::size_t) const override {
        return std::make_unique<FakeSimulation>(units);
    }
};

void FakeWorker::run(std::uint64_t replication, std::size_t unit) {
    if (sim_.stop && sim_.stop->load()) ++sim_.units_after_stop;
    ++sim_.units_run;
    // Uneven: mostly up to 0.2 ms, one unit in eight 2 ms.
    std::uint64_t seed = replication * 7919 + unit;
    const auto h = test::splitmix64(seed);
    std::this_thread::sleep_for(std::chrono::microseconds(h % 8 == 0 ? 2000 : (h >> 8) % 200));
    if (replication == sim_.fail_replication && unit == sim_.fail_unit) throw std::runtime_error("negative harvest");
    held_.emplace_back(replication, unit);
}

void FakeWorker::merge(run::Accumulator& acc_base) {
    ++sim_.merge_calls;
    auto& acc = static_cast<FakeAccumulator&>(acc_base);
    for (const auto& [replication, unit] : held_) {
        if (replication != held_.front().first) ++sim_.mixed_merges;
        acc.sum[unit] += contribution(replication, unit);
        ++acc.merges[unit];
    }
    held_.clear();
}

// Records what it is given (checked on the test's thread afterwards: Catch2
// assertions are not thread-safe) and whether two calls ever overlapped.
struct RecordingSink : run::RecordSink {
    std::vector<run::ReplicationRecord> records;
    std::vector<std::size_t> durable;  // records.size() at each batch_done
    std::function<void(std::size_t)> on_consume;  // called with the records given so far
    std::atomic<bool> busy{false};
    bool overlapped = false;

    void consume(const run::ReplicationRecord& r) override {
        if (busy.exchange(true)) overlapped = true;
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        records.push_back(r);
        if (on_consume) on_consume(records.size());
        busy = false;
    }
    void batch_done() override {
        if (busy.exchange(true)) overlapped = true;
        durable.push_back(records.size());
        busy = false;
    }
};

// The records are replications first, first + 1, ... in order, each with
// every unit merged exactly once.
void require_in_order_and_whole(const RecordingSink& sink, const FakeSimulation& sim, std::uint64_t first) {
    REQUIRE_FALSE(sink.overlapped);
    for (std::size_t k = 0; k < sink.records.size(); ++k) {
        const auto& r = sink.records[k];
        INFO("record " << k);
        REQUIRE(r.replication == first + k);
        for (std::size_t u = 0; u < sim.units; ++u) {
            REQUIRE(r.events[u] == 1.0);
            REQUIRE(r.series[u] == static_cast<double>(contribution(r.replication, u)));
        }
    }
}

}  // namespace

TEST_CASE("the sink sees every replication once, in order, whatever the threads and batch size", "[runner]") {
    constexpr std::uint64_t first = 100, n = 23;
    for (int threads = 1; threads <= 4; ++threads) {
        for (const std::size_t batch : {0u, 1u, 2u, 3u, 7u, 30u}) {
            INFO(threads << " threads, batch " << batch);
            FakeSimulation sim(5);
            RecordingSink sink;
            run::Progress progress(double(n * sim.units), "units", run::ProgressMode::Quiet);
            run::RunOptions opt;
            opt.threads = threads;
            opt.first_replication = first;
            opt.replications = n;
            opt.batch_replications = batch;
            opt.progress = &progress;
            const auto summary = run::run_replications(sim, opt, sink);

            REQUIRE(sink.records.size() == n);
            require_in_order_and_whole(sink, sim, first);
            REQUIRE(sim.units_run == int(n * sim.units));
            // A worker merges the units of one replication at a time, and
            // once per replication it took part in: one thread merges each
            // replication once, not once per unit.
            REQUIRE(sim.mixed_merges == 0);
            if (threads == 1) REQUIRE(sim.merge_calls == int(n));
            REQUIRE(sim.merge_calls <= int(n) * threads);
            REQUIRE(progress.done() == double(n * sim.units));
            REQUIRE(summary.replications_done == n);
            REQUIRE_FALSE(summary.stopped);
            REQUIRE(summary.work == double(n * sim.units));
            // Memory: at most a batch of replications in flight.
            const std::size_t b = batch ? batch : run::auto_batch(sim, threads, n);
            REQUIRE(sim.accumulators <= int(std::min<std::size_t>(b, n)));
            // Checkpoints: after every batch and after the last replication.
            std::vector<std::size_t> expected;
            for (std::size_t k = b; k < n; k += b) expected.push_back(k);
            expected.push_back(n);
            REQUIRE(sink.durable == expected);
        }
    }
}

TEST_CASE("an empty range runs nothing", "[runner]") {
    FakeSimulation sim(3);
    RecordingSink sink;
    run::RunOptions opt;
    opt.threads = 2;
    const auto summary = run::run_replications(sim, opt, sink);
    REQUIRE(sink.records.empty());
    REQUIRE(sink.durable.empty());
    REQUIRE(summary.replications_done == 0);
    REQUIRE_FALSE(summary.stopped);
}

TEST_CASE("a stop keeps the complete replications in order and starts no new work", "[runner]") {
    constexpr std::uint64_t n = 40, stop_after = 6;
    for (int threads = 1; threads <= 4; ++threads) {
        for (const std::size_t batch : {1u, 3u, 8u}) {
            INFO(threads << " threads, batch " << batch);
            std::atomic<bool> stop{false};
            FakeSimulation sim(4);
            sim.stop = &stop;
            RecordingSink sink;
            sink.on_consume = [&](std::size_t given) {
                if (given == stop_after) stop = true;
            };
            run::RunOptions opt;
            opt.threads = threads;
            opt.replications = n;
            opt.batch_replications = batch;
            opt.stop = &stop;
            const auto summary = run::run_replications(sim, opt, sink);

            REQUIRE(summary.stopped);
            REQUIRE(summary.replications_done == sink.records.size());
            require_in_order_and_whole(sink, sim, 0);
            // Replications after the window of the one being given to the
            // sink when the stop came never started.
            REQUIRE(sink.records.size() >= stop_after);
            REQUIRE(sink.records.size() < stop_after + batch);
            // Each thread may have been about to start one unit.
            REQUIRE(sim.units_after_stop <= threads);
            // What was given to the sink is made durable.
            REQUIRE(sink.durable.back() == sink.records.size());
        }
    }
}

TEST_CASE("a stop before the run starts nothing", "[runner]") {
    std::atomic<bool> stop{true};
    FakeSimulation sim(4);
    RecordingSink sink;
    run::RunOptions opt;
    opt.threads = 2;
    opt.replications = 10;
    opt.stop = &stop;
    const auto summary = run::run_replications(sim, opt, sink);
    REQUIRE(summary.stopped);
    REQUIRE(summary.replications_done == 0);
    REQUIRE(sim.units_run == 0);
    REQUIRE(sink.records.empty());
    REQUIRE(sink.durable.empty());
}

TEST_CASE("a unit that throws ends the run with a message naming it", "[runner]") {
    for (int threads = 1; threads <= 4; ++threads) {
        INFO(threads << " threads");
        FakeSimulation sim(5);
        sim.fail_replication = 107;
        sim.fail_unit = 2;
        RecordingSink sink;
        run::RunOptions opt;
        opt.threads = threads;
        opt.first_replication = 100;
        opt.replications = 30;
        opt.batch_replications = 3;
        REQUIRE_THROWS_WITH(run::run_replications(sim, opt, sink),
                            Catch::Matchers::Contains("replication 107, work unit 2: negative harvest") &&
                                Catch::Matchers::Contains("--first-replication 107 --replications 1"));
        // The replications before it that were complete are kept, in order,
        // and made durable; work stopped soon after.
        REQUIRE(sink.records.size() <= 7);
        require_in_order_and_whole(sink, sim, 100);
        if (!sink.records.empty()) REQUIRE(sink.durable.back() == sink.records.size());
        REQUIRE(sim.units_run <= int((7 + 3) * sim.units));
    }
}

TEST_CASE("an exception from the sink ends the run, and the sink is not called again", "[runner]") {
    constexpr std::size_t batch = 3;
    for (int threads = 1; threads <= 4; ++threads) {
        for (const bool in_batch_done : {false, true}) {
            INFO(threads << " threads, " << (in_batch_done ? "batch_done" : "consume") << " throws");
            struct FailingSink final : RecordingSink {
                bool in_batch_done = false;
                int calls_after_failure = 0;
                bool failed = false;
                void consume(const run::ReplicationRecord& r) override {
                    if (failed) ++calls_after_failure;
                    RecordingSink::consume(r);
                    if (!in_batch_done && records.size() == 5) fail();
                }
                void batch_done() override {
                    if (failed) ++calls_after_failure;
                    RecordingSink::batch_done();
                    if (in_batch_done && durable.size() == 2) fail();
                }
                void fail() {
                    failed = true;
                    throw std::runtime_error("disk full");
                }
            } sink;
            sink.in_batch_done = in_batch_done;
            FakeSimulation sim(4);
            run::RunOptions opt;
            opt.threads = threads;
            opt.replications = 200;
            opt.batch_replications = batch;
            REQUIRE_THROWS_WITH(run::run_replications(sim, opt, sink), "disk full");
            REQUIRE(sink.calls_after_failure == 0);
            require_in_order_and_whole(sink, sim, 0);
            // The other threads stopped promptly: nothing beyond the window
            // of the replication being given to the sink started.
            REQUIRE(sim.units_run <= int((sink.records.size() + batch) * sim.units));
        }
    }
}
