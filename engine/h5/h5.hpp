#pragma once
// artel::h5 — a small typed layer over the HDF5 C library (STYLE.md, practice 6).
//
// RAII, move-only handles; typed read/write helpers; chunking and compression;
// every failure throws artel::h5::Error whose message names the file, the
// object path and what was being done, followed by HDF5's own innermost error
// text, e.g.
//   HDF5: cannot write dataset '/arms/a/series/persons' rows 10..19 in
//   'out.h5.partial': rows past the end (dataset has 12 rows)
// HDF5's automatic error printing is switched off; nothing is printed.
// <hdf5.h> is deliberately not included here: user code never sees a raw id.
//
// ---------------------------------------------------------------------------
// Notes for writers: what makes a group readable by xarray (engine="h5netcdf")
// ---------------------------------------------------------------------------
// Checked against h5netcdf 1.1.0 / xarray 2023.01 (Debian 12) — see
// h5netcdf/core.py, Variable._lookup_dimensions and Group.__init__.
//  1. A dimension is a dataset marked as an HDF5 dimension scale
//     (make_dimension_scale: CLASS="DIMENSION_SCALE"). Its NAME in xarray is
//     the dataset's own name (the last path component), not the scale's NAME
//     attribute, so make_dimension_scale() insists the two agree.
//     A 1-D scale becomes an xarray coordinate of the same name.
//  2. Every axis of every dataset in the group being opened must have a scale
//     attached (attach_scale). A dataset with no scales at all fails with
//     "has no dimension scale associated with axis 0" unless the reader
//     passes phony_dims= (and then gets phony_dim_N names); a dataset with
//     some axes labelled and others not fails as "malformed variable".
//     0-d (scalar) datasets need no scale. Prefer attributes for scalars.
//  3. The scale must live in the same group as the variable or in an
//     ancestor group (h5netcdf looks dimensions up in a ChainMap of the group
//     and its parents). attach_scale() refuses anything else. Put the scales
//     in the same group if you want them to show as coordinates when that
//     group is opened: scales in a parent group become dimensions only.
//  4. Scale length must equal the length of the axis it labels (checked).
//  5. Strings: attributes and string datasets are variable-length UTF-8;
//     h5py and xarray return them as str. A string dataset may itself be a
//     dimension scale (a labelled coordinate, e.g. statistic = [mean, sd]).
//  6. Not needed by h5netcdf: _Netcdf4Dimid, _Netcdf4Coordinates,
//     _NCProperties (h5netcdf assigns dimension ids itself; _NCProperties is
//     only provenance). We write none of them. Link and attribute creation
//     order are tracked and indexed in every group (as netCDF-4 does), so
//     children() and attribute listings come back in creation order.
//     Dimension labels (H5DSset_label) are not set: h5netcdf does not hide
//     the DIMENSION_LABELS attribute, so xarray would show it as metadata.
//  7. Attribute 'units' containing "since" makes xarray decode the variable
//     as time; calendar years are plain int64 — give them units="year" (or
//     none), never "years since ...". Attributes named _FillValue,
//     missing_value, scale_factor, add_offset are interpreted by xarray.
//  8. Don't give a non-scale dataset in a subgroup the name of a scale in a
//     parent group: h5netcdf will treat it as that dimension's coordinate.
//
// Floating-point datasets are created with an HDF5 fill value of NaN, so a row
// no worker wrote reads back as NaN, never as a plausible 0. (This is the
// dataset's storage fill value, not a _FillValue attribute; xarray does not
// mask it.) Integer datasets fill with 0.
//
// ---------------------------------------------------------------------------
// Chunking advice
// ---------------------------------------------------------------------------
//  * Compression (deflate, shuffle) needs a chunked layout; asking for it on a
//    contiguous dataset is an error rather than silently ignored.
//  * For a replication × year series written by write_rows, chunk as
//    {rows per write_rows block, all years}: every chunk is then written
//    whole, once. A chunk touched by two write_rows calls is decompressed,
//    patched and recompressed — correct, but slow.
//  * Aim for chunks of about 64 KiB. Files made by this layer have a chunk
//    cache of 96 KiB per open dataset (h5.cpp, kChunkCacheBytes; HDF5's
//    default of 1 MiB made a writer's memory grow with its hundreds of open
//    datasets); chunks larger than the cache bypass it and are re-read for
//    every access.
//  * Tiny chunks (a few hundred bytes) cost more in index than they save.
//  * deflate 1–4 gets nearly all the gain (4 is netCDF's customary level);
//    shuffle helps integers and slowly-varying doubles. Both are lossless.
//  * Chunk extents larger than the dataset are clamped to it. A dataset with
//    a zero-length axis is stored contiguous and uncompressed (HDF5 cannot
//    chunk a fixed zero-length axis).
//
// ---------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------
// Debian's libhdf5 (serial) is built thread-safe: calls from several threads
// are serialised by HDF5's global lock, so workers may each write_rows their
// own rows into the same dataset — safe, but not parallel. Build the file's
// structure (groups, datasets, scales, attributes) on one thread: the
// dimension-scale calls (HDF5 "high level" library) are not atomic.
//
// ---------------------------------------------------------------------------
// Chunks filtered off HDF5's thread (filter_chunk, Dataset::write_chunk)
// ---------------------------------------------------------------------------
// HDF5 filters (shuffles, deflates) a chunk on the thread that makes it leave
// the chunk cache, at the latest when its dataset closes: a writer whose
// hundreds of datasets each hold a partly filled chunk at the end deflates
// them all, one after another, in the closing calls (artel's default run:
// 285 chunks of 32 KiB, ~0.09 s). filter_chunk does what
// HDF5's pipeline would do to a chunk, with the same zlib and the same
// settings, so it stores the same bytes; it makes no HDF5 call and can run on
// any thread. write_chunk stores such bytes as they are (H5Dwrite_chunk) and
// drops HDF5's cached copy of that chunk without writing it.
//
// Lifetime: File::close() refuses to close while Groups or Datasets of the
// file are still alive, so a file that close() returned from is complete on
// disk (safe to rename 'x.partial' to 'x'). The destructor closes quietly.

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace artel::h5 {

// Same type as HDF5's ::hsize_t (checked in h5.cpp), so <hdf5.h> stays out.
using hsize_t = unsigned long long;

class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Element types a dataset may hold. Stored little-endian, IEEE for floats.
template <class T>
concept Element = std::same_as<T, double> || std::same_as<T, float> || std::same_as<T, std::int32_t> ||
    std::same_as<T, std::int64_t> || std::same_as<T, std::uint8_t> || std::same_as<T, std::uint32_t> ||
    std::same_as<T, std::uint64_t>;

struct DatasetOptions {
    std::vector<hsize_t> chunk{};  // empty = contiguous; else one extent per axis
    int deflate = 0;               // 0 = none, 1..9 = zlib level; needs chunk
    bool shuffle = false;          // byte shuffle before deflate; needs chunk
    // Storage allocated (and filled) when the dataset is created, not when
    // first written: what processes writing it with parallel HDF5 need.
    bool allocate_early = false;
};

// How a dataset's chunks are stored: what filter_chunk needs.
struct ChunkLayout {
    std::vector<hsize_t> chunk;       // extents; empty when not chunked
    std::size_t element_size = 0;     // bytes
    bool shuffle = false;             // bytes shuffled, before deflate
    int deflate = 0;                  // zlib level, 0 = none
    std::vector<unsigned char> fill;  // one element of the fill value, as stored
    std::size_t cache_bytes = 0;      // the dataset's chunk cache
    std::size_t chunk_bytes() const;  // bytes of one unfiltered chunk
};

// The stored bytes of one chunk whose elements, as stored (row-major over the
// whole chunk extent, positions past the dataset's end holding the fill
// value), are `raw`.
std::vector<unsigned char> filter_chunk(const ChunkLayout& layout, std::span<const unsigned char> raw);

namespace detail {
// Owns one HDF5 identifier (file, group, dataset, dataspace, type, property
// list, attribute) and closes it with the matching H5?close.
class Handle {
  public:
    Handle() noexcept = default;
    explicit Handle(std::int64_t id) noexcept : id_(id) {}
    Handle(Handle&& other) noexcept : id_(other.id_) { other.id_ = -1; }
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle();

    std::int64_t get() const noexcept { return id_; }
    bool valid() const noexcept { return id_ >= 0; }
    std::int64_t release() noexcept {
        auto id = id_;
        id_ = -1;
        return id;
    }
    void reset() noexcept;  // close quietly

  private:
    std::int64_t id_ = -1;
};
}  // namespace detail

// What groups and datasets share: a place in a file, and attributes.
class Object {
  public:
    const std::string& path() const noexcept { return path_; }       // e.g. "/arms/a/series"
    const std::string& file_path() const noexcept { return file_; }  // the file on disk
    std::string name() const;                                        // last path component

    // Attributes, scalar or 1-D. Setting an existing name replaces it.
    void set_attr(std::string_view name, const std::string& value);  // variable-length UTF-8
    void set_attr(std::string_view name, const char* value) { set_attr(name, std::string(value)); }
    void set_attr(std::string_view name, double value);
    void set_attr(std::string_view name, std::int64_t value);
    void set_attr(std::string_view name, std::uint64_t value);
    template <std::integral I>
    requires(!std::same_as<I, bool> && !std::same_as<I, std::int64_t> &&
             !std::same_as<I, std::uint64_t>) void set_attr(std::string_view name, I value) {
        if constexpr (std::is_signed_v<I>) {
            set_attr(name, static_cast<std::int64_t>(value));
        } else {
            set_attr(name, static_cast<std::uint64_t>(value));
        }
    }
    void set_attr(std::string_view name, const std::vector<double>& values);
    void set_attr(std::string_view name, const std::vector<std::int64_t>& values);

    bool has_attr(std::string_view name) const;
    std::vector<std::string> attr_names() const;           // creation order where tracked
    std::string attr_string(std::string_view name) const;  // fixed or variable length
    double attr_double(std::string_view name) const;       // from any number
    std::int64_t attr_int(std::string_view name) const;    // integers only, range-checked
    std::uint64_t attr_uint(std::string_view name) const;  // integers only, range-checked
    std::vector<double> attr_doubles(std::string_view name) const;
    std::vector<std::int64_t> attr_ints(std::string_view name) const;

  protected:
    Object() = default;
    Object(detail::Handle handle, std::string file, std::string path)
        : handle_(std::move(handle)), file_(std::move(file)), path_(std::move(path)) {}

    std::int64_t id() const;  // the live identifier; throws on an empty handle
    std::string attr_doing(std::string_view verb, std::string_view name) const;

    detail::Handle handle_;
    std::string file_;
    std::string path_;
};

class Dataset : public Object {
  public:
    Dataset() = default;  // empty; every operation on it throws

    std::vector<hsize_t> dims() const;

    // Whole dataset; data.size() must equal the product of dims().
    template <Element T>
    void write(std::span<const T> data);
    template <Element T>
    void write(const std::vector<T>& data) {
        write<T>(std::span<const T>(data));
    }

    // Rows [first_row, first_row + nrows) of axis 0, all other axes whole.
    // Each worker fills only its own rows.
    template <Element T>
    void write_rows(hsize_t first_row, hsize_t nrows, std::span<const T> data);
    template <Element T>
    void write_rows(hsize_t first_row, hsize_t nrows, const std::vector<T>& data) {
        write_rows<T>(first_row, nrows, std::span<const T>(data));
    }

    // T must match the stored type exactly (no silent narrowing or widening).
    template <Element T>
    std::vector<T> read() const;
    template <Element T>
    std::vector<T> read_rows(hsize_t first_row, hsize_t nrows) const;
    // As read(), into `out` (resized; its memory reused).
    template <Element T>
    void read_into(std::vector<T>& out) const;
    std::vector<std::string> read_strings() const;  // 1-D string dataset

    // Chunk layout and filters; throws for filters other than those
    // create_dataset sets (shuffle, then deflate).
    ChunkLayout chunk_layout() const;
    // Stores one chunk filtered by filter_chunk with this dataset's `layout`,
    // at `offset` (element coordinates of its first element, a multiple of
    // the chunk extents).
    void write_chunk(const ChunkLayout& layout, std::span<const hsize_t> offset,
                     std::span<const unsigned char> filtered);

    // Dimension scales (netCDF-4 / xarray). dim_name, if given, must equal
    // this dataset's name: h5netcdf names dimensions by dataset name.
    void make_dimension_scale(std::string_view dim_name = {});
    bool is_dimension_scale() const;
    // Label axis dim_index with `scale`, which must be a dimension scale of the
    // same length in this dataset's group or an ancestor group.
    void attach_scale(const Dataset& scale, unsigned dim_index);

    // Many attachments at once: as attach_scale for every link, with the same
    // checks, for datasets and scales that have no attachment yet (checked). H5DSattach_scale rewrites
    // the scale's REFERENCE_LIST and the dataset's DIMENSION_LIST attribute on
    // every call (~70 µs each; a result file has ~4000 attachments), so here
    // each attribute is written once. The library makes the first
    // attachment, and the attribute types are copied from it.
    struct ScaleLink {
        Dataset* dataset;
        unsigned dim_index;
        const Dataset* scale;
    };
    static void attach_scales(std::span<const ScaleLink> links);

  private:
    // attach_scale's checks, which need no dimension-scale call
    void check_attachable(const Dataset& scale, unsigned dim_index, const std::string& doing) const;
    void check_attachable(const Dataset& scale, unsigned dim_index, const std::string& doing,
                          const std::vector<hsize_t>& dims, bool self_is_scale, bool scale_is_scale,
                          const std::vector<hsize_t>& scale_dims) const;
    friend class Group;
    Dataset(detail::Handle handle, std::string file, std::string path)
        : Object(std::move(handle), std::move(file), std::move(path)) {}
};

class Group : public Object {
  public:
    Group() = default;  // empty; every operation on it throws

    Group create_group(std::string_view name);
    Group open_group(std::string_view name) const;
    bool has(std::string_view name) const;      // a link of that name (or path) exists
    std::vector<std::string> children() const;  // creation order where tracked

    template <Element T>
    Dataset create_dataset(std::string_view name, std::vector<hsize_t> dims,
                           const DatasetOptions& options = {});
    // As create_dataset, then write (with the checks write makes, on what
    // was just created rather than asked of HDF5 again).
    template <Element T>
    Dataset write_dataset(std::string_view name, std::span<const T> data, std::vector<hsize_t> dims,
                          const DatasetOptions& options = {});
    template <Element T>
    Dataset write_dataset(std::string_view name, const std::vector<T>& data, std::vector<hsize_t> dims,
                          const DatasetOptions& options = {}) {
        return write_dataset<T>(name, std::span<const T>(data), std::move(dims), options);
    }
    // 1-D variable-length UTF-8 strings.
    Dataset write_strings(std::string_view name, const std::vector<std::string>& values);
    Dataset open_dataset(std::string_view name) const;

  private:
    friend class File;
    Group(detail::Handle handle, std::string file, std::string path)
        : Object(std::move(handle), std::move(file), std::move(path)) {}
    std::string child_path(std::string_view name) const;
};

class File {
  public:
    static File create(const std::filesystem::path& path);  // truncates
    // Creates a file that must not exist yet (O_CREAT | O_EXCL): never
    // follows a link planted at `path`, never replaces anything.
    static File create_new(const std::filesystem::path& path);
    static File open_read(const std::filesystem::path& path);
    static File open_rw(const std::filesystem::path& path);

    File(File&&) noexcept = default;
    File& operator=(File&&) noexcept = default;
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    ~File() = default;  // closes quietly (HDF5 finishes when the last object closes)

    Group root() const;
    void flush();  // everything written so far reaches the disk
    const std::string& path() const noexcept { return path_; }
    bool is_open() const noexcept { return handle_.valid(); }
    // Throws if the file cannot be closed or if groups/datasets of it are
    // still alive. Closing a closed file does nothing.
    void close();

  private:
    File(detail::Handle handle, std::string path) : handle_(std::move(handle)), path_(std::move(path)) {}
    detail::Handle handle_;
    std::string path_;
};

}  // namespace artel::h5
