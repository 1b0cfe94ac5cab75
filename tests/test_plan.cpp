// Estimates before a run (engine/run/plan.hpp): the layout the plan counts is
// the one the result writer makes, the parts add up as documented, and
// planning does not allocate the working memory it estimates. How close the
// estimates come to measured runs: tests/python/test_plan.py.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <hdf5.h>

#include "engine/output/result_writer.hpp"
#include "engine/run/plan.hpp"
#include "engine/run/runner.hpp"
#include "support.hpp"
#include "temp_dir.hpp"

using namespace artel;
namespace fs = std::filesystem;

namespace {

std::vector<model::Arm> arms(std::size_t n, std::int64_t replications, std::int64_t years = 12) {
    model::Params p;
    p.villages = 2;
    p.households = 5;
    p.years = years;
    p.replications = replications;
    std::vector<model::Arm> out;
    for (std::size_t a = 0; a < n; ++a) {
        model::Params q = p;
        q.bonus = double(a);
        out.push_back({"arm" + std::to_string(a), q});
    }
    return out;
}

model::SimulationOptions options(bool histograms, std::int64_t trajectories) {
    model::SimulationOptions o;
    o.histogram_years = histograms ? std::vector<std::int64_t>{1923, 1930} : std::vector<std::int64_t>{};
    o.trajectory_households = trajectories;
    o.trajectory_replications = trajectories > 0 ? 2 : 0;
    o.villages_per_block = 1;
    return o;
}

// What a file holds: groups and datasets (the root included), the bytes of
// its chunked datasets before compression and of its other numeric ones.
struct Census {
    double objects = 0, rows = 0, values = 0;
};

herr_t count(hid_t root, const char* name, const H5O_info_t* info, void* data) {
    auto& c = *static_cast<Census*>(data);
    if (info->type == H5O_TYPE_GROUP) c.objects += 1;
    if (info->type != H5O_TYPE_DATASET) return 0;
    c.objects += 1;
    const hid_t ds = H5Dopen2(root, name, H5P_DEFAULT);
    const hid_t space = H5Dget_space(ds), type = H5Dget_type(ds), dcpl = H5Dget_create_plist(ds);
    const double bytes = double(H5Sget_simple_extent_npoints(space)) * double(H5Tget_size(type));
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) c.rows += bytes;
    else if (H5Tget_class(type) != H5T_STRING) c.values += bytes;
    H5Pclose(dcpl), H5Tclose(type), H5Sclose(space), H5Dclose(ds);
    return 0;
}

Census census(const fs::path& file) {
    Census c;
    const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(f >= 0);
    H5Ovisit(f, H5_INDEX_NAME, H5_ITER_NATIVE, count, &c);
    H5Fclose(f);
    return c;
}

// Runs `sim` and writes its file.
void write_run(const model::HouseholdSimulation& sim, const fs::path& out) {
    test::MemorySink sink;
    run::RunOptions opt;
    opt.threads = 2;
    opt.replications = std::uint64_t(sim.schema().replications);
    run::run_replications(sim, opt, sink);
    output::RunMetadata meta;
    meta.scenario_text = "# test\n";
    output::ResultWriter writer(out, sim.schema(), meta);
    for (const auto& r : sink.records) writer.consume(r);
    writer.batch_done();
    writer.finish();
}

double current_kib(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string key;
    double kib = -1;
    for (std::string line; std::getline(in, line);)
        if (line.rfind(field, 0) == 0) std::sscanf(line.c_str() + std::strlen(field), " %lf", &kib);
    return kib;
}

}  // namespace

