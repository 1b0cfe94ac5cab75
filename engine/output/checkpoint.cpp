#include "engine/output/checkpoint.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace artel::output {
namespace {

// Version 2 of the journal adds the identity of the file --force agreed to
// replace; a version-1 journal (artel 0.5) is refused as another engine's.
constexpr char kMagic[8] = {'A', 'R', 'T', 'E', 'L', 'C', 'K', '2'};
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
    h = fnv1a(r.trajectories.data(), r.trajectories.size() * 8, h);
    h = fnv1a(r.parameters.data(), r.parameters.size() * 8, h);
    return fnv1a(r.regions.data(), r.regions.size() * 8, h);
}

struct Shape {
    std::uint64_t arms, series, years, events, hist_cells, traj_households, traj_vars, traj_reps, replications,
        parameters, region_values;
    std::uint64_t traj_values() const { return arms * traj_households * traj_vars * (years + 1); }
    std::uint64_t payload(bool traj) const {
        return 8 * (arms * series * years + arms * series + arms * events + arms * hist_cells +
                    (traj ? traj_values() : 0) + parameters + region_values);
    }
    // magic, replication, byte count, payload, checksum
    std::uint64_t record_bytes(bool traj) const { return 4 + 8 + 8 + payload(traj) + 8; }
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
            static_cast<std::uint64_t>(s.replications),
            s.parameters.size(),
            s.n_arms() * s.regional.size() * static_cast<std::uint64_t>(s.years) * static_cast<std::uint64_t>(s.regions)};
}

std::string in_quotes(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

std::string io_error(const std::filesystem::path& p, const std::string& what, int err = errno) {
    return "checkpoint " + in_quotes(p) + ": cannot " + what + ": " + std::strerror(err);
}

void write_string(std::FILE* f, const std::string& s, const std::filesystem::path& p) {
    const std::uint64_t n = s.size();
    if (std::fwrite(&n, 8, 1, f) != 1 || (n && std::fwrite(s.data(), 1, n, f) != n))
        throw std::runtime_error(io_error(p, "write the header"));
}

// Reads at an offset without moving the stream (header() is const).
struct Reader {
    int fd;
    std::uint64_t offset = 0;
    bool read(void* data, std::size_t n) {
        auto* p = static_cast<char*>(data);
        while (n > 0) {
            const auto got = pread(fd, p, n, static_cast<off_t>(offset));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) return false;
            p += got, n -= static_cast<std::size_t>(got), offset += static_cast<std::uint64_t>(got);
        }
        return true;
    }
    bool read_string(std::string& s) {
        std::uint64_t n = 0;
        if (!read(&n, 8) || n > (std::uint64_t{1} << 26)) return false;
        s.assign(n, '\0');
        return read(s.data(), n);
    }
};

bool read_exact(std::FILE* f, void* data, std::size_t n) { return n == 0 || std::fread(data, 1, n, f) == n; }

// The first line where two texts differ, for the refusal message.
std::string first_difference(const std::string& a, const std::string& b) {
    std::istringstream x(a), y(b);
    std::string la, lb;
    for (int line = 1;; ++line) {
        const bool ga = static_cast<bool>(std::getline(x, la)), gb = static_cast<bool>(std::getline(y, lb));
        if (!ga && !gb) return "";
        if (!ga) la = "<end>";
        if (!gb) lb = "<end>";
        if (la != lb) return "checkpoint has '" + la + "', this run has '" + lb + "'";
    }
}

}  // namespace

std::string scenario_identity(std::string_view text) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const auto line = text.substr(pos, end - pos);
        const auto first = line.find_first_not_of(" \t");
        if (first != std::string_view::npos && line[first] != '#') {
            out.append(line);
            out += '\n';
        }
        pos = end + 1;
    }
    return out;
}

std::filesystem::path checkpoint_path(const std::filesystem::path& final_path) {
    auto p = final_path;
    p += ".checkpoint";
    return p;
}

