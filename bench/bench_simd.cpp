// Benchmarks of the random-number layer and the household-year kernel, scalar
// reference against every vector instruction set this CPU offers, and of the
// statistics/HDF5 stage. items_per_second is:
//   Philox*           32-bit random words per second
//   Uniform*/Normal*  doubles per second
//   Step*/Village*/Scenario*  household-years per second
//   ResultWriter      replications per second
// Run: build/<preset>/bench/artel_bench [--benchmark_filter=Scenario]
#include <Random123/philox.h>
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "bench/bench_inputs.hpp"
#include "engine/output/result_writer.hpp"
#include "engine/random/philox.hpp"
#include "engine/random/samplers.hpp"
#include "engine/random/streams.hpp"
#include "kernels/block.hpp"
#include "kernels/household_model.hpp"
#include "kernels/purposes.hpp"
#include "kernels/simd/step_simd.hpp"
#include "kernels/simulation.hpp"
#include "kernels/weather.hpp"

using namespace artel;
using namespace artel::model;

namespace {

constexpr std::size_t kHouseholds = 4096;  // per Philox/uniform/normal call
const std::uint32_t kSlotPurpose = (rng::year_slot(3) << 8) | static_cast<std::uint32_t>(Purpose::Demography);

// ---- random numbers -----------------------------------------------------------

void BM_PhiloxRandom123(benchmark::State& state) {
    r123::Philox4x32 gen;
    r123::Philox4x32::key_type key = {{0x12345678u, 0x9abcdefu}};
    std::vector<std::uint32_t> out(4 * kHouseholds);
    for (auto _ : state) {
        for (std::uint32_t h = 0; h < kHouseholds; ++h) {
            r123::Philox4x32::ctr_type c = {{7u, h, kSlotPurpose, 0u}};
            const auto r = gen(c, key);
            for (int k = 0; k < 4; ++k) out[4 * h + static_cast<std::uint32_t>(k)] = r.v[k];
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
BENCHMARK(BM_PhiloxRandom123);

void BM_PhiloxArtelScalar(benchmark::State& state) {
    const rng::Key key{0x12345678u, 0x9abcdefu};
    std::vector<std::uint32_t> out(4 * kHouseholds);
    for (auto _ : state) {
        for (std::uint32_t h = 0; h < kHouseholds; ++h) {
            const auto r = rng::philox4x32_10({7u, h, kSlotPurpose, 0u}, key);
            for (int k = 0; k < 4; ++k) out[4 * h + static_cast<std::uint32_t>(k)] = r[static_cast<std::size_t>(k)];
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
BENCHMARK(BM_PhiloxArtelScalar);

void BM_PhiloxSimd(benchmark::State& state, std::string target, std::uint32_t blocks) {
    const rng::Key key{0x12345678u, 0x9abcdefu};
    std::vector<std::uint32_t> out(4 * kHouseholds);
    for (auto _ : state) {
        simd::household_words(target, key, 7, 0, kHouseholds / blocks, kSlotPurpose, blocks, out.data());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}

void BM_UniformScalar(benchmark::State& state) {
    const rng::Key key{0x12345678u, 0x9abcdefu};
    std::vector<double> out(4 * kHouseholds);
    for (auto _ : state) {
        for (std::uint32_t h = 0; h < kHouseholds; ++h) {
            const auto r = rng::philox4x32_10({7u, h, kSlotPurpose, 0u}, key);
            for (int k = 0; k < 4; ++k)
                out[4 * h + static_cast<std::uint32_t>(k)] = rng::uniform01(r[static_cast<std::size_t>(k)]);
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
BENCHMARK(BM_UniformScalar);

void BM_UniformSimd(benchmark::State& state, std::string target) {
    const rng::Key key{0x12345678u, 0x9abcdefu};
    std::vector<double> out(4 * kHouseholds);
    for (auto _ : state) {
        simd::household_uniforms(target, key, 7, 0, kHouseholds, kSlotPurpose, 1, out.data());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}

void BM_NormalScalar(benchmark::State& state) {
    const rng::Key key{0x12345678u, 0x9abcdefu};
    std::vector<double> out(4 * kHouseholds);
    for (auto _ : state) {
        for (std::uint32_t h = 0; h < kHouseholds; ++h) {
            const auto r = rng::philox4x32_10({7u, h, kSlotPurpose, 0u}, key);
            const auto a = rng::normal_pair(r[0], r[1]), b = rng::normal_pair(r[2], r[3]);
            out[4 * h] = a.z0, out[4 * h + 1] = a.z1, out[4 * h + 2] = b.z0, out[4 * h + 3] = b.z1;
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
BENCHMARK(BM_NormalScalar);

void BM_NormalSimd(benchmark::State& state, std::string target) {
    const rng::Key key{0x12345678u, 0x9abcdefu};
    std::vector<double> out(4 * kHouseholds);
    for (auto _ : state) {
        simd::household_normals(target, key, 7, 0, kHouseholds, kSlotPurpose, 1, out.data());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}

// ---- the household model ------------------------------------------------------

using artel::bench::nep_arms;

using StepPtr = void (*)(const Params&, const Weather&, std::int64_t, BlockState&, YearScratch&, Tally&,
                         GiniHistogram&);
void scalar_step(const Params& p, const Weather& w, std::int64_t t, BlockState& s, YearScratch& sc, Tally& ta,
                 GiniHistogram& g) {
    step_year(p, w, t, s, sc, ta, g);
}

void simd_step(const Params& p, const Weather& w, std::int64_t t, BlockState& s, YearScratch& sc, Tally& ta,
               GiniHistogram& g) {
    step_year_simd(p, w, t, s, sc, ta, g);
}

// "" = the scalar reference kernel; else a SIMD target.
StepPtr select(const std::string& target) {
    if (target.empty()) return &scalar_step;
    set_simd_target(target);
    return &simd_step;
}

// One year of a block of `villages` × 100 households, arm `arm` of the
// scenario; the state restarts from the initial block every 20 years.
void BM_Step(benchmark::State& state, std::string target, std::int64_t villages, int arm) {
    const StepPtr step = select(target);
    const Params p = nep_arms()[static_cast<std::size_t>(arm)];
    Weather w;
    draw_weather(p, 0, w);
    BlockState init, s;
    init.shape(0, 0, villages, p.households);
    init_block(p, init);
    s.copy_from(init);
    YearScratch scratch;
    Tally tally;
    GiniHistogram gini;
    std::int64_t t = 0;
    for (auto _ : state) {
        step(p, w, t, s, scratch, tally, gini);
        if (++t == p.years) {
            t = 0;
            s.copy_from(init);
        }
        benchmark::DoNotOptimize(tally);
    }
    state.SetItemsProcessed(state.iterations() * villages * p.households);
}

// The step kernels are fused (one pass over a village's households per year),
// so the cost of each step of MODEL.md §4 is measured as what switching its
// mechanism off saves: BM_StepYear_without/<mechanism> against
// BM_StepYear_2000hh_sufficiency (every mechanism on), per household-year.
void BM_StepWithout(benchmark::State& state, std::string target, bool Mechanisms::*off) {
    const StepPtr step = select(target);
    Params p = nep_arms()[4];
    p.mechanisms.*off = false;
    Weather w;
    draw_weather(p, 0, w);
    BlockState init, s;
    init.shape(0, 0, 20, p.households);
    init_block(p, init);
    s.copy_from(init);
    YearScratch scratch;
    Tally tally;
    GiniHistogram gini;
    std::int64_t t = 0;
    for (auto _ : state) {
        step(p, w, t, s, scratch, tally, gini);
        if (++t == p.years) {
            t = 0;
            s.copy_from(init);
        }
        benchmark::DoNotOptimize(tally);
    }
    state.SetItemsProcessed(state.iterations() * 20 * p.households);
}

// What a worker does with one unit (HouseholdWorker::run without histograms
// and trajectories): init_block, start tallies, then 5 arms × 20 years from
// the same initial block; `villages` × 100 households.
void BM_Scenario(benchmark::State& state, std::string target, std::int64_t villages) {
    const StepPtr step = select(target);
    const auto arms = nep_arms();
    const Params& base = arms[0];
    Weather w;
    draw_weather(base, 0, w);
    BlockState init, s;
    YearScratch scratch;
    std::vector<Tally> tally(arms.size() * static_cast<std::size_t>(base.years));
    std::vector<GiniHistogram> gini(tally.size());
    std::vector<double> price0(static_cast<std::size_t>(base.regions), base.price0);
    std::uint32_t rep = 0;
    const bool vec = !target.empty();
    auto unit = [&](StepPtr run_step) {
        init.shape(rep, 0, villages, base.households);
        if (vec) init_block_simd(base, init); else init_block(base, init);
        for (std::size_t a = 0; a < arms.size(); ++a) {
            s.copy_from(init);
            for (std::int64_t t = 0; t < base.years; ++t) {
                const auto k = a * static_cast<std::size_t>(base.years) + static_cast<std::size_t>(t);
                run_step(arms[a], w, t, s, scratch, tally[k], gini[k]);
            }
        }
    };
    auto one_unit = [&]() { unit(step); };
    auto one_unit_reference = [&]() { unit(select("")); };
    if (!target.empty() && !std::getenv("ARTEL_BENCH_NO_DRAW_COUNT")) {
        // Random words per household-year: read by the model (what the scalar
        // kernel draws) and computed by the vector kernel (whole Philox blocks,
        // every lane); one untimed unit (left out with ARTEL_BENCH_NO_DRAW_COUNT
        // set, e.g. when instructions are counted).
        // The reference kernel counts what the model reads, the vector kernel
        // what it computes, over the same unit.
        simd::count_draws(true);
        one_unit();
        const auto generated = simd::draw_counts().generated;
        simd::count_draws(true);
        one_unit_reference();
        const auto c = simd::draw_counts();
        simd::count_draws(false);
        state.counters["words_used_per_hhy"] = double(c.used) / double(c.household_years);
        state.counters["words_generated_per_hhy"] = double(generated) / double(c.household_years);
    }
    for (auto _ : state) {
        init.shape(rep, 0, villages, base.households);
        if (vec) init_block_simd(base, init); else init_block(base, init);
        Tally start;
        GiniHistogram start_gini;
        tally_stocks(base, init, price0.data(), start, start_gini);
        for (std::size_t a = 0; a < arms.size(); ++a) {
            s.copy_from(init);
            for (std::int64_t t = 0; t < base.years; ++t) {
                const auto k = a * static_cast<std::size_t>(base.years) + static_cast<std::size_t>(t);
                step(arms[a], w, t, s, scratch, tally[k], gini[k]);
            }
        }
        benchmark::DoNotOptimize(tally.data());
        ++rep;
    }
    state.SetItemsProcessed(state.iterations() * villages * base.households *
                            static_cast<std::int64_t>(arms.size()) * base.years);
}

// init_block alone (the scalar reference; BM_Scenario uses init_block_simd for
// the vector kernels).
void BM_InitBlock(benchmark::State& state) {
    const Params base;
    BlockState init;
    std::uint32_t rep = 0;
    for (auto _ : state) {
        init.shape(rep++, 0, 20, base.households);
        init_block(base, init);
        benchmark::DoNotOptimize(init.hh.skill.data());
    }
    state.SetItemsProcessed(state.iterations() * 20 * base.households);
}
BENCHMARK(BM_InitBlock);

void BM_InitBlockSimd(benchmark::State& state, std::string target) {
    set_simd_target(target);
    const Params base;
    BlockState init;
    std::uint32_t rep = 0;
    for (auto _ : state) {
        init.shape(rep++, 0, 20, base.households);
        init_block_simd(base, init);
        benchmark::DoNotOptimize(init.hh.skill.data());
    }
    state.SetItemsProcessed(state.iterations() * 20 * base.households);
}

// ---- statistics and HDF5 ----------------------------------------------------------

// ResultWriter consume + finish for the default scenario's schema (5 arms,
// 20 years, 4 histogram years, 100 trajectories from replication 0) and
// state.range(0) replications; items = replications.
void BM_ResultWriter(benchmark::State& state) {
    const auto R = state.range(0);
    std::vector<Arm> arms;
    const char* names[] = {"nep-1923", "free-market", "bonus-verified", "cultural-revolution", "sufficiency"};
    auto ps = nep_arms();
    for (std::size_t a = 0; a < ps.size(); ++a) {
        ps[a].replications = R;
        arms.push_back({names[a], ps[a]});
    }
    SimulationOptions opt;
    opt.histogram_years = {1923, 1927, 1932, 1942};
    const HouseholdSimulation sim(arms, opt);
    const auto& schema = sim.schema();
    std::vector<run::ReplicationRecord> recs(static_cast<std::size_t>(R));
    for (std::int64_t r = 0; r < R; ++r) {
        auto& rec = recs[static_cast<std::size_t>(r)];
        rec.shape(schema, r < schema.trajectory_replications);
        rec.replication = static_cast<std::uint64_t>(r);
        double x = 0.1 * static_cast<double>(r + 1);
        for (auto& v : rec.series) v = (x = x * 1.37 - static_cast<double>(static_cast<long>(x * 1.37)));
        for (auto& v : rec.start) v = 0.5;
        for (auto& v : rec.events) v = 3.0;
        for (auto& v : rec.histograms) v = r;
        for (auto& v : rec.trajectories) v = 1.0;
    }
    const auto dir = std::filesystem::temp_directory_path();
    const auto path = dir / ("artel_bench_writer_" + std::to_string(::getpid()) + ".h5");
    output::RunMetadata meta;
    meta.scenario_text = "# bench\n";
    meta.seed = 1;
    for (auto _ : state) {
        state.PauseTiming();
        std::filesystem::remove(path);  // finish() never replaces a file it did not agree to
        state.ResumeTiming();
        output::ResultWriter wr(path, schema, meta);
        for (const auto& rec : recs) wr.consume(rec);
        wr.batch_done();
        wr.finish();
    }
    std::filesystem::remove(path);
    state.SetItemsProcessed(state.iterations() * R);
}
BENCHMARK(BM_ResultWriter)->Arg(200)->Unit(benchmark::kMillisecond);

// ---- registration per instruction set ---------------------------------------------

const bool registered = [] {
    std::vector<std::string> targets = available_simd_targets();
    for (const auto& t : targets) {
        // 1 block per household (one chain at a time) and 4 blocks per household (4 chains interleaved)
        benchmark::RegisterBenchmark(("BM_PhiloxSimd_1block/" + t).c_str(), BM_PhiloxSimd, t, 1u);
        benchmark::RegisterBenchmark(("BM_PhiloxSimd_4blocks/" + t).c_str(), BM_PhiloxSimd, t, 4u);
        benchmark::RegisterBenchmark(("BM_UniformSimd/" + t).c_str(), BM_UniformSimd, t);
        benchmark::RegisterBenchmark(("BM_NormalSimd/" + t).c_str(), BM_NormalSimd, t);
        benchmark::RegisterBenchmark(("BM_InitBlockSimd/" + t).c_str(), BM_InitBlockSimd, t);
    }
    std::vector<std::string> kernels = {""};
    kernels.insert(kernels.end(), targets.begin(), targets.end());
    for (const auto& t : kernels) {
        const std::string name = t.empty() ? "scalar-ref" : t;
        // Arm 4 (sufficiency): every mechanism and policy path on.
        benchmark::RegisterBenchmark(("BM_StepYear_2000hh_sufficiency/" + name).c_str(), BM_Step, t,
                                     std::int64_t{20}, 4);
        benchmark::RegisterBenchmark(("BM_StepYear_2000hh_baseline/" + name).c_str(), BM_Step, t,
                                     std::int64_t{20}, 0);
        benchmark::RegisterBenchmark(("BM_VillageYear_100hh/" + name).c_str(), BM_Step, t, std::int64_t{1}, 4);
        if (t == targets.front() || t.empty()) {  // the best instruction set and the reference
            for (const auto& [mname, member] : artel::bench::kMechanisms)
                benchmark::RegisterBenchmark(("BM_StepYear_without/" + std::string(mname) + "/" + name).c_str(),
                                             BM_StepWithout, t, member);
        }
        benchmark::RegisterBenchmark(("BM_Scenario_2000hh_5arms_20y/" + name).c_str(), BM_Scenario, t,
                                     std::int64_t{20})
            ->Unit(benchmark::kMillisecond);
    }
    return true;
}();

}  // namespace