TEST_CASE("plan: the file layout it counts is the writer's", "[plan]") {
    test::TempDir dir("plan-layout");
    struct Case {
        std::size_t arms;
        std::int64_t replications;
        bool histograms;
        std::int64_t trajectories;
    };
    for (const Case c : {Case{1, 3, false, 0}, Case{3, 5, true, 4}, Case{2, 1100, true, 0}}) {
        INFO("arms " << c.arms << ", replications " << c.replications << ", histograms " << c.histograms
                     << ", trajectory households " << c.trajectories);
        const model::HouseholdSimulation sim(arms(c.arms, c.replications), options(c.histograms, c.trajectories));
        const auto out = dir.path / ("run" + std::to_string(c.arms) + ".h5");
        write_run(sim, out);
        const auto layout = run::count_layout(sim.schema());
        const auto found = census(out);
        CHECK(layout.objects == found.objects);
        CHECK(layout.rows == found.rows);
        CHECK(layout.values == found.values);
        // The statistics held open at the end and the layout open throughout
        // are parts of what the file holds.
        CHECK(layout.open + layout.statistics < layout.objects);
        // The estimate of the file is an upper bound.
        const auto plan = run::make_plan(sim, 2, 1.0);
        CHECK(double(fs::file_size(out)) <= plan.output);
    }
}

TEST_CASE("plan: the parts of the memory estimate", "[plan]") {
    const model::HouseholdSimulation sim(arms(3, 40), options(true, 4));
    for (const int threads : {1, 2, 7}) {
        const auto p = run::make_plan(sim, threads, 123.0);
        CHECK(p.threads == threads);
        CHECK(p.work == 123.0);
        CHECK(p.batch == run::auto_batch(sim, threads, 40));
        CHECK(p.memory.workers == double(threads) * double(sim.worker_bytes()));
        CHECK(p.memory.accumulators == double(p.batch) * double(sim.accumulator_bytes()));
        CHECK(p.memory.records > 0);
        CHECK(p.memory.peak() == p.memory.fixed + p.memory.file +
                                     std::max(p.memory.workers + p.memory.accumulators + p.memory.records,
                                              p.memory.statistics));
        CHECK(p.seconds > 0);
        CHECK_THAT(run::describe(p.memory), Catch::Matchers::StartsWith("fixed 18.0 MiB, result file "));
    }
    // More arms, more of everything that is per arm.
    const model::HouseholdSimulation more(arms(30, 40), options(true, 4));
    const auto a = run::make_plan(sim, 2, 1.0), b = run::make_plan(more, 2, 1.0);
    CHECK(b.layout.open > 9 * a.layout.open);
    CHECK(b.layout.objects > 9 * a.layout.objects);
    CHECK(b.memory.file > a.memory.file);
    CHECK(b.memory.statistics > 9 * a.memory.statistics);
    CHECK(b.output > 9 * a.output);
}

TEST_CASE("plan: a one-arm copy is what planning runs", "[plan]") {
    const model::HouseholdSimulation sim(arms(5, 7), options(true, 4));
    const auto one = sim.first_arms(1);
    CHECK(one->schema().arms == std::vector<std::string>{"arm0"});
    CHECK(one->schema().replications == 7);
    CHECK(one->units_per_replication() == sim.units_per_replication());
    CHECK(one->worker_bytes() < sim.worker_bytes());
    CHECK(sim.first_arms(3)->schema().arms == std::vector<std::string>{"arm0", "arm1", "arm2"});
}

TEST_CASE("plan: planning allocates none of the working memory it estimates", "[plan]") {
    // 1024 arms x 20 years: a worker and an accumulator need ~340 MiB each.
    const model::HouseholdSimulation sim(arms(1024, 10, 20), options(true, 100));
    const double rss0 = current_kib("VmRSS:");
    // Reset the peak (VmHWM) to the current resident set (Linux >= 4.0).
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5" << std::flush;
    const bool reset = clear.good() && current_kib("VmHWM:") <= rss0 + 1024;
    const auto p = run::make_plan(sim, 2, 1.0);
    const double grown_mib = (current_kib("VmHWM:") - rss0) / 1024;
    CHECK(p.memory.workers > 600.0 * (1 << 20));
    CHECK(p.memory.peak() > 5.0 * (1 << 30));
    if (reset) {
        INFO("peak grew by " << grown_mib << " MiB while planning");
        CHECK(grown_mib < 32);
    } else {
        WARN("cannot reset the peak resident set (/proc/self/clear_refs): not measured");
    }
}
