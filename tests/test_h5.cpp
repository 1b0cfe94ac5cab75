// The typed HDF5 layer: round trips of values, shapes, attributes and strings;
// rows written by separate write_rows calls; error messages that name the
// file and object. The [h5-demo] case writes the xarray-compatibility demo
// file that tests/python/test_h5_layer.py opens with xarray + h5netcdf.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "engine/h5/h5.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
namespace h5 = artel::h5;
using artel::test::TempDir;

namespace {

constexpr std::size_t R = 5;  // replications
constexpr std::size_t T = 4;  // years
constexpr std::int64_t first_year = 2020;
constexpr std::uint64_t big_seed = 0xFFFF'FFFF'FFFF'FFF0ull;  // above INT64_MAX

double persons_value(std::size_t r, std::size_t t) { return 100.0 * double(r) + double(t) + 0.5; }

// One arm's series group: scales replication and year, a chunked + deflated
// R×T variable written as two row blocks, and variables with one dim each.
void write_series(h5::Group series) {
    std::vector<std::int64_t> reps(R), years(T);
    for (std::size_t r = 0; r < R; ++r) reps[r] = std::int64_t(r);
    for (std::size_t t = 0; t < T; ++t) years[t] = first_year + std::int64_t(t);

    auto replication = series.write_dataset<std::int64_t>("replication", reps, {R});
    replication.make_dimension_scale("replication");
    replication.set_attr("long_name", "replication index");
    auto year = series.write_dataset<std::int64_t>("year", years, {T});
    year.make_dimension_scale();
    year.set_attr("units", "year");

    auto persons =
        series.create_dataset<double>("persons", {R, T}, {.chunk = {3, T}, .deflate = 4, .shuffle = true});
    persons.attach_scale(replication, 0);
    persons.attach_scale(year, 1);
    persons.set_attr("units", "persons");
    persons.set_attr("long_name", "people alive at the end of the year");
    // Two workers, each its own rows.
    std::vector<double> block_a, block_b;
    for (std::size_t r = 0; r < 3; ++r)
        for (std::size_t t = 0; t < T; ++t) block_a.push_back(persons_value(r, t));
    for (std::size_t r = 3; r < R; ++r)
        for (std::size_t t = 0; t < T; ++t) block_b.push_back(persons_value(r, t));
    persons.write_rows<double>(3, 2, block_b);
    persons.write_rows<double>(0, 3, block_a);

    std::vector<double> wealth(R);
    for (std::size_t r = 0; r < R; ++r) wealth[r] = 1.5 * double(r);
    auto final_wealth = series.write_dataset<double>("final_wealth", wealth, {R});
    final_wealth.attach_scale(replication, 0);

    std::vector<std::int32_t> count(T);
    for (std::size_t t = 0; t < T; ++t) count[t] = std::int32_t(10 * t);
    auto villages = series.write_dataset<std::int32_t>("villages", count, {T});
    villages.attach_scale(year, 0);
}

void write_demo(const fs::path& file) {
    auto f = h5::File::create(file);
    {
        auto root = f.root();
        root.set_attr("format", "artel-demo");
        root.set_attr("format_version", std::vector<std::int64_t>{1, 0});
        root.set_attr("seed", big_seed);
        root.set_attr("discount", 0.97);
        root.set_attr("comment", "UTF-8: Zürich, ŋ");
        auto arms = root.create_group("arms");
        arms.set_attr("order", std::vector<double>{0.25, 0.5});
        for (const char* arm : {"nep-1923", "baseline"}) {
            auto g = arms.create_group(arm);
            g.set_attr("label", std::string("arm ") + arm);
            write_series(g.create_group("series"));
            // A labelled string coordinate.
            auto summary = g.create_group("summary");
            auto statistic = summary.write_strings("statistic", {"mean", "sd"});
            statistic.make_dimension_scale();
            std::vector<double> v{1.0, 2.0};
            auto value = summary.write_dataset<double>("value", v, {2});
            value.attach_scale(statistic, 0);
        }
    }
    f.close();
}

template <class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const h5::Error& e) {
        return e.what();
    }
    FAIL("expected artel::h5::Error");
    return {};
}

}  // namespace