std::optional<CheckpointJournal> CheckpointJournal::acquire(const std::filesystem::path& path, bool create) {
    // O_NONBLOCK: opening a FIFO or a device planted at this name must not
    // block or act on the device before fstat says what it is.
    int fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT) {
        if (!create) return std::nullopt;
        fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST)
            throw OutputBusy(in_quotes(path) + " appeared while artel was creating it: another artel run is starting "
                             "on this output");
    }
    if (fd < 0) {
        const int err = errno;
        if (err == ELOOP)
            throw ResumeRefused(in_quotes(path) + " is a symbolic link: artel did not create it and never writes "
                                "through a link; remove it, or choose another output name");
        throw std::runtime_error(io_error(path, "open it", err));
    }
    auto refuse = [&](const std::string& why) {
        ::close(fd);
        throw ResumeRefused(in_quotes(path) + " " + why);
    };
    struct stat st {};
    if (fstat(fd, &st) != 0) refuse("cannot be examined: " + std::string(std::strerror(errno)));
    if (!S_ISREG(st.st_mode))
        refuse("is not a regular file: artel did not create it and will not use it; remove it, or choose another "
               "output name");
    if (st.st_uid != geteuid())
        refuse("belongs to another user (uid " + std::to_string(st.st_uid) +
               "): artel uses only checkpoints it created");
    // Starting over empties the journal: never a file that has another name.
    if (st.st_nlink != 1)
        refuse("has " + std::to_string(st.st_nlink) +
               " hard links: artel did not make them and will not use it; remove it, or choose another output name");
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(fd);
        if (err == EWOULDBLOCK)
            throw OutputBusy("another artel run is using this output now (its checkpoint " + in_quotes(path) +
                             " is locked): wait for it to finish, or choose another output name");
        throw std::runtime_error(io_error(path, "lock it", err));
    }
    // The name may have been removed or replaced between open() and flock():
    // then the lock guards nothing.
    struct stat now {};
    if (lstat(path.c_str(), &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
        ::close(fd);
        throw OutputBusy(in_quotes(path) + " changed while artel was opening it: another artel run is using this "
                         "output");
    }
    const int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) refuse("cannot be used: fcntl failed");
    std::FILE* f = fdopen(fd, "r+b");
    if (!f) {
        const int err = errno;
        ::close(fd);
        throw std::runtime_error(io_error(path, "open it", err));
    }
    return CheckpointJournal(path, f);
}

