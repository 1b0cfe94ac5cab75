// The checkpoint journal of a run: every finished replication's record,
// appended to OUT.checkpoint with a checksum (in replication order by one
// process; in the order they reach rank 0 in an MPI run), and synced to disk
// after every batch. It survives anything, SIGKILL included: a record
// cut short by a kill or a full disk fails its checksum and is dropped (and
// the resume says how much was dropped), and everything before it is kept.
// `artel run --resume` rebuilds the HDF5 file from the journal and carries
// on; a finished run deletes it once the result file is verified.
//
// The journal is also the output's lock: the process that runs holds an
// exclusive flock on it from before it touches any file of the output until
// it exits, so a second run on the same output refuses at once.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/output/output_files.hpp"
#include "engine/run/results.hpp"

namespace artel::output {

// What a journal must match to be resumed: the resolved scenario (which
// includes the seed and every arm) and the engine that wrote it.
struct JournalIdentity {
    std::string scenario_text;
    std::string engine_version;
    std::string git_revision;
};

// The resolved scenario without its comment lines: the values that decide a
// run's results. The comments name the file the scenario came from, which
// may be given by another path on resume.
std::string scenario_identity(std::string_view resolved_scenario);

std::filesystem::path checkpoint_path(const std::filesystem::path& final_path);

// What a resume found in the journal.
struct ResumeReport {
    std::uint64_t records = 0;        // intact records (replications 0 .. records-1 when written by one process)
    std::uint64_t dropped_bytes = 0;  // after them: a torn or damaged tail, cut away
    // Whole records the dropped bytes would hold at their expected sizes: 0
    // for a record torn by a stop (the usual end of a killed run), more when
    // the journal was damaged in the middle.
    std::uint64_t dropped_records = 0;
};

// Another process holds the output's lock.
class OutputBusy : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A resume that cannot go on (different scenario or engine, damaged journal),
// or a journal that artel will not touch (a link, another user's file).
class ResumeRefused : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class CheckpointJournal {
public:
    // Opens OUT.checkpoint without following a link (a link, a non-regular
    // file or another user's file is refused) and locks it; when it does not
    // exist, creates it empty (O_EXCL) if `create`, else returns nullopt.
    // Throws OutputBusy when another process holds the lock.
    static std::optional<CheckpointJournal> acquire(const std::filesystem::path& path, bool create);

    CheckpointJournal(CheckpointJournal&& o) noexcept;
    CheckpointJournal& operator=(CheckpointJournal&& o) noexcept;
    CheckpointJournal(const CheckpointJournal&) = delete;
    CheckpointJournal& operator=(const CheckpointJournal&) = delete;
    ~CheckpointJournal();  // unlocks; the file stays

    // What an existing journal holds, without changing it: nullopt when it has
    // no whole header (killed while it was being created: it holds nothing).
    struct Header {
        JournalIdentity id;
        FileId replaces;
        std::uint64_t bytes = 0;  // the whole file
        std::uint64_t header_bytes = 0;
    };
    std::optional<Header> header() const;
    // Whether any record follows the header (an upper bound: not checked).
    bool has_records() const;

    // Starts over: empties the journal and writes the header. `replaces`: the
    // existing output that --force agreed to replace (or none).
    void start(const JournalIdentity& id, const run::ResultSchema& schema, FileId replaces);
    // For resuming: checks the identity (throws ResumeRefused naming what
    // differs), reads every intact record into `records` (in journal order:
    // any order of replications, each once), cuts anything after them and
    // leaves the journal ready for appends.
    ResumeReport resume(const JournalIdentity& id, const run::ResultSchema& schema,
                        std::vector<run::ReplicationRecord>& records);

    void append(const run::ReplicationRecord& record);
    // Flushes and fsyncs: everything appended so far survives a crash.
    void sync();
    // Deletes the journal (the run's result is complete and verified) and
    // unlocks it. Deletes only the file this object locked.
    void remove();
    FileId replaces() const { return replaces_; }
    const std::filesystem::path& path() const { return path_; }

private:
    CheckpointJournal(std::filesystem::path path, std::FILE* f) : path_(std::move(path)), file_(f) {}
    void write(const void* data, std::size_t bytes, const char* what);
    std::filesystem::path path_;
    std::FILE* file_ = nullptr;
    FileId replaces_;
};

}  // namespace artel::output