TEST_CASE("h5: values, shapes and attributes round-trip", "[h5]") {
    TempDir dir("h5");
    const fs::path file = dir.path / "demo.h5";
    write_demo(file);

    auto f = h5::File::open_read(file);
    auto root = f.root();
    CHECK(root.attr_string("format") == "artel-demo");
    CHECK(root.attr_ints("format_version") == std::vector<std::int64_t>{1, 0});
    CHECK(root.attr_uint("seed") == big_seed);
    CHECK(root.attr_double("discount") == 0.97);
    CHECK(root.attr_string("comment") == "UTF-8: Zürich, ŋ");
    CHECK(root.attr_names() ==
          std::vector<std::string>{"format", "format_version", "seed", "discount", "comment"});
    CHECK(root.has_attr("seed"));
    CHECK_FALSE(root.has_attr("nope"));

    CHECK(root.has("arms"));
    CHECK(root.has("arms/nep-1923/series/persons"));
    CHECK(root.has("/arms/baseline"));
    CHECK_FALSE(root.has("arms/missing/series"));
    CHECK_FALSE(root.has(""));
    CHECK(root.children() == std::vector<std::string>{"arms"});
    auto arms = root.open_group("arms");
    CHECK(arms.path() == "/arms");
    CHECK(arms.children() == std::vector<std::string>{"nep-1923", "baseline"});  // creation order
    CHECK(arms.attr_doubles("order") == std::vector<double>{0.25, 0.5});

    auto series = arms.open_group("nep-1923").open_group("series");
    CHECK(series.path() == "/arms/nep-1923/series");
    CHECK(series.children() ==
          std::vector<std::string>{"replication", "year", "persons", "final_wealth", "villages"});

    auto persons = series.open_dataset("persons");
    CHECK(persons.name() == "persons");
    CHECK(persons.dims() == std::vector<h5::hsize_t>{R, T});
    CHECK(persons.attr_string("units") == "persons");
    const auto all = persons.read<double>();
    REQUIRE(all.size() == R * T);
    for (std::size_t r = 0; r < R; ++r)
        for (std::size_t t = 0; t < T; ++t) CHECK(all[r * T + t] == persons_value(r, t));
    const auto rows = persons.read_rows<double>(2, 2);
    REQUIRE(rows.size() == 2 * T);
    CHECK(rows[0] == persons_value(2, 0));
    CHECK(rows[2 * T - 1] == persons_value(3, T - 1));
    CHECK(persons.read_rows<double>(R, 0).empty());

    auto year = series.open_dataset("year");
    CHECK(year.is_dimension_scale());
    CHECK_FALSE(persons.is_dimension_scale());
    CHECK(year.read<std::int64_t>() == std::vector<std::int64_t>{2020, 2021, 2022, 2023});
    CHECK(series.open_dataset("villages").read<std::int32_t>() == std::vector<std::int32_t>{0, 10, 20, 30});
    CHECK(series.open_dataset("final_wealth").dims() == std::vector<h5::hsize_t>{R});

    auto statistic = root.open_group("arms/baseline/summary").open_dataset("statistic");
    CHECK(statistic.read_strings() == std::vector<std::string>{"mean", "sd"});
    CHECK(statistic.is_dimension_scale());
}