std::optional<CheckpointJournal::Header> CheckpointJournal::header() const {
    Reader in{fileno(file_)};
    std::fflush(file_);
    struct stat st {};
    if (fstat(fileno(file_), &st) != 0) return std::nullopt;
    char magic[sizeof kMagic];
    Header h;
    h.bytes = static_cast<std::uint64_t>(st.st_size);
    if (!in.read(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0) return std::nullopt;
    if (!in.read_string(h.id.scenario_text) || !in.read_string(h.id.engine_version) ||
        !in.read_string(h.id.git_revision) || !in.read(&h.replaces.dev, 8) || !in.read(&h.replaces.ino, 8))
        return std::nullopt;
    Shape s{};
    if (!in.read(&s, sizeof s)) return std::nullopt;
    h.header_bytes = in.offset;
    return h;
}

bool CheckpointJournal::has_records() const {
    const auto h = header();
    return h && h->bytes > h->header_bytes;
}

void CheckpointJournal::start(const JournalIdentity& id, const run::ResultSchema& schema, FileId replaces) {
    std::fflush(file_);
    if (ftruncate(fileno(file_), 0) != 0) throw std::runtime_error(io_error(path_, "empty it"));
    std::rewind(file_);
    write(kMagic, sizeof kMagic, "write the header");
    write_string(file_, scenario_identity(id.scenario_text), path_);
    write_string(file_, id.engine_version, path_);
    write_string(file_, id.git_revision, path_);
    write(&replaces.dev, 8, "write the header");
    write(&replaces.ino, 8, "write the header");
    const Shape s = shape_of(schema);
    write(&s, sizeof s, "write the header");
    sync();
    replaces_ = replaces;
}

ResumeReport CheckpointJournal::resume(const JournalIdentity& id, const run::ResultSchema& schema,
                                       std::vector<run::ReplicationRecord>& records) {
    char magic[sizeof kMagic];
    std::fflush(file_);
    std::rewind(file_);
    if (!read_exact(file_, magic, sizeof magic))
        throw ResumeRefused("checkpoint " + in_quotes(path_) +
                            " has no whole header (the run was stopped while it began): it holds no finished "
                            "replication; start over with --force");
    if (std::memcmp(magic, kMagic, 7) == 0 && magic[7] != kMagic[7])
        throw ResumeRefused("checkpoint " + in_quotes(path_) + " was written by another version of artel (journal "
                            "version " + std::string(1, magic[7]) + ", this artel writes " +
                            std::string(1, kMagic[7]) + "): resume with that version, or start over with --force");
    if (std::memcmp(magic, kMagic, sizeof kMagic) != 0)
        throw ResumeRefused(in_quotes(path_) + " is not an artel checkpoint");
    const auto h = header();
    if (!h)
        throw ResumeRefused("checkpoint " + in_quotes(path_) +
                            " has a damaged header: it cannot be resumed; start over with --force");
    if (h->id.engine_version != id.engine_version || h->id.git_revision != id.git_revision)
        throw ResumeRefused("checkpoint " + in_quotes(path_) + " was written by artel " + h->id.engine_version + " (" +
                            h->id.git_revision + "), this is artel " + id.engine_version + " (" + id.git_revision +
                            "): resume with the same build, or start over with --force");
    const auto mine = scenario_identity(id.scenario_text);
    if (h->id.scenario_text != mine)
        throw ResumeRefused("checkpoint " + in_quotes(path_) + " was written for a different scenario (" +
                            first_difference(h->id.scenario_text, mine) +
                            "): resume with the same scenario and options, or start over with --force");
    Shape s{};
    std::fseek(file_, static_cast<long>(h->header_bytes - sizeof s), SEEK_SET);
    if (!read_exact(file_, &s, sizeof s) || !(s == shape_of(schema)))
        throw ResumeRefused("checkpoint " + in_quotes(path_) + " does not match the run's shape");
    replaces_ = h->replaces;

    ResumeReport report;
    records.clear();
    // Records come in replication order from one process, in the order they
    // reached rank 0 from several (engine/mpi/): any order, each replication
    // once. The first record that is not whole, intact and new ends the
    // journal.
    std::vector<bool> seen(static_cast<std::size_t>(s.replications), false);
    long good_end = std::ftell(file_);
    for (;;) {
        std::uint32_t magic_r = 0;
        std::uint64_t rep = 0, bytes = 0, checksum = 0;
        if (!read_exact(file_, &magic_r, 4) || magic_r != kRecordMagic || !read_exact(file_, &rep, 8) ||
            !read_exact(file_, &bytes, 8) || rep >= s.replications || seen[static_cast<std::size_t>(rep)])
            break;
        const bool traj = rep < s.traj_reps;
        if (bytes != s.payload(traj)) break;
        run::ReplicationRecord r;
        r.shape(schema, traj);
        r.replication = rep;
        bool ok = read_exact(file_, r.series.data(), r.series.size() * 8) &&
                  read_exact(file_, r.start.data(), r.start.size() * 8) &&
                  read_exact(file_, r.events.data(), r.events.size() * 8) &&
                  read_exact(file_, r.histograms.data(), r.histograms.size() * 8) &&
                  read_exact(file_, r.trajectories.data(), r.trajectories.size() * 8) &&
                  read_exact(file_, r.parameters.data(), r.parameters.size() * 8) &&
                  read_exact(file_, r.regions.data(), r.regions.size() * 8) && read_exact(file_, &checksum, 8);
        if (!ok) break;
        if (record_checksum(r) != checksum) break;
        seen[static_cast<std::size_t>(rep)] = true;
        records.push_back(std::move(r));
        good_end = std::ftell(file_);
    }
    report.records = records.size();
    report.dropped_bytes = h->bytes - static_cast<std::uint64_t>(good_end);
    // Whole records the dropped bytes would hold: in order, those that come
    // next in replication order (the journal of one process); then at the
    // size of a record without trajectories.
    std::uint64_t next = 0;
    while (next < s.replications && seen[static_cast<std::size_t>(next)]) ++next;
    for (std::uint64_t rep = next, left = report.dropped_bytes; left > 0; ++rep) {
        const auto size = s.record_bytes(rep < s.traj_reps);
        if (left < size) break;
        left -= size;
        ++report.dropped_records;
    }
    // Cut a torn or damaged tail so that appends continue from the last
    // intact record.
    std::fflush(file_);
    if (report.dropped_bytes > 0 && ftruncate(fileno(file_), good_end) != 0)
        throw std::runtime_error(io_error(path_, "cut a damaged record"));
    std::fseek(file_, good_end, SEEK_SET);
    return report;
}

CheckpointJournal::CheckpointJournal(CheckpointJournal&& o) noexcept
    : path_(std::move(o.path_)), file_(o.file_), replaces_(o.replaces_) {
    o.file_ = nullptr;
}

CheckpointJournal& CheckpointJournal::operator=(CheckpointJournal&& o) noexcept {
    if (this != &o) {
        if (file_) std::fclose(file_);
        path_ = std::move(o.path_);
        file_ = o.file_;
        replaces_ = o.replaces_;
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
                                     r.trajectories.size() + r.parameters.size() + r.regions.size());
    const std::uint64_t h = record_checksum(r);
    const char* what = "write a finished replication";
    write(&kRecordMagic, 4, what);
    write(&rep, 8, what);
    write(&bytes, 8, what);
    write(r.series.data(), r.series.size() * 8, what);
    write(r.start.data(), r.start.size() * 8, what);
    write(r.events.data(), r.events.size() * 8, what);
    write(r.histograms.data(), r.histograms.size() * 8, what);
    write(r.trajectories.data(), r.trajectories.size() * 8, what);
    write(r.parameters.data(), r.parameters.size() * 8, what);
    write(r.regions.data(), r.regions.size() * 8, what);
    write(&h, 8, what);
}

void CheckpointJournal::sync() {
    if (std::fflush(file_) != 0 || fsync(fileno(file_)) != 0)
        throw std::runtime_error(io_error(path_, "write finished replications to disk"));
}

void CheckpointJournal::remove() {
    if (!file_) return;
    struct stat mine {}, named {};
    // Only the file this object locked: never a file put under its name since.
    if (fstat(fileno(file_), &mine) == 0 && lstat(path_.c_str(), &named) == 0 && mine.st_dev == named.st_dev &&
        mine.st_ino == named.st_ino)
        ::unlink(path_.c_str());
    std::fclose(file_);
    file_ = nullptr;
}

}  // namespace artel::output
