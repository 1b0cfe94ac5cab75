#include "engine/output/checkpoint.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace artel::output {
namespace {

constexpr char kMagic[8] = {'A', 'R', 'T', 'E', 'L', 'C', 'K', '1'};
constexpr std::uint32_t kRecordMagic = 0x44524352u;  // "RCRD"

std::uint64_t fnv1a(const void* data, std::size_t n, std::uint64_t h = 1469598103934665603ull) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

std::uint64_t record_checksum(const run::ReplicationRecord& r) {
    const std::uint64_t rep = r.replication;
    std::uint64_t h = fnv1a(&rep, 8);
    h = fnv1a(r.series.data(), r.series.size() * 8, h);
    h = fnv1a(r.start.data(), r.start.size() * 8, h);
    h = fnv1a(r.events.data(), r.events.size() * 8, h);
    h = fnv1a(r.histograms.data(), r.histograms.size() * 8, h);
    return fnv1a(r.trajectories.data(), r.trajectories.size() * 8, h);
}

struct Shape {
    std::uint64_t arms, series, years, events, hist_cells, traj_households, traj_vars, traj_reps, replications;
    std::uint64_t traj_values() const { return arms * traj_households * traj_vars * (years + 1); }
    std::uint64_t payload(bool traj) const {
        return 8 * (arms * series * years + arms * series + arms * events + arms * hist_cells +
                    (traj ? traj_values() : 0));
    }
    bool operator==(const Shape&) const = default;
};

Shape shape_of(const run::ResultSchema& s) {
    return {s.n_arms(),
            s.series.size(),
            static_cast<std::uint64_t>(s.years),
            s.events.size(),
            s.histogram_cells(),
            s.trajectory_households.size(),
            s.trajectory_vars.size(),
            static_cast<std::uint64_t>(s.trajectory_replications),
            static_cast<std::uint64_t>(s.replications)};
}

std::string io_error(const std::filesystem::path& p, const std::string& what) {
    return "checkpoint '" + p.string() + "': cannot " + what + ": " + std::strerror(errno);
}

void write_string(std::FILE* f, const std::string& s, const std::filesystem::path& p) {
    const std::uint64_t n = s.size();
    if (std::fwrite(&n, 8, 1, f) != 1 || (n && std::fwrite(s.data(), 1, n, f) != n))
        throw std::runtime_error(io_error(p, "write the header"));
}

bool read_exact(std::FILE* f, void* data, std::size_t n) { return n == 0 || std::fread(data, 1, n, f) == n; }

std::string read_string(std::FILE* f, const std::filesystem::path& p) {
    std::uint64_t n = 0;
    if (!read_exact(f, &n, 8) || n > (std::uint64_t{1} << 30))
        throw ResumeRefused("checkpoint '" + p.string() + "' has a damaged header");
    std::string s(n, '\0');
    if (!read_exact(f, s.data(), n)) throw ResumeRefused("checkpoint '" + p.string() + "' has a damaged header");
    return s;
}

// The first line where two texts differ, for the refusal message.
std::string first_difference(const std::string& a, const std::string& b) {
    std::istringstream x(a), y(b);
    std::string la, lb;
    for (int line = 1;; ++line) {
        const bool ga = static_cast<bool>(std::getline(x, la)), gb = static_cast<bool>(std::getline(y, lb));
        if (!ga && !gb) return "";
        if (!ga) la = "<end>";
        if (!gb) lb = "<end>";
        if (la != lb)
            return "resolved scenario line " + std::to_string(line) + ": checkpoint has '" + la + "', now '" + lb + "'";
    }
}

}  // namespace

std::filesystem::path checkpoint_path(const std::filesystem::path& final_path) {
    auto p = final_path;
    p += ".checkpoint";
    return p;
}

CheckpointJournal CheckpointJournal::create(const std::filesystem::path& path, const JournalIdentity& id,
                                            const run::ResultSchema& schema) {
    // The header is written under a temporary name and renamed when synced,
    // so a journal that exists always has a whole header.
    auto tmp = path;
    tmp += ".new";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw std::runtime_error(io_error(tmp, "create it"));
    CheckpointJournal j(tmp, f);
    j.write(kMagic, sizeof kMagic, "write the header");
    write_string(f, id.scenario_text, tmp);
    write_string(f, id.engine_version, tmp);
    write_string(f, id.git_revision, tmp);
    const Shape s = shape_of(schema);
    j.write(&s, sizeof s, "write the header");
    j.sync();
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw std::runtime_error("checkpoint '" + path.string() + "': cannot create it: " + ec.message());
    j.path_ = path;
    return j;
}