TEST_CASE("h5: element types, scalars, fill and attribute replacement", "[h5]") {
    TempDir dir("h5");
    const fs::path file = dir.path / "types.h5";
    {
        auto f = h5::File::create(file);
        auto g = f.root().create_group("g");
        auto partial = g.create_dataset<double>("partial", {3, 2}, {.chunk = {1, 2}});
        g.write_dataset<float>("f32", std::vector<float>{1.5f, -2.0f}, {2});
        g.write_dataset<std::uint8_t>("u8", std::vector<std::uint8_t>{0, 255}, {2});
        g.write_dataset<std::uint32_t>("u32", std::vector<std::uint32_t>{7, 4000000000u}, {2});
        g.write_dataset<std::uint64_t>("u64", std::vector<std::uint64_t>{big_seed}, {1});
        g.write_dataset<double>("scalar", std::vector<double>{3.25}, {});
        g.write_dataset<double>("empty", std::vector<double>{}, {0, 3}, {.chunk = {4, 4}, .deflate = 1});
        g.write_strings("no_strings", {});
        // Only some rows written: the rest read back as NaN, never 0.
        partial.write_rows<double>(1, 1, std::vector<double>{4.0, 5.0});
        // Chunk larger than the dataset is clamped.
        g.create_dataset<std::int64_t>("clamped", {2, 2},
                                       {.chunk = {1000, 1000}, .deflate = 9, .shuffle = true})
            .write<std::int64_t>(std::vector<std::int64_t>{1, 2, 3, 4});
        g.set_attr("n", 3);  // int → int64
        g.set_attr("n", 4);  // replaced
        g.set_attr("size", std::size_t{12});
        g.set_attr("empty", std::vector<double>{});
        g.set_attr("text", "first");
        g.set_attr("text", std::string("second"));
        // Groups and datasets still alive: close() refuses rather than
        // returning before the file is complete.
        CHECK_THAT(message_of([&] { f.close(); }),
                   Catch::Contains("2 group(s) or dataset(s) of it are still open"));
    }
    auto f = h5::File::open_read(file);
    auto g = f.root().open_group("g");
    CHECK(g.open_dataset("f32").read<float>() == std::vector<float>{1.5f, -2.0f});
    CHECK(g.open_dataset("u8").read<std::uint8_t>() == std::vector<std::uint8_t>{0, 255});
    CHECK(g.open_dataset("u32").read<std::uint32_t>() == std::vector<std::uint32_t>{7, 4000000000u});
    CHECK(g.open_dataset("u64").read<std::uint64_t>() == std::vector<std::uint64_t>{big_seed});
    auto scalar = g.open_dataset("scalar");
    CHECK(scalar.dims().empty());
    CHECK(scalar.read<double>() == std::vector<double>{3.25});
    CHECK(g.open_dataset("empty").dims() == std::vector<h5::hsize_t>{0, 3});
    CHECK(g.open_dataset("empty").read<double>().empty());
    CHECK(g.open_dataset("no_strings").read_strings().empty());
    const auto partial = g.open_dataset("partial").read<double>();
    REQUIRE(partial.size() == 6);
    CHECK(std::isnan(partial[0]));
    CHECK(partial[2] == 4.0);
    CHECK(partial[3] == 5.0);
    CHECK(std::isnan(partial[5]));
    CHECK(g.open_dataset("clamped").read<std::int64_t>() == std::vector<std::int64_t>{1, 2, 3, 4});
    CHECK(g.attr_int("n") == 4);
    CHECK(g.attr_uint("size") == 12);
    CHECK(g.attr_double("n") == 4.0);
    CHECK(g.attr_doubles("empty").empty());
    CHECK(g.attr_string("text") == "second");
    CHECK(g.attr_names() == std::vector<std::string>{"n", "size", "empty", "text"});
}

TEST_CASE("h5: reopening read-write adds to a file", "[h5]") {
    TempDir dir("h5");
    const fs::path file = dir.path / "rw.h5";
    h5::File::create(file).close();
    {
        auto f = h5::File::open_rw(file);
        f.root().create_group("later").set_attr("x", 1.0);
        f.flush();
    }  // destructor closes quietly
    auto f = h5::File::open_read(file);
    CHECK(f.root().open_group("later").attr_double("x") == 1.0);
    CHECK(f.path() == file.string());
}

