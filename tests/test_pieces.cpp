// Pieces of replications (what one MPI rank runs, engine/mpi/): a replication
// whose units ran in several processes, their accumulators saved and merged,
// gives the record of the replication run whole, bit for bit.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>

#include "engine/run/distributed.hpp"
#include "support.hpp"

using namespace artel;

namespace {

std::vector<model::Arm> arms(std::int64_t replications) {
    model::Params p;
    p.villages = 20;
    p.households = 40;
    p.years = 8;
    p.replications = replications;
    p.seed = 20261203;
    model::Params b = p;
    b.bonus = 5.0;
    b.audit_prob = 0.5;
    return {{"base", p}, {"bonus", b}};
}

model::SimulationOptions options() {
    model::SimulationOptions o;
    o.histogram_years = {1923, 1927};
    o.trajectory_households = 9;  // spread over several units
    o.trajectory_replications = 2;
    o.villages_per_block = 3;     // 7 units per replication
    return o;
}

// Records of whole pieces, and the saved accumulators of partial ones.
struct PieceSink final : run::RecordSink {
    std::vector<run::ReplicationRecord> records;
    std::vector<std::pair<std::uint64_t, std::vector<std::byte>>> partials;
    void consume(const run::ReplicationRecord& r) override { records.push_back(r); }
    void consume_partial(std::uint64_t rep, const run::Accumulator& acc) override {
        partials.emplace_back(rep, std::vector<std::byte>{});
        acc.save(partials.back().second);
    }
};

bool same(const run::ReplicationRecord& a, const run::ReplicationRecord& b) {
    auto bits = [](const std::vector<double>& x, const std::vector<double>& y) {
        return x.size() == y.size() && (x.empty() || std::memcmp(x.data(), y.data(), x.size() * 8) == 0);
    };
    return a.replication == b.replication && bits(a.series, b.series) && bits(a.start, b.start) &&
           bits(a.events, b.events) && a.histograms == b.histograms && bits(a.trajectories, b.trajectories) &&
           bits(a.parameters, b.parameters) && bits(a.regions, b.regions);
}

}  // namespace

TEST_CASE("a replication split into pieces run apart and merged gives the whole replication's record", "[pieces]") {
    const auto a = arms(3);
    model::HouseholdSimulation sim(a, options());
    const auto U = sim.units_per_replication();
    REQUIRE(U == 7);
    const auto whole = test::run_memory(a, options(), 2);

    // Three "processes": replication 0 in pieces [0,2) [2,5) [5,7), replication
    // 1 whole in the second, replication 2 split between the second and third.
    std::vector<std::vector<run::Piece>> share = {
        {{0, 0, 2}},
        {{0, 2, 3}, {1, 0, U}, {2, 0, 4}},
        {{0, 5, 2}, {2, 4, 3}},
    };
    std::map<std::uint64_t, std::unique_ptr<run::Accumulator>> merged;
    std::vector<run::ReplicationRecord> records;
    for (std::size_t k = 0; k < share.size(); ++k) {
        PieceSink sink;
        run::RunOptions opt;
        opt.threads = k == 1 ? 1 : 2;
        opt.pieces = share[k];
        const auto summary = run::run_replications(sim, opt, sink);
        REQUIRE(summary.replications_done == share[k].size());
        REQUIRE_FALSE(summary.stopped);
        for (auto& r : sink.records) records.push_back(r);
        for (auto& [rep, bytes] : sink.partials) {
            auto& acc = merged[rep];
            if (!acc) acc = sim.make_accumulator();
            acc->merge_saved(bytes);
        }
    }
    REQUIRE(merged.size() == 2);
    for (auto& [rep, acc] : merged) {
        // saved again and merged into a fresh one: the same
        std::vector<std::byte> bytes;
        acc->save(bytes);
        auto again = sim.make_accumulator();
        again->merge_saved(bytes);
        run::ReplicationRecord r;
        sim.finish_replication(rep, *again, r);
        records.push_back(r);
    }
    REQUIRE(records.size() == 3);
    std::sort(records.begin(), records.end(), [](auto& x, auto& y) { return x.replication < y.replication; });
    for (std::size_t i = 0; i < 3; ++i) {
        INFO("replication " << i);
        const auto &x = records[i], &y = whole.records[i];
        auto bits = [](const std::vector<double>& u, const std::vector<double>& v) {
            return u.size() == v.size() && (u.empty() || std::memcmp(u.data(), v.data(), u.size() * 8) == 0);
        };
        CHECK(bits(x.series, y.series));
        CHECK(bits(x.start, y.start));
        CHECK(bits(x.events, y.events));
        CHECK(x.histograms == y.histograms);
        CHECK(bits(x.trajectories, y.trajectories));
        CHECK(bits(x.regions, y.regions));
        REQUIRE(same(x, y));
    }
    REQUIRE_FALSE(records[0].trajectories.empty());
    REQUIRE_FALSE(records[0].regions.empty());
}

TEST_CASE("a saved accumulator of another shape is refused", "[pieces]") {
    model::HouseholdSimulation sim(arms(1), options());
    auto acc = sim.make_accumulator();
    std::vector<std::byte> bytes;
    acc->save(bytes);
    bytes.pop_back();
    auto other = sim.make_accumulator();
    REQUIRE_THROWS_WITH(other->merge_saved(bytes), Catch::Contains("shorter"));
    bytes.resize(bytes.size() + 9);
    REQUIRE_THROWS_WITH(other->merge_saved(bytes), Catch::Contains("longer"));
}

TEST_CASE("pieces outside the replication's units are refused", "[pieces]") {
    model::HouseholdSimulation sim(arms(1), options());
    PieceSink sink;
    run::RunOptions opt;
    opt.pieces = {{0, 5, 3}};
    REQUIRE_THROWS_WITH(run::run_replications(sim, opt, sink), Catch::Contains("outside"));
}

TEST_CASE("the ranks' shares cover every unit once, in equal contiguous parts", "[pieces]") {
    const std::vector<std::uint64_t> remaining = {0, 2, 3, 7, 8};
    for (const std::size_t units : {1u, 3u, 7u}) {
        for (const int ranks : {1, 2, 3, 5, 16, 40}) {
            INFO(units << " units, " << ranks << " ranks");
            std::map<std::uint64_t, std::vector<int>> seen;  // replication -> units seen
            std::size_t least = SIZE_MAX, most = 0;
            for (int k = 0; k < ranks; ++k) {
                const auto pieces = dist::share(remaining, units, k, ranks);
                std::size_t items = 0;
                for (const auto& p : pieces) {
                    REQUIRE(p.units > 0);
                    auto& v = seen[p.replication];
                    v.resize(units);
                    for (std::size_t u = p.first_unit; u < p.first_unit + p.units; ++u) ++v[u];
                    items += p.units;
                }
                least = std::min(least, items), most = std::max(most, items);
            }
            REQUIRE(most - least <= 1);
            REQUIRE(seen.size() == remaining.size());
            for (const auto& [rep, v] : seen)
                for (const int c : v) REQUIRE(c == 1);
        }
    }
    // one replication of 12 units on 3 ranks: 4 each
    const auto p = dist::share({5}, 12, 1, 3);
    REQUIRE(p.size() == 1);
    REQUIRE((p[0].replication == 5 && p[0].first_unit == 4 && p[0].units == 4));
}