CheckpointJournal CheckpointJournal::resume(const std::filesystem::path& path, const JournalIdentity& id,
                                            const run::ResultSchema& schema,
                                            std::vector<run::ReplicationRecord>& records) {
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    if (!f) throw ResumeRefused(io_error(path, "open it to resume"));
    CheckpointJournal j(path, f);
    char magic[sizeof kMagic];
    if (!read_exact(f, magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0)
        throw ResumeRefused("'" + path.string() + "' is not an artel checkpoint");
    const auto scenario = read_string(f, path);
    const auto engine = read_string(f, path);
    const auto revision = read_string(f, path);
    if (engine != id.engine_version || revision != id.git_revision)
        throw ResumeRefused("checkpoint '" + path.string() + "' was written by artel " + engine + " (" + revision +
                            "), this is artel " + id.engine_version + " (" + id.git_revision +
                            "): resume with the same build, or start over with --force");
    if (scenario != id.scenario_text)
        throw ResumeRefused("checkpoint '" + path.string() + "' was written for a different scenario (" +
                            first_difference(scenario, id.scenario_text) +
                            "): resume with the same scenario and options, or start over with --force");
    Shape s{};
    if (!read_exact(f, &s, sizeof s) || !(s == shape_of(schema)))
        throw ResumeRefused("checkpoint '" + path.string() + "' does not match the run's shape");

    records.clear();
    long good_end = std::ftell(f);
    for (std::uint64_t expected = 0;; ++expected) {
        std::uint32_t magic_r = 0;
        std::uint64_t rep = 0, bytes = 0, checksum = 0;
        if (!read_exact(f, &magic_r, 4) || magic_r != kRecordMagic || !read_exact(f, &rep, 8) ||
            !read_exact(f, &bytes, 8) || rep != expected)
            break;
        const bool traj = rep < s.traj_reps;
        if (bytes != s.payload(traj)) break;
        run::ReplicationRecord r;
        r.shape(schema, traj);
        r.replication = rep;
        bool ok = read_exact(f, r.series.data(), r.series.size() * 8) &&
                  read_exact(f, r.start.data(), r.start.size() * 8) &&
                  read_exact(f, r.events.data(), r.events.size() * 8) &&
                  read_exact(f, r.histograms.data(), r.histograms.size() * 8) &&
                  read_exact(f, r.trajectories.data(), r.trajectories.size() * 8) && read_exact(f, &checksum, 8);
        if (!ok) break;
        if (record_checksum(r) != checksum) break;
        records.push_back(std::move(r));
        good_end = std::ftell(f);
    }
    // Drop a torn tail so that appends continue from the last intact record.
    std::fflush(f);
    if (ftruncate(fileno(f), good_end) != 0) throw std::runtime_error(io_error(path, "truncate a torn record"));
    std::fseek(f, good_end, SEEK_SET);
    return j;
}

CheckpointJournal::CheckpointJournal(CheckpointJournal&& o) noexcept : path_(std::move(o.path_)), file_(o.file_) {
    o.file_ = nullptr;
}

CheckpointJournal& CheckpointJournal::operator=(CheckpointJournal&& o) noexcept {
    if (this != &o) {
        if (file_) std::fclose(file_);
        path_ = std::move(o.path_);
        file_ = o.file_;
        o.file_ = nullptr;
    }
    return *this;
}

CheckpointJournal::~CheckpointJournal() {
    if (file_) std::fclose(file_);
}

void CheckpointJournal::write(const void* data, std::size_t bytes, const char* what) {
    if (bytes && std::fwrite(data, 1, bytes, file_) != bytes) throw std::runtime_error(io_error(path_, what));
}

void CheckpointJournal::append(const run::ReplicationRecord& r) {
    const std::uint64_t rep = r.replication;
    const std::uint64_t bytes = 8 * (r.series.size() + r.start.size() + r.events.size() + r.histograms.size() +
                                     r.trajectories.size());
    const std::uint64_t h = record_checksum(r);
    const char* what = "write a finished replication (disk full?)";
    write(&kRecordMagic, 4, what);
    write(&rep, 8, what);
    write(&bytes, 8, what);
    write(r.series.data(), r.series.size() * 8, what);
    write(r.start.data(), r.start.size() * 8, what);
    write(r.events.data(), r.events.size() * 8, what);
    write(r.histograms.data(), r.histograms.size() * 8, what);
    write(r.trajectories.data(), r.trajectories.size() * 8, what);
    write(&h, 8, what);
}

void CheckpointJournal::sync() {
    if (std::fflush(file_) != 0 || fsync(fileno(file_)) != 0)
        throw std::runtime_error(io_error(path_, "write finished replications to disk (disk full?)"));
}

void CheckpointJournal::remove() {
    if (file_) std::fclose(file_);
    file_ = nullptr;
    std::error_code ec;
    std::filesystem::remove(path_, ec);
}

}  // namespace artel::output