TEST_CASE("h5: errors name the file, the object and what was being done", "[h5]") {
    TempDir dir("h5");
    const std::string missing = (dir.path / "missing.h5").string();

    SECTION("opening a missing file") {
        const auto msg = message_of([&] { h5::File::open_read(missing); });
        CHECK_THAT(msg, Catch::Contains("HDF5: cannot open file '" + missing + "' for reading: "));
        CHECK_THAT(msg, Catch::Contains("No such file or directory"));  // HDF5's own words
        const auto rw = message_of([&] { h5::File::open_rw(missing); });
        CHECK_THAT(rw, Catch::Contains("for reading and writing"));
    }
    SECTION("creating a file in a missing directory") {
        const auto msg = message_of([&] { h5::File::create(dir.path / "no" / "such" / "x.h5"); });
        CHECK_THAT(msg, Catch::StartsWith("HDF5: cannot create file '"));
        CHECK_THAT(msg, Catch::Contains("No such file or directory"));
    }
    SECTION("a file that is not HDF5") {
        const fs::path text = dir.path / "text.h5";
        {
            std::FILE* out = std::fopen(text.c_str(), "w");
            std::fputs("hello\n", out);
            std::fclose(out);
        }
        const auto msg = message_of([&] { h5::File::open_read(text); });
        CHECK_THAT(msg, Catch::Contains(text.string()));
        CHECK_THAT(msg, Catch::Contains("signature"));
    }

    const fs::path file = dir.path / "out.h5.partial";
    const std::string in_file = " in '" + file.string() + "'";
    auto f = h5::File::create(file);
    {
        auto series = f.root().create_group("arms").create_group("nep-1923").create_group("series");
        auto persons = series.create_dataset<double>("persons", {12, 3}, {.chunk = {4, 3}, .deflate = 1});
        std::vector<double> ten_rows(30, 1.0);

        SECTION("writing past the end") {
            const auto msg = message_of([&] { persons.write_rows<double>(10, 10, ten_rows); });
            CHECK(msg == "HDF5: cannot write dataset '/arms/nep-1923/series/persons' rows 10..19" + in_file +
                             ": rows past the end (dataset has 12 rows)");
            CHECK_THAT(message_of([&] { (void)persons.read_rows<double>(13, 0); }),
                       Catch::Contains("past the end"));
        }
        SECTION("wrong number of values") {
            const auto msg = message_of([&] { persons.write_rows<double>(0, 2, ten_rows); });
            CHECK_THAT(msg, Catch::Contains("rows 0..1"));
            CHECK_THAT(msg, Catch::Contains("got 30 values for shape (2, 3) (6 values)"));
            CHECK_THAT(message_of([&] { persons.write<double>(ten_rows); }),
                       Catch::Contains("shape (12, 3)"));
        }
        SECTION("wrong element type") {
            const auto msg = message_of([&] { (void)persons.read<std::int64_t>(); });
            CHECK(msg == "HDF5: cannot read dataset '/arms/nep-1923/series/persons'" + in_file +
                             ": the dataset holds float64, not int64");
            CHECK_THAT(message_of([&] { persons.write<float>(std::vector<float>(36)); }),
                       Catch::Contains("holds float64, not float32"));
            CHECK_THAT(message_of([&] { (void)persons.read_strings(); }), Catch::Contains("not strings"));
        }
        SECTION("missing and misnamed objects") {
            CHECK(message_of([&] { (void)series.open_dataset("harvest"); }) ==
                  "HDF5: cannot open dataset '/arms/nep-1923/series/harvest'" + in_file +
                      ": no such dataset");
            CHECK_THAT(message_of([&] { (void)f.root().open_group("arms/nep-1923/series/persons"); }),
                       Catch::Contains("it is not a group"));
            CHECK_THAT(message_of([&] { (void)series.create_group("persons"); }),
                       Catch::Contains("the name is already taken"));
            CHECK_THAT(message_of([&] { (void)persons.attr_string("units"); }),
                       Catch::Contains("attribute 'units' of '/arms/nep-1923/series/persons'" + in_file +
                                       ": no such attribute"));
        }
        SECTION("attribute type and range") {
            persons.set_attr("seed", big_seed);
            persons.set_attr("label", "x");
            CHECK_THAT(message_of([&] { (void)persons.attr_int("seed"); }),
                       Catch::Contains("does not fit in int64"));
            CHECK_THAT(message_of([&] { (void)persons.attr_double("label"); }),
                       Catch::Contains("not numbers"));
            persons.set_attr("minus", -1);
            CHECK_THAT(message_of([&] { (void)persons.attr_uint("minus"); }), Catch::Contains("negative"));
            persons.set_attr("pair", std::vector<double>{1, 2});
            CHECK_THAT(message_of([&] { (void)persons.attr_double("pair"); }),
                       Catch::Contains("2 elements, not 1"));
        }
        SECTION("dataset options") {
            CHECK_THAT(message_of([&] { (void)series.create_dataset<double>("a", {4}, {.deflate = 4}); }),
                       Catch::Contains("need a chunked layout"));
            CHECK_THAT(message_of([&] {
                           (void)series.create_dataset<double>("b", {4, 4}, {.chunk = {2}});
                       }),
                       Catch::Contains("has 1 extents for a rank-2 dataset"));
            CHECK_THAT(message_of([&] {
                           (void)series.create_dataset<double>("c", {4}, {.chunk = {2}, .deflate = 12});
                       }),
                       Catch::Contains("outside 0..9"));
        }
        SECTION("dimension scales that xarray could not read") {
            auto year = series.write_dataset<std::int64_t>("year", std::vector<std::int64_t>{1, 2, 3}, {3});
            CHECK_THAT(message_of([&] { persons.attach_scale(year, 1); }),
                       Catch::Contains("is not a dimension scale"));
            CHECK_THAT(message_of([&] { year.make_dimension_scale("time"); }),
                       Catch::Contains("differs from the dataset name 'year'"));
            year.make_dimension_scale("year");
            CHECK_THAT(message_of([&] { persons.attach_scale(year, 0); }),
                       Catch::Contains("has shape (3,) but axis 0 has length 12"));
            CHECK_THAT(message_of([&] { persons.attach_scale(year, 2); }), Catch::Contains("has rank 2"));
            persons.attach_scale(year, 1);
            persons.attach_scale(year, 1);  // again: nothing changes
            auto other = series.write_dataset<std::int64_t>("other", std::vector<std::int64_t>{1, 2, 3}, {3});
            other.make_dimension_scale();
            CHECK_THAT(message_of([&] { persons.attach_scale(other, 1); }), Catch::Contains("already has"));
            auto sibling = f.root().open_group("arms").create_group("elsewhere");
            auto stray = sibling.write_dataset<std::int64_t>("year", std::vector<std::int64_t>{1, 2, 3}, {3});
            stray.make_dimension_scale();
            auto v = series.write_dataset<double>("v", std::vector<double>{1, 2, 3}, {3});
            CHECK_THAT(message_of([&] { v.attach_scale(stray, 0); }),
                       Catch::Contains("neither this dataset's group nor an ancestor"));
            // An ancestor's scale is fine.
            auto top = f.root().write_dataset<std::int64_t>("t3", std::vector<std::int64_t>{1, 2, 3}, {3});
            top.make_dimension_scale();
            v.attach_scale(top, 0);
        }
        SECTION("empty handles") {
            h5::Dataset none;
            CHECK_THAT(message_of([&] { (void)none.dims(); }), Catch::Contains("empty or closed handle"));
        }
        SECTION("closing while objects are open") {
            CHECK_THAT(message_of([&] { f.close(); }), Catch::Contains("still open"));
        }
    }
    f.close();
    CHECK_FALSE(f.is_open());
    f.close();  // closing twice does nothing
    CHECK_THAT(message_of([&] { (void)f.root(); }), Catch::Contains("the file is closed"));
}

