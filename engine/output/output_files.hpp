// The files of one output, and the rules artel keeps with them. A run on
// OUT uses three names: OUT.checkpoint (the journal and the output's lock),
// OUT.partial (the HDF5 file being written) and OUT (the result, which only
// ever appears complete and verified, by a rename). artel
//  - never writes through a symbolic link, and never uses a FIFO, device,
//    directory or another user's file found under one of these names
//    (derived files are created with O_CREAT | O_EXCL, which does not follow
//    a link planted at the name);
//  - replaces an existing OUT only with --force, only a regular file of the
//    user's own, and only the very file that was there when the run began
//    (recorded by device and inode in the checkpoint);
//  - removes OUT.partial only while it holds the output's lock, and only a
//    regular file of the user's own that is empty or an HDF5 file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace artel::output {

// A file's identity (device and inode): what --force agreed to replace.
struct FileId {
    std::uint64_t dev = 0, ino = 0;
    bool valid() const { return ino != 0; }
    bool operator==(const FileId&) const = default;
};

struct OutputFiles {
    std::filesystem::path final, checkpoint, partial;
};
OutputFiles output_files(const std::filesystem::path& out);

// A problem with the output name or what is found under the run's names,
// seen before any work (exit code 2; nothing is touched).
class OutputRefused : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A file appeared under OUT during the run, or the one --force agreed to
// replace was itself replaced: the verified result stays in OUT.partial.
class OutputAppeared : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What is under a name, without following a link.
struct Entry {
    enum class Kind { Absent, Regular, Link, Directory, Other } kind = Kind::Absent;
    FileId id;
    std::uint32_t uid = 0;
    std::string what;  // "a symbolic link", "a FIFO", ...
};
Entry examine(const std::filesystem::path& p);

// Checks the output name before any work: not empty, its directory exists
// and is writable, the derived names fit the file system's limit, and OUT is
// absent, or (with `replace`) a regular file of this user's. Returns the
// identity of the file to replace (or none).
FileId check_output(const std::filesystem::path& out, bool replace);

// Refuses a derived name (OUT.checkpoint, OUT.partial) under which there is
// a link, something that is not a regular file, or another user's file.
void check_derived(const std::filesystem::path& p);

// Removes a stale OUT.partial (the caller holds the output's lock): only a
// regular file of this user's that is empty or an HDF5 file; anything else
// is refused (OutputRefused).
void remove_stale_partial(const std::filesystem::path& partial);

// Moves the complete, verified result from `partial` to `out`. Replaces
// nothing unless `replaces` is valid, and then only the file with that
// identity; throws OutputAppeared (leaving `partial` in place) otherwise.
// The directory is synced, so the rename survives a crash.
void place_result(const std::filesystem::path& partial, const std::filesystem::path& out, FileId replaces);

}  // namespace artel::output
