// Chunks filtered off HDF5's thread (h5::filter_chunk, Dataset::write_chunk):
// the stored bytes are those HDF5's own pipeline stores, and a chunk written
// this way replaces the copy HDF5 holds in its chunk cache.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <hdf5.h>

#include "engine/h5/h5.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
namespace h5 = artel::h5;
using artel::test::TempDir;

namespace {

// The stored bytes and filter mask of the chunk at `offset` (H5Dread_chunk).
struct StoredChunk {
    std::uint32_t mask = 0;
    std::vector<unsigned char> bytes;
    bool operator==(const StoredChunk&) const = default;
};
StoredChunk stored_chunk(const fs::path& file, const char* dataset, std::vector<hsize_t> offset) {
    const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    const hid_t d = H5Dopen2(f, dataset, H5P_DEFAULT);
    hsize_t size = 0;
    REQUIRE(H5Dget_chunk_storage_size(d, offset.data(), &size) >= 0);
    StoredChunk c;
    c.bytes.resize(size);
    REQUIRE(H5Dread_chunk(d, H5P_DEFAULT, offset.data(), &c.mask, c.bytes.data()) >= 0);
    H5Dclose(d);
    H5Fclose(f);
    return c;
}

// Rows [first, first + chunk rows) of row-major `values` (`cols` per row) as
// one raw chunk, past the end the fill value.
std::vector<unsigned char> raw_chunk(const h5::ChunkLayout& layout, const std::vector<double>& values,
                                     std::size_t cols, std::size_t first) {
    std::vector<unsigned char> raw(layout.chunk_bytes());
    const std::size_t rows = values.size() / cols;
    for (std::size_t i = 0; i < layout.chunk[0] * cols; ++i) {
        const std::size_t r = first + i / cols;
        const unsigned char* from = r < rows ? reinterpret_cast<const unsigned char*>(&values[first * cols + i])
                                             : layout.fill.data();
        std::memcpy(raw.data() + i * sizeof(double), from, sizeof(double));
    }
    return raw;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("h5: filter_chunk + write_chunk store what HDF5's pipeline stores", "[h5]") {
    // 6 rows of 3 in chunks of 4 rows: the second chunk runs 2 rows past the end.
    constexpr std::size_t rows = 6, cols = 3;
    std::vector<double> values(rows * cols);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = 1923.0 + 0.37 * double(i * i % 11);
    values[4] = std::numeric_limits<double>::quiet_NaN();
    values[7] = -0.0;
    const h5::DatasetOptions options{{4, cols}, 4, true};
    const TempDir dir("h5-chunks");
    const auto path = dir.path / "chunks.h5";
    {
        auto file = h5::File::create(path);
        auto root = file.root();
        auto by_hdf5 = root.create_dataset<double>("by_hdf5", {rows, cols}, options);
        by_hdf5.write(values);  // HDF5 filters both chunks when the dataset closes
        auto by_us = root.create_dataset<double>("by_us", {rows, cols}, options);
        by_us.write(values);  // both chunks now dirty in HDF5's cache...
        const auto layout = by_us.chunk_layout();
        CHECK(layout.chunk == std::vector<h5::hsize_t>{4, cols});
        CHECK(layout.element_size == sizeof(double));
        CHECK(layout.shuffle);
        CHECK(layout.deflate == 4);
        double fill = 0;
        REQUIRE(layout.fill.size() == sizeof fill);
        std::memcpy(&fill, layout.fill.data(), sizeof fill);
        CHECK(std::isnan(fill));
        CHECK(layout.cache_bytes >= layout.chunk_bytes());
        for (std::size_t first : {0, 4}) {  // ...and replaced, unwritten, by ours
            const std::vector<h5::hsize_t> offset{first, 0};
            by_us.write_chunk(layout, offset, h5::filter_chunk(layout, raw_chunk(layout, values, cols, first)));
        }
        std::vector<double> back;
        by_us.read_into(back);  // read from the file: the chunks left the cache
        CHECK(same_bits(back, values));
    }
    auto file = h5::File::open_read(path);
    CHECK(same_bits(file.root().open_dataset("by_us").read<double>(), values));
    CHECK(same_bits(file.root().open_dataset("by_hdf5").read<double>(), values));
    for (hsize_t first : {0, 4}) {
        const auto ours = stored_chunk(path, "by_us", {first, 0});
        CHECK(ours.mask == 0);
        CHECK(ours.bytes.size() < 4 * cols * sizeof(double) + 64);
        CHECK(ours == stored_chunk(path, "by_hdf5", {first, 0}));
    }
}

TEST_CASE("h5: write_chunk replaces the chunk HDF5 holds in its cache", "[h5]") {
    const std::vector<double> old_rows{1, 2, 3, 4}, new_rows{5, 6, 7, 8};
    const TempDir dir("h5-chunks");
    const auto path = dir.path / "chunks.h5";
    {
        auto file = h5::File::create(path);
        auto d = file.root().create_dataset<double>("x", {4}, h5::DatasetOptions{{4}, 1, false});
        d.write_rows<double>(0, 4, old_rows);  // in the cache, not yet on disk
        const auto layout = d.chunk_layout();
        CHECK_FALSE(layout.shuffle);
        const auto raw = reinterpret_cast<const unsigned char*>(new_rows.data());
        d.write_chunk(layout, std::vector<h5::hsize_t>{0}, h5::filter_chunk(layout, {raw, raw + 4 * sizeof(double)}));
    }  // closing the dataset must not write the cached old rows over ours
    CHECK(h5::File::open_read(path).root().open_dataset("x").read<double>() == new_rows);
}

TEST_CASE("h5: chunk layouts that filter_chunk does not handle", "[h5]") {
    const TempDir dir("h5-chunks");
    const auto path = dir.path / "chunks.h5";
    {  // a filter create_dataset never sets
        hsize_t n = 8;
        const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        const hid_t space = H5Screate_simple(1, &n, nullptr);
        const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_chunk(dcpl, 1, &n);
        H5Pset_fletcher32(dcpl);
        H5Dclose(H5Dcreate2(f, "checksummed", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
        H5Pclose(dcpl);
        H5Sclose(space);
        H5Fclose(f);
    }
    auto file = h5::File::open_rw(path);
    auto root = file.root();
    CHECK_THROWS_WITH(root.open_dataset("checksummed").chunk_layout(),
                      Catch::Contains("is not one that filter_chunk applies"));
    CHECK(root.create_dataset<double>("contiguous", {3}).chunk_layout().chunk.empty());
    const auto ints = root.create_dataset<std::int32_t>("ints", {8}, h5::DatasetOptions{{8}, 0, true}).chunk_layout();
    CHECK(ints.element_size == 4);
    CHECK(ints.fill == std::vector<unsigned char>(4, 0));  // integers fill with 0
    CHECK(ints.deflate == 0);
    // shuffle alone: byte k of every element together, nothing compressed
    std::vector<unsigned char> raw(32);
    for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<unsigned char>(i + 1);
    CHECK(h5::filter_chunk(ints, raw) == std::vector<unsigned char>{1, 5, 9,  13, 17, 21, 25, 29, 2, 6, 10,
                                                                    14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23,
                                                                    27, 31, 4, 8, 12, 16, 20, 24, 28, 32});
    CHECK_THROWS_AS(h5::filter_chunk(ints, std::vector<unsigned char>(7)), h5::Error);  // not one chunk
    CHECK_THROWS_WITH(root.open_dataset("ints").write_chunk(ints, std::vector<h5::hsize_t>{4}, raw),
                      Catch::Contains("not on a chunk boundary"));
}