TEST_CASE("h5: workers write their own rows from several threads", "[h5]") {
    // Debian's libhdf5 is thread-safe (one global lock): concurrent
    // write_rows calls are serialised, and each thread's errors are its own.
    TempDir dir("h5");
    const fs::path file = dir.path / "threads.h5";
    constexpr std::size_t workers = 4, rows_each = 25, cols = 8;
    {
        auto f = h5::File::create(file);
        auto ds = f.root().create_dataset<double>("x", {workers * rows_each, cols},
                                                  {.chunk = {rows_each, cols}, .deflate = 1});
        std::vector<std::string> errors(workers);
        std::vector<std::thread> pool;
        for (std::size_t w = 0; w < workers; ++w)
            pool.emplace_back([&, w] {
                std::vector<double> block(rows_each * cols);
                for (std::size_t i = 0; i < block.size(); ++i) block[i] = double(w * rows_each * cols + i);
                for (std::size_t r = 0; r < rows_each; r += 5)
                    ds.write_rows<double>(w * rows_each + r, 5,
                                          std::span<const double>(block).subspan(r * cols, 5 * cols));
                try {
                    ds.write_rows<double>(workers * rows_each, 1, std::span<const double>(block).first(cols));
                } catch (const h5::Error& e) {
                    errors[w] = e.what();
                }
            });
        for (auto& t : pool) t.join();
        for (const auto& e : errors) CHECK_THAT(e, Catch::Contains("rows 100..100"));
    }
    const auto x = h5::File::open_read(file).root().open_dataset("x").read<double>();
    REQUIRE(x.size() == workers * rows_each * cols);
    for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(x[i] == double(i));
}

