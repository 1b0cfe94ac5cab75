#include "engine/output/output_files.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace artel::output {
namespace {

namespace fs = std::filesystem;

std::string in_quotes(const fs::path& p) { return "'" + p.string() + "'"; }

fs::path directory_of(const fs::path& p) {
    auto dir = p.parent_path();
    return dir.empty() ? fs::path(".") : dir;
}

void sync_directory(const fs::path& p) {
    const int fd = ::open(directory_of(p).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)fsync(fd);  // best effort: some file systems refuse fsync on a directory
    ::close(fd);
}

bool unsupported(int err) { return err == EINVAL || err == ENOSYS || err == ENOTSUP; }

[[noreturn]] void appeared(const fs::path& partial, const fs::path& out, bool replacing) {
    throw OutputAppeared(
        (replacing ? in_quotes(out) + " was replaced by another file during the run, and artel replaces only the file "
                                   "that --force agreed to replace"
                   : in_quotes(out) + " appeared during the run, and artel replaces a file only with --force, and only "
                                   "the one that was there when the run began") +
        ": the complete, verified result is in " + in_quotes(partial) +
        "; move it where you want it (or move " + in_quotes(out) + " away and resume the run to finish this step)");
}

}  // namespace

OutputFiles output_files(const fs::path& out) {
    OutputFiles f{out, out, out};
    f.checkpoint += ".checkpoint";
    f.partial += ".partial";
    return f;
}

