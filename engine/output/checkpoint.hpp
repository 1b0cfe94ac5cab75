// The checkpoint journal of a run: every finished replication's record,
// appended in replication order to OUT.checkpoint with a checksum, and synced
// to disk after every batch. It survives anything, SIGKILL included: a record
// cut short by a kill or a full disk fails its checksum and is dropped, and
// everything before it is kept. `artel run --resume` rebuilds the HDF5 file
// from the journal and carries on; a finished run deletes it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/run/results.hpp"

namespace artel::output {

// What a journal must match to be resumed: the resolved scenario (which
// includes the seed and every arm) and the engine that wrote it.
struct JournalIdentity {
    std::string scenario_text;
    std::string engine_version;
    std::string git_revision;
};

std::filesystem::path checkpoint_path(const std::filesystem::path& final_path);

class CheckpointJournal {
public:
    // Starts a new journal (replacing any file of that name).
    static CheckpointJournal create(const std::filesystem::path& path, const JournalIdentity& id,
                                    const run::ResultSchema& schema);
    // Opens an existing journal for resuming: checks its identity (throws
    // ResumeRefused naming what differs), reads every intact record into
    // `records` and truncates anything after them.
    static CheckpointJournal resume(const std::filesystem::path& path, const JournalIdentity& id,
                                    const run::ResultSchema& schema, std::vector<run::ReplicationRecord>& records);

    CheckpointJournal(CheckpointJournal&& o) noexcept;
    CheckpointJournal& operator=(CheckpointJournal&& o) noexcept;
    CheckpointJournal(const CheckpointJournal&) = delete;
    CheckpointJournal& operator=(const CheckpointJournal&) = delete;
    ~CheckpointJournal();

    void append(const run::ReplicationRecord& record);
    // Flushes and fsyncs: everything appended so far survives a crash.
    void sync();
    // Closes and deletes the journal (the run is complete).
    void remove();
    const std::filesystem::path& path() const { return path_; }

private:
    CheckpointJournal(std::filesystem::path path, std::FILE* f) : path_(std::move(path)), file_(f) {}
    void write(const void* data, std::size_t bytes, const char* what);
    std::filesystem::path path_;
    std::FILE* file_ = nullptr;
};

// A resume that cannot go on (different scenario or engine, damaged journal).
class ResumeRefused : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace artel::output