// Writes the demo file for tests/python/test_h5_layer.py when asked to.
TEST_CASE("h5: xarray demo file", "[h5-demo]") {
    const char* out = std::getenv("ARTEL_H5_DEMO_OUT");
    if (out == nullptr || *out == '\0') {
        SUCCEED("ARTEL_H5_DEMO_OUT not set; nothing written");
        return;
    }
    write_demo(out);
    SUCCEED("wrote " << out);
}

// attach_scales writes each attribute once; what it writes must be what
// H5DSattach_scale writes link by link (read back through the library's own
// dimension-scale API, which h5py and h5netcdf use, and the scales'
// REFERENCE_LIST entries), and it refuses what attach_scale refuses.
TEST_CASE("attach_scales attaches like attach_scale, all at once", "[h5]") {
    TempDir dir("h5");
    const std::vector<std::string> names{"m0", "m1", "m2", "m3", "m4", "qs"};
    auto write = [&](const fs::path& file, bool bulk) {
        auto f = h5::File::create(file);
        auto g = f.root().create_group("g");
        auto year = g.write_dataset<std::int64_t>("year", std::vector<std::int64_t>{1, 2, 3}, {3});
        year.make_dimension_scale();
        auto q = g.write_dataset<double>("quantile", std::vector<double>{0.1, 0.9}, {2});
        q.make_dimension_scale();
        std::vector<h5::Dataset> ds;
        for (std::size_t i = 0; i < 5; ++i) ds.push_back(g.write_dataset<double>(names[i], std::vector<double>(3, 1.0), {3}));
        ds.push_back(g.write_dataset<double>("qs", std::vector<double>(6, 1.0), {2, 3}));
        std::vector<h5::Dataset::ScaleLink> links;
        for (std::size_t i = 0; i < 5; ++i) links.push_back({&ds[i], 0, &year});
        links.push_back({&ds[5], 0, &q});
        links.push_back({&ds[5], 1, &year});
        if (bulk) {
            h5::Dataset::attach_scales(links);
            // refused: a dataset that already has scales, a scale of another length
            CHECK_THAT(message_of([&] { h5::Dataset::attach_scales(std::vector<h5::Dataset::ScaleLink>{{&ds[0], 0, &year}}); }),
                       Catch::Contains("already has dimension scales"));
            auto fresh = g.write_dataset<double>("fresh", std::vector<double>(4, 1.0), {4});
            auto z = g.write_dataset<std::int64_t>("z", std::vector<std::int64_t>{1, 2, 3}, {3});
            z.make_dimension_scale();
            CHECK_THAT(message_of([&] { h5::Dataset::attach_scales(std::vector<h5::Dataset::ScaleLink>{{&fresh, 0, &z}}); }),
                       Catch::Contains("has shape (3,) but axis 0 has length 4"));
            auto fresh3 = g.write_dataset<double>("fresh3", std::vector<double>(3, 1.0), {3});
            CHECK_THAT(message_of([&] { h5::Dataset::attach_scales(std::vector<h5::Dataset::ScaleLink>{{&fresh3, 0, &year}}); }),
                       Catch::Contains("the scale is attached to datasets already"));
        } else {
            for (const auto& l : links) l.dataset->attach_scale(*l.scale, l.dim_index);
        }
    };
    // Every axis's scales by name, and every scale's REFERENCE_LIST as name:axis.
    auto read = [&](const fs::path& file) {
        std::vector<std::string> out;
        const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        REQUIRE(f >= 0);
        for (const auto& n : names) {
            const hid_t d = H5Dopen2(f, ("/g/" + n).c_str(), H5P_DEFAULT);
            const int rank = n == "qs" ? 2 : 1;
            for (int a = 0; a < rank; ++a) {
                std::string line = n + ":" + std::to_string(a) + " " + std::to_string(H5DSget_num_scales(d, a));
                for (const char* sc : {"/g/year", "/g/quantile"}) {
                    const hid_t s = H5Dopen2(f, sc, H5P_DEFAULT);
                    line += std::string(" ") + sc + "=" + std::to_string(H5DSis_attached(d, s, static_cast<unsigned>(a)));
                    H5Dclose(s);
                }
                out.push_back(line);
            }
            H5Dclose(d);
        }
        struct Entry {
            hobj_ref_t ref;
            int dim;
        };
        const hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(Entry));
        H5Tinsert(mt, "dataset", HOFFSET(Entry, ref), H5T_STD_REF_OBJ);
        H5Tinsert(mt, "dimension", HOFFSET(Entry, dim), H5T_NATIVE_INT);
        for (const char* sc : {"/g/year", "/g/quantile"}) {
            const hid_t s = H5Dopen2(f, sc, H5P_DEFAULT);
            const hid_t a = H5Aopen(s, "REFERENCE_LIST", H5P_DEFAULT);
            const hid_t space = H5Aget_space(a);
            std::vector<Entry> e(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
            REQUIRE(H5Aread(a, mt, e.data()) >= 0);
            std::string line = std::string(sc) + " <-";
            for (auto& x : e) {
                char name[64] = {};
                H5Rget_name(s, H5R_OBJECT, &x.ref, name, sizeof(name));
                line += std::string(" ") + name + ":" + std::to_string(x.dim);
            }
            out.push_back(line);
            H5Sclose(space);
            H5Aclose(a);
            H5Dclose(s);
        }
        H5Tclose(mt);
        H5Fclose(f);
        return out;
    };
    write(dir.path / "one_by_one.h5", false);
    write(dir.path / "bulk.h5", true);
    const auto a = read(dir.path / "one_by_one.h5"), b = read(dir.path / "bulk.h5");
    CHECK(a == b);
    CHECK(a.size() == 9);
    CHECK(a.back() == "/g/quantile <- /g/qs:0");
    CHECK(a[a.size() - 2] == "/g/year <- /g/m0:0 /g/m1:0 /g/m2:0 /g/m3:0 /g/m4:0 /g/qs:1");
}
