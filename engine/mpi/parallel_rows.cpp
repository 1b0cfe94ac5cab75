#include "engine/mpi/parallel_rows.hpp"

#include <hdf5.h>

#include <algorithm>
#include <stdexcept>

namespace artel::dist {
namespace {

std::string hdf5_error() {
    std::string text;
    H5Ewalk2(
        H5E_DEFAULT, H5E_WALK_UPWARD,
        [](unsigned n, const H5E_error2_t* err, void* data) -> herr_t {
            if (n == 0 && err->desc) *static_cast<std::string*>(data) = err->desc;
            return 0;
        },
        &text);
    H5Eclear2(H5E_DEFAULT);
    return text.empty() ? "HDF5 gave no detail" : text;
}

[[noreturn]] void fail(const std::string& doing, const std::string& path) {
    throw std::runtime_error("parallel HDF5: cannot " + doing + " in '" + path + "': " + hdf5_error());
}

struct Space {
    hid_t id;
    explicit Space(hid_t i) : id(i) {}
    ~Space() {
        if (id >= 0) H5Sclose(id);
    }
    Space(const Space&) = delete;
    Space& operator=(const Space&) = delete;
};

}  // namespace

ParallelRows::ParallelRows(const std::filesystem::path& partial, const run::ResultSchema& schema, MPI_Comm comm)
    : path_(partial.string()), schema_(schema), sets_(output::row_datasets(schema)) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) fail("set up MPI-IO", path_);
    file_ = H5Fopen(path_.c_str(), H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    if (file_ < 0) fail("open the file on every rank", path_);
    dxpl_ = H5Pcreate(H5P_DATASET_XFER);
    if (dxpl_ < 0 || H5Pset_dxpl_mpio(dxpl_, H5FD_MPIO_COLLECTIVE) < 0) fail("ask for collective transfers", path_);
    for (const auto& d : sets_) {
        const hid_t ds = H5Dopen2(file_, d.path.c_str(), H5P_DEFAULT);
        if (ds < 0) fail("open dataset '" + d.path + "'", path_);
        datasets_.push_back(ds);
    }
}

ParallelRows::~ParallelRows() {
    for (const auto ds : datasets_) H5Dclose(ds);
    if (dxpl_ >= 0) H5Pclose(dxpl_);
    if (file_ >= 0) H5Fclose(file_);
}

void ParallelRows::write(std::vector<run::ReplicationRecord>& records) {
    std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.replication < b.replication; });
    std::vector<double> row, block;
    for (std::size_t j = 0; j < sets_.size(); ++j) {
        const hid_t ds = datasets_[j];
        Space file_space(H5Dget_space(ds));
        const int rank = H5Sget_simple_extent_ndims(file_space.id);
        if (rank < 1) fail("read the shape of '" + sets_[j].path + "'", path_);
        std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
        H5Sget_simple_extent_dims(file_space.id, dims.data(), nullptr);
        if (H5Sselect_none(file_space.id) < 0) fail("select rows", path_);
        // Consecutive replications as one block of rows: one hyperslab each.
        block.clear();
        hsize_t rows = 0;
        std::vector<hsize_t> start(dims.size(), 0), count(dims);
        auto flush = [&](hsize_t first, hsize_t n) {
            if (n == 0) return;
            start[0] = first, count[0] = n;
            if (H5Sselect_hyperslab(file_space.id, H5S_SELECT_OR, start.data(), nullptr, count.data(), nullptr) < 0)
                fail("select rows of '" + sets_[j].path + "'", path_);
        };
        hsize_t run_first = 0, run_rows = 0;
        for (const auto& r : records) {
            output::record_row(schema_, sets_[j], r, row);
            if (row.empty()) continue;
            if (r.replication >= dims[0]) fail("write replication " + std::to_string(r.replication), path_);
            block.insert(block.end(), row.begin(), row.end());
            if (run_rows > 0 && r.replication == run_first + run_rows) {
                ++run_rows;
            } else {
                flush(run_first, run_rows);
                run_first = r.replication, run_rows = 1;
            }
            ++rows;
        }
        flush(run_first, run_rows);
        const hsize_t values = std::max<hsize_t>(1, block.size());
        Space memory(H5Screate_simple(1, &values, nullptr));
        if (rows == 0) H5Sselect_none(memory.id);
        const double none = 0;
        if (H5Dwrite(ds, H5T_NATIVE_DOUBLE, memory.id, file_space.id, dxpl_, block.empty() ? &none : block.data()) < 0)
            fail("write rows of '" + sets_[j].path + "'", path_);
        ++writes_;
    }
    records.clear();
}

void ParallelRows::close() {
    for (const auto ds : datasets_)
        if (H5Dclose(ds) < 0) fail("close a dataset", path_);
    datasets_.clear();
    if (dxpl_ >= 0) H5Pclose(dxpl_);
    dxpl_ = -1;
    const hid_t f = file_;
    file_ = -1;
    if (f >= 0 && H5Fclose(f) < 0) fail("close the file", path_);
}

}  // namespace artel::dist
