// The end of a run (ResultWriter::finish): statistics, and the last chunks
// of the row datasets that it filters off HDF5's thread, do not depend on how
// many threads finish() has; the rows read back are the records written,
// whether a dataset's chunks fit in its chunk cache (finish() stores them
// itself) or not (HDF5 flushes them).
#include <catch2/catch.hpp>

#include <omp.h>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <hdf5.h>

#include "engine/h5/h5.hpp"
#include "engine/output/result_writer.hpp"
#include "engine/stats/summary.hpp"
#include "support.hpp"
#include "temp_dir.hpp"

using namespace artel;
namespace fs = std::filesystem;
using artel::test::TempDir;

namespace {

std::vector<model::Arm> two_arms(std::int64_t replications) {
    model::Params p;
    p.villages = 2;
    p.households = 5;
    p.years = 12;
    p.replications = replications;
    p.seed = 19230104;
    model::Params b = p;
    b.bonus = 5.0;
    return {{"base", p}, {"bonus", b}};
}

model::SimulationOptions options() {
    model::SimulationOptions o;
    o.histogram_years = {1923, 1930};
    o.trajectory_households = 3;
    o.trajectory_replications = 1;
    o.villages_per_block = 2;
    return o;
}

// Writes the records, finish() having `threads` OpenMP threads.
void write(const fs::path& out, const run::ResultSchema& schema, const test::MemorySink& sink, int threads) {
    output::RunMetadata meta;
    meta.scenario_text = "# test\n";
    meta.seed = 1;
    output::ResultWriter writer(out, schema, meta);
    for (const auto& r : sink.records) writer.consume(r);
    writer.batch_done();
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    writer.finish();
    omp_set_num_threads(before);
}

// Every numeric dataset under /arms, as its stored bytes.
herr_t collect(hid_t, const char* name, const H5O_info_t* info, void* out) {
    if (info->type == H5O_TYPE_DATASET) static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
}
std::map<std::string, std::vector<unsigned char>> contents(const fs::path& file) {
    const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(f >= 0);
    const hid_t arms = H5Gopen2(f, "arms", H5P_DEFAULT);
    std::vector<std::string> names;
    H5Ovisit(arms, H5_INDEX_NAME, H5_ITER_INC, collect, &names);
    std::map<std::string, std::vector<unsigned char>> out;
    for (const auto& n : names) {
        const hid_t d = H5Dopen2(arms, n.c_str(), H5P_DEFAULT);
        const hid_t type = H5Dget_type(d);
        const hid_t space = H5Dget_space(d);
        const auto npoints = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
        std::vector<unsigned char> bytes(npoints * H5Tget_size(type));
        if (H5Tget_class(type) != H5T_STRING && !bytes.empty())
            REQUIRE(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()) >= 0);
        out[n] = std::move(bytes);
        H5Sclose(space);
        H5Tclose(type);
        H5Dclose(d);
    }
    H5Gclose(arms);
    H5Fclose(f);
    return out;
}

}  // namespace

TEST_CASE("result writer: finish() gives the same file with 1 and 2 threads, and rows are the records", "[output]") {
    // 3 replications: every row dataset is one chunk, in HDF5's cache at the
    // end (finish() filters and stores them); 700: a series has two chunks of
    // 682 rows, more than the chunk cache holds (HDF5 flushes them).
    const std::int64_t R = GENERATE(3, 700);
    INFO("replications " << R);
    const auto arms = two_arms(R);
    const model::HouseholdSimulation sim(arms, options());
    const auto sink = test::run_memory(arms, options());
    const auto& schema = sim.schema();
    TempDir tmp("writer");
    write(tmp.path / "one.h5", schema, sink, 1);
    write(tmp.path / "two.h5", schema, sink, 2);
    const auto one = contents(tmp.path / "one.h5"), two = contents(tmp.path / "two.h5");
    REQUIRE(one.size() == two.size());
    for (const auto& [name, bytes] : one) {
        INFO(name);
        REQUIRE(two.count(name) == 1);
        CHECK(bytes == two.at(name));
    }

    auto file = h5::File::open_read(tmp.path / "two.h5");
    const auto S = schema.series.size(), T = static_cast<std::size_t>(schema.years);
    for (std::size_t a = 0; a < schema.n_arms(); ++a) {
        auto group = file.root().open_group("arms/" + schema.arms[a]);
        for (std::size_t k = 0; k < S; ++k) {
            INFO(schema.arms[a] << " " << schema.series[k].name);
            const auto rows = group.open_dataset("series/" + schema.series[k].name).read<double>();
            REQUIRE(rows.size() == static_cast<std::size_t>(R) * T);
            std::vector<double> want(rows.size());
            for (std::size_t r = 0; r < static_cast<std::size_t>(R); ++r)
                std::memcpy(&want[r * T], &sink.records[r].series[(a * S + k) * T], T * sizeof(double));
            CHECK(std::memcmp(rows.data(), want.data(), rows.size() * sizeof(double)) == 0);
            // the mean of the last year, as the statistics give it
            std::vector<double> last(static_cast<std::size_t>(R)), scratch;
            for (std::size_t r = 0; r < last.size(); ++r) last[r] = want[r * T + T - 1];
            const auto sum = stats::summarize(last, scratch);
            const auto mean = group.open_dataset("stats/" + schema.series[k].name + "_mean").read<double>();
            CHECK(std::memcmp(&mean[T - 1], &sum.mean, sizeof(double)) == 0);
        }
    }
}