Entry examine(const fs::path& p) {
    Entry e;
    struct stat st {};
    if (lstat(p.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return e;
        e.kind = Entry::Kind::Other;
        e.what = std::string("something that cannot be examined (") + std::strerror(errno) + ")";
        return e;
    }
    e.id = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
    e.uid = st.st_uid;
    if (S_ISREG(st.st_mode)) e.kind = Entry::Kind::Regular, e.what = "a regular file";
    else if (S_ISLNK(st.st_mode)) e.kind = Entry::Kind::Link, e.what = "a symbolic link";
    else if (S_ISDIR(st.st_mode)) e.kind = Entry::Kind::Directory, e.what = "a directory";
    else {
        e.kind = Entry::Kind::Other;
        e.what = S_ISFIFO(st.st_mode)   ? "a FIFO"
                 : S_ISCHR(st.st_mode)  ? "a character device"
                 : S_ISBLK(st.st_mode)  ? "a block device"
                 : S_ISSOCK(st.st_mode) ? "a socket"
                                        : "not a regular file";
    }
    return e;
}

FileId check_output(const fs::path& out, bool replace) {
    if (out.empty()) throw OutputRefused("the output file name is empty: give one with -o FILE.h5");
    const auto name = out.filename().string();
    if (name.empty() || name == "." || name == "..")
        throw OutputRefused("output " + in_quotes(out) + " names a directory: give a file name, e.g. -o " +
                            (out / "results.h5").string());
    const auto dir = directory_of(out);
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw OutputRefused("cannot write output " + in_quotes(out) + ": directory " + in_quotes(dir) +
                            (fs::exists(dir, ec) ? " is not a directory" : " does not exist"));
    if (access(dir.c_str(), W_OK | X_OK) != 0)
        throw OutputRefused("cannot write output " + in_quotes(out) + ": directory " + in_quotes(dir) +
                            " is not writable");
    const long name_max = pathconf(dir.c_str(), _PC_NAME_MAX);
    const std::size_t longest = name.size() + std::strlen(".checkpoint");
    if (name_max > 0 && longest > static_cast<std::size_t>(name_max))
        throw OutputRefused("output name " + in_quotes(name) + " is too long: with the run's suffix '.checkpoint' it has " +
                            std::to_string(longest) + " bytes, and this file system allows " +
                            std::to_string(name_max) + "; choose a shorter name");
    const auto e = examine(out);
    switch (e.kind) {
        case Entry::Kind::Absent: return {};
        case Entry::Kind::Link:
            throw OutputRefused("output " + in_quotes(out) +
                                " is a symbolic link: artel never writes through a link; give the path it points to, "
                                "or another name");
        case Entry::Kind::Directory: throw OutputRefused("output " + in_quotes(out) + " is a directory");
        case Entry::Kind::Other:
            throw OutputRefused("output " + in_quotes(out) + " is " + e.what +
                                ", not a regular file: artel writes and replaces only regular files" +
                                (replace ? " (--force included)" : ""));
        case Entry::Kind::Regular: break;
    }
    if (!replace)
        throw OutputRefused("output " + in_quotes(out) +
                            " exists; artel never overwrites results: choose another name or pass --force");
    if (e.uid != geteuid())
        throw OutputRefused("output " + in_quotes(out) + " belongs to another user (uid " + std::to_string(e.uid) +
                            "): artel replaces only your own files, --force included");
    return e.id;
}

void check_derived(const fs::path& p) {
    const auto e = examine(p);
    switch (e.kind) {
        case Entry::Kind::Absent: return;
        case Entry::Kind::Regular:
            if (e.uid != geteuid())
                throw OutputRefused(in_quotes(p) + " belongs to another user (uid " + std::to_string(e.uid) +
                                    "): artel uses only files it created; choose another output name");
            return;
        case Entry::Kind::Link:
            throw OutputRefused(in_quotes(p) +
                                " is a symbolic link: artel did not create it and never writes through a link; "
                                "remove it, or choose another output name");
        default:
            throw OutputRefused(in_quotes(p) + " is " + e.what +
                                ", not a file artel created: remove it, or choose another output name");
    }
}

void remove_stale_partial(const fs::path& partial) {
    check_derived(partial);  // before open(): never open a FIFO or a device planted here
    const int fd = ::open(partial.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return;
        check_derived(partial);  // a link or something else: says which
        throw OutputRefused("cannot open " + in_quotes(partial) + ": " + std::strerror(errno));
    }
    struct stat st {};
    unsigned char head[8] = {};
    const bool examined = fstat(fd, &st) == 0;
    const auto got = examined && S_ISREG(st.st_mode) ? ::read(fd, head, sizeof head) : -1;
    ::close(fd);
    check_derived(partial);
    static constexpr unsigned char kHdf5[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    const bool ours = examined && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
                      (got == 0 || (got == 8 && std::memcmp(head, kHdf5, 8) == 0));
    if (!ours)
        throw OutputRefused(in_quotes(partial) +
                            " is not a file artel wrote (not an HDF5 file): remove it yourself, or choose another "
                            "output name");
    const auto now = examine(partial);
    const FileId id{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
    if (now.kind == Entry::Kind::Regular && now.id == id && ::unlink(partial.c_str()) != 0 && errno != ENOENT)
        throw std::runtime_error("cannot remove the stale " + in_quotes(partial) + ": " + std::strerror(errno));
}

void place_result(const fs::path& partial, const fs::path& out, FileId replaces) {
    if (renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, out.c_str(), RENAME_NOREPLACE) == 0) {
        sync_directory(out);
        return;
    }
    int err = errno;
    if (unsupported(err)) {
        // No RENAME_NOREPLACE on this file system: link() refuses an
        // existing name just as well.
        if (::link(partial.c_str(), out.c_str()) == 0) {
            ::unlink(partial.c_str());
            sync_directory(out);
            return;
        }
        err = errno;
    }
    if (err != EEXIST)
        throw std::runtime_error("cannot rename " + in_quotes(partial) + " to " + in_quotes(out) + ": " +
                                 std::strerror(err) + "; the complete, verified result is in " + in_quotes(partial));
    if (!replaces.valid()) appeared(partial, out, false);
    // Swap the two names, then look at what came out from under OUT: the file
    // --force agreed to replace is removed; anything else is swapped back.
    if (renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, out.c_str(), RENAME_EXCHANGE) == 0) {
        const auto old = examine(partial);
        if (old.kind == Entry::Kind::Regular && old.id == replaces) {
            ::unlink(partial.c_str());
            sync_directory(out);
            return;
        }
        if (renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, out.c_str(), RENAME_EXCHANGE) != 0)
            throw std::runtime_error("cannot swap " + in_quotes(partial) + " and " + in_quotes(out) + " back: " +
                                     std::strerror(errno) + "; the complete, verified result is in " + in_quotes(out));
        appeared(partial, out, true);
    }
    if (!unsupported(errno))
        throw std::runtime_error("cannot rename " + in_quotes(partial) + " to " + in_quotes(out) + ": " +
                                 std::strerror(errno) + "; the complete, verified result is in " + in_quotes(partial));
    const auto now = examine(out);  // no RENAME_EXCHANGE either: check, then replace
    if (now.kind != Entry::Kind::Regular || !(now.id == replaces)) appeared(partial, out, true);
    if (std::rename(partial.c_str(), out.c_str()) != 0)
        throw std::runtime_error("cannot rename " + in_quotes(partial) + " to " + in_quotes(out) + ": " +
                                 std::strerror(errno) + "; the complete, verified result is in " + in_quotes(partial));
    sync_directory(out);
}

}  // namespace artel::output
