#include "engine/cli/cli.hpp"

#include <omp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <numeric>
#include <atomic>
#include <csignal>
#include <cmath>
#include <optional>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "artel/version.hpp"
#include "engine/config/error.hpp"
#include "engine/config/param_info.hpp"
#include "engine/h5/h5.hpp"
#include "engine/output/checkpoint.hpp"
#include "engine/output/result_writer.hpp"
#include "engine/run/distributed.hpp"
#include "engine/run/plan.hpp"
#include "engine/run/progress.hpp"
#include "engine/run/runner.hpp"

namespace artel::cli {
namespace {

namespace fs = std::filesystem;

// A problem with what the user asked for: exit code 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A run that failed after it began (I/O, a file that appeared under the
// output's name): exit code 1; the message says what was kept.
class RunFailed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::string join_command_line(int argc, char** argv) {
    std::string s;
    for (int i = 0; i < argc; ++i) {
        if (i) s += ' ';
        // Quoted for a POSIX shell, so that the printed resume command can be
        // pasted back whatever the arguments hold.
        const std::string a = argv[i];
        const bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](unsigned char c) {
            return std::isalnum(c) || std::strchr("_./=:,+-@%", c) != nullptr;
        });
        if (plain) {
            s += a;
            continue;
        }
        s += '\'';
        for (const char c : a) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
        s += '\'';
    }
    return s;
}

std::string fixed(double v, int decimals) {
    if (!std::isfinite(v)) return "n/a";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// Headline results per arm from a finished file.
void print_headlines(const fs::path& path, const ModelDriver& model, std::ostream& os) {
    auto file = h5::File::open_read(path);
    auto root = file.root();
    const auto years = root.attr_int("years");
    const auto start_year = root.attr_int("start_year");
    const auto arms = root.open_dataset("arm_names").read_strings();
    const auto heads = model.headlines();
    os << "Headline results (mean over replications, [5%, 95%] quantiles); series at the end of "
       << (start_year + years - 1) << ":\n";
    std::size_t width = 0;
    for (const auto& a : arms) width = std::max(width, a.size());
    for (const auto& h : heads) {
        os << "  " << h.label << "\n";
        for (const auto& a : arms) {
            auto stats = root.open_group("arms/" + a + "/stats");
            const auto mean = stats.open_dataset(h.name + "_mean").read<double>();
            const auto q = stats.open_dataset(h.name + "_quantiles").read<double>();
            double m, lo, hi;
            if (h.series) {
                const auto T = static_cast<std::size_t>(years);
                m = mean.back();
                lo = q[0 * T + T - 1];
                hi = q[4 * T + T - 1];
            } else {
                m = mean.front();
                lo = q.front();
                hi = q.back();
            }
            os << "    " << a << std::string(width - a.size() + 2, ' ') << fixed(m, h.decimals) << "  ["
               << fixed(lo, h.decimals) << ", " << fixed(hi, h.decimals) << "]\n";
        }
    }
}

// Four significant digits, for a summary line.
double significant(double v) {
    if (!std::isfinite(v) || v == 0) return v;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return std::strtod(buf, nullptr);
}

int cmd_validate(const ModelDriver& model, const std::string& file, const std::vector<std::string>& sets) {
    auto run = model.prepare(file, sets);
    std::cout << run.metadata.scenario_text;
    std::cerr << "scenario '" << file << "' is valid: " << run.simulation->schema().n_arms() << " arms, "
              << run.simulation->schema().replications << " replications, " << run::si(run.work) << " "
              << run.work_unit << "\n";
    if (const auto& sampler = run.parameters) {
        std::cerr << sampler->size() << " uncertain parameters, design " << uq::design_name(sampler->kind())
                  << (sampler->table_source().empty() ? "" : " (" + sampler->table_source() + ")")
                  << "; quantiles 5% / 50% / 95%:\n";
        std::size_t width = 0;
        for (const auto& p : sampler->parameters()) width = std::max(width, p.param->key().size());
        for (const auto& p : sampler->parameters()) {
            const auto key = p.param->key();
            std::cerr << "  " << key << std::string(width - key.size() + 2, ' ') << p.prior.describe() << "   "
                      << config::shortest_text(significant(p.prior.quantile(0.05))) << " / "
                      << config::shortest_text(significant(p.prior.quantile(0.5))) << " / "
                      << config::shortest_text(significant(p.prior.quantile(0.95))) << "\n";
        }
    }
    return kExitOk;
}

// What a complete result file says of the run that wrote it: nullopt if the
// file is not a complete artel result.
std::optional<output::JournalIdentity> complete_result_identity(const fs::path& path) {
    try {
        auto file = h5::File::open_read(path);
        auto root = file.root();
        if (!root.has_attr("format") || root.attr_string("format") != output::kFormatName ||
            root.attr_int("complete") != 1)
            return std::nullopt;
        return output::JournalIdentity{root.attr_string("scenario"), root.attr_string("engine_version"),
                                       root.attr_string("git_revision")};
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

bool same_run(const output::JournalIdentity& a, const output::JournalIdentity& b) {
    return output::scenario_identity(a.scenario_text) == output::scenario_identity(b.scenario_text) &&
           a.engine_version == b.engine_version && a.git_revision == b.git_revision;
}

// Standard output must have taken everything: a command whose output was lost
// (a full disk, a closed pipe) has failed.
int finish_stdout(int code) {
    std::cout.flush();
    if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) {
        const int err = errno;
        std::cerr << "artel: error: cannot write to standard output" << (err ? std::string(": ") + std::strerror(err) : "")
                  << "\n";
        return code == kExitOk ? kExitFailure : code;
    }
    return code;
}

struct RunArgs {
    std::string file, out;
    std::vector<std::string> sets;
    int threads = 0;
    std::int64_t replications = 0;
    std::optional<std::string> seed;
    bool force = false, quiet = false, resume = false, dry_run = false;
    std::string progress = "auto";
    std::string simd = "auto";
};

// Signals: the first SIGINT, SIGTERM or SIGHUP asks the runner to stop after
// the work in flight; a second leaves at once, printing g_quit_message (the
// checkpoint is intact up to its last sync, and a torn tail is cut on resume).
std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};
// Whether the handler says that it stops (rank 0 of an MPI job says it for all).
std::atomic<bool> g_signal_says{true};
// Written before the handlers are installed and while they cannot run a
// second time mid-update: a message buffer the handler only reads.
std::string g_quit_text[2];
std::atomic<int> g_quit_index{-1};

extern "C" void on_signal(int sig) {
    if (g_signal.load() != 0) {
        const int i = g_quit_index.load();
        if (i >= 0 && g_signal_says.load()) {
            const auto ignored = write(STDERR_FILENO, g_quit_text[i].data(), g_quit_text[i].size());
            (void)ignored;
        }
        _exit(128 + sig);
    }
    g_signal.store(sig);
    g_stop.store(true);
    static const char msg[] = "\nartel: stopping after the work in flight (Ctrl-C again to quit at once)\n";
    if (g_signal_says.load()) {
        const auto ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)ignored;
    }
}

// The message a second signal prints: swapped in through the other buffer,
// so the handler never reads a string being written.
void set_quit_message(const std::string& text) {
    const int next = g_quit_index.load() == 0 ? 1 : 0;
    g_quit_text[next] = text;
    g_quit_index.store(next);
}

struct SignalGuard {
    struct sigaction old_int {}, old_term {}, old_hup {};
    SignalGuard() {
        g_stop = false;
        g_signal = 0;
        set_quit_message("\nartel: stopped at once, before the run began: nothing was written\n");
        struct sigaction sa {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        sigaction(SIGHUP, &sa, &old_hup);
    }
    ~SignalGuard() {
        sigaction(SIGINT, &old_int, nullptr);
        sigaction(SIGTERM, &old_term, nullptr);
        sigaction(SIGHUP, &old_hup, nullptr);
    }
};

// Journal first, then the HDF5 file: what the journal holds can always
// rebuild the file.
class JournaledWriter final : public run::RecordSink {
public:
    JournaledWriter(output::CheckpointJournal& j, output::ResultWriter& w) : journal_(j), writer_(w) {}
    void consume(const run::ReplicationRecord& r) override {
        journal_.append(r);
        writer_.consume(r);
    }
    void batch_done() override {
        journal_.sync();
        writer_.batch_done();
    }

private:
    output::CheckpointJournal& journal_;
    output::ResultWriter& writer_;
};

std::string bytes(double b) {
    const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int k = 0;
    while (b >= 1024 && k < 4) b /= 1024, ++k;
    return fixed(b, k ? 1 : 0) + " " + unit[k];
}

std::string resume_command(const std::string& command_line) {
    std::string c = command_line;
    for (const std::string flag : {" --force", " --resume"}) {
        for (auto pos = c.find(flag); pos != std::string::npos; pos = c.find(flag))
            c.erase(pos, flag.size());
    }
    return c + " --resume";
}

std::string interrupted_message(std::uint64_t finished, std::int64_t total, const fs::path& journal,
                                const std::string& resume) {
    return "\nartel: interrupted: " + std::to_string(finished) + " of " + std::to_string(total) +
           " replications are finished and kept in '" + journal.string() + "'.\nResume with:\n  " + resume + "\n";
}

int signal_exit_code(int sig) { return sig > 0 ? 128 + sig : 130; }

// The run's own files: the lock and journal, the partial file, and how the
// final rename may replace an existing output.
struct RunFiles {
    output::OutputFiles names;
    std::optional<output::CheckpointJournal> journal;
    std::vector<run::ReplicationRecord> done;  // finished replications read back on resume
    output::FileId replaces;
};

// --resume: the checkpoint must exist, be this run's, and the output must be
// absent, the file --force agreed to replace, or this run's own result
// (killed between the final rename and the removal of the checkpoint).
// Returns nullopt when there is nothing left to do.
std::optional<RunFiles> open_for_resume(const output::OutputFiles& names, const output::JournalIdentity& identity,
                                        const run::ResultSchema& schema, bool quiet) {
    RunFiles f{names, {}, {}, {}};
    const auto out_entry = output::examine(names.final);
    if (out_entry.kind == output::Entry::Kind::Link || out_entry.kind == output::Entry::Kind::Directory ||
        out_entry.kind == output::Entry::Kind::Other)
        (void)output::check_output(names.final, true);  // refuses, naming what it is
    f.journal = output::CheckpointJournal::acquire(names.checkpoint, /*create=*/false);
    if (!f.journal) {
        if (out_entry.kind == output::Entry::Kind::Regular) {
            const auto theirs = complete_result_identity(names.final);
            if (theirs && same_run(*theirs, identity)) {
                if (!quiet)
                    std::cerr << "artel: '" << names.final.string()
                              << "' is already complete for this scenario: nothing to resume\n";
                return std::nullopt;
            }
            throw UsageError("nothing to resume: there is no checkpoint '" + names.checkpoint.string() + "', and '" +
                             names.final.string() +
                             (theirs ? "' is a complete result of a different scenario or engine"
                                     : "' is not a complete artel result") +
                             "; nothing was changed");
        }
        throw UsageError("nothing to resume: there is no checkpoint '" + names.checkpoint.string() + "'");
    }
    const auto report = f.journal->resume(identity, schema, f.done);
    if (report.dropped_records > 0)  // said even with --quiet: finished work was lost
        std::cerr << "artel: warning: the checkpoint is damaged after its " << report.records << " intact records: " << report.dropped_bytes
                  << " bytes (about " << report.dropped_records
                  << " finished replications) after its last intact record were cut away; they will be computed again\n";
    else if (report.dropped_bytes > 0 && !quiet)
        std::cerr << "artel: the checkpoint's last record was cut short when the run stopped (" << report.dropped_bytes
                  << " bytes, cut away): that replication will be computed again\n";
    f.replaces = f.journal->replaces();
    if (out_entry.kind != output::Entry::Kind::Regular) return f;
    const auto theirs = complete_result_identity(names.final);
    if (theirs && same_run(*theirs, identity) && f.done.size() == std::size_t(schema.replications)) {
        // Killed after the final rename: the checkpoint goes only once the
        // file is shown to hold every one of its records.
        output::RowDigests digests(schema);
        for (const auto& r : f.done) digests.add(r);
        const auto wrong = digests.check_file(names.final);
        if (!wrong.empty())
            throw UsageError("'" + names.final.string() + "' is a result of this scenario but does not match the "
                             "checkpoint (" + wrong + "); nothing was changed: move it away, then resume");
        output::remove_stale_partial(names.partial);
        f.journal->remove();
        if (!quiet)
            std::cerr << "artel: '" << names.final.string()
                      << "' is already complete and matches the checkpoint, which is removed: nothing to resume\n";
        return std::nullopt;
    }
    if (!(out_entry.id == f.replaces))
        throw UsageError("'" + names.final.string() + "' exists and is not the file this run was started to replace" +
                         (theirs ? " (it is a complete result of another scenario or engine)" : "") +
                         "; nothing was changed: move it away, then resume");
    return f;
}

// A new run: the output name checked, the checkpoint created (or an earlier,
// idle one taken over), a stale partial file removed.
RunFiles open_for_new_run(const output::OutputFiles& names, bool force, const output::JournalIdentity& identity,
                          const run::ResultSchema& schema, bool quiet) {
    RunFiles f{names, {}, {}, output::check_output(names.final, force)};
    const bool had_journal = output::examine(names.checkpoint).kind != output::Entry::Kind::Absent;
    if (!force && !had_journal && output::examine(names.partial).kind != output::Entry::Kind::Absent)
        // A partial file without a journal holds nothing that can be resumed;
        // still, it is not artel's to remove unasked.
        throw UsageError("'" + names.partial.string() + "' exists without a checkpoint (an unfinished run that " +
                         "cannot be resumed): remove it, or start over with --force");
    f.journal = output::CheckpointJournal::acquire(names.checkpoint, /*create=*/true);
    const bool finished_work = f.journal->has_records();
    if (finished_work && !force)
        throw UsageError("an unfinished run of '" + names.final.string() + "' exists ('" + names.checkpoint.string() +
                         "'): continue it with --resume, or start over with --force");
    if (finished_work && !quiet)
        std::cerr << "artel: --force: the unfinished run in '" << names.checkpoint.string()
                  << "' is discarded and started over\n";
    f.journal->start(identity, schema, f.replaces);
    return f;
}

// The replications the journal does not hold: a range when it holds a
// prefix (always, when one process wrote it), else a list of whole
// replications (an MPI run's journal, resumed by one process).
void set_remaining(run::RunOptions& opt, std::vector<run::ReplicationRecord>& done, std::int64_t replications,
                   std::size_t units) {
    std::sort(done.begin(), done.end(), [](const auto& a, const auto& b) { return a.replication < b.replication; });
    const auto R = static_cast<std::uint64_t>(replications);
    if (done.empty() || done.back().replication + 1 == done.size()) {
        opt.first_replication = done.size();
        opt.replications = R - done.size();
        return;
    }
    std::size_t k = 0;
    for (std::uint64_t r = 0; r < R; ++r) {
        if (k < done.size() && done[k].replication == r) {
            ++k;
            continue;
        }
        opt.pieces.push_back({r, 0, units});
    }
}

// ---- an MPI job: several ranks (engine/run/distributed.hpp) ----------------------

// The exit code and message of what a rank threw, as main() would choose them.
dist::Failure failure_of(std::exception_ptr e) {
    dist::Failure f{dist::rank(), kExitFailure, ""};
    try {
        std::rethrow_exception(e);
    } catch (const config::ConfigError& x) {
        f.code = kExitUsage, f.message = x.what();
    } catch (const output::ResumeRefused& x) {
        f.code = kExitUsage, f.message = x.what();
    } catch (const output::OutputBusy& x) {
        f.code = kExitUsage, f.message = x.what();
    } catch (const output::OutputRefused& x) {
        f.code = kExitUsage, f.message = x.what();
    } catch (const UsageError& x) {
        f.code = kExitUsage, f.message = x.what();
    } catch (const dist::Failure& x) {
        f.code = x.code, f.message = x.message;
    } catch (const std::exception& x) {
        f.message = x.what();
    } catch (...) {
        f.message = "unknown failure";
    }
    return f;
}

// Every rank learns what went wrong on any rank; rank 0 says it (an empty
// message: nothing to say, e.g. --dry-run). Returns the exit code, or -1 to go on.
int settle(const std::optional<dist::Failure>& mine) {
    const auto f = dist::agree(mine);
    if (!f) return -1;
    if (dist::is_root() && !f->message.empty()) {
        std::cerr << "artel: error: ";
        if (f->rank != 0) std::cerr << "rank " << f->rank << " of " << dist::size() << ": ";
        std::cerr << f->message << "\n";
    }
    return f->code;
}

template <class Body>
std::optional<dist::Failure> attempt(Body&& body) {
    try {
        body();
        return std::nullopt;
    } catch (...) {
        return failure_of(std::current_exception());
    }
}

// Rank 0's share of the records: into the journal first, then counted for
// the file (digests, histograms); the rows are written by the rank that
// made the record.
class RootJournal final : public dist::RootSink {
public:
    RootJournal(output::CheckpointJournal& j, output::ResultWriter& w) : journal_(j), writer_(w) {}
    void record(const run::ReplicationRecord& r) override {
        journal_.append(r);
        writer_.count_written_elsewhere(r);
    }
    void sync() override { journal_.sync(); }

private:
    output::CheckpointJournal& journal_;
    output::ResultWriter& writer_;
};

// `artel run` on several ranks (mpirun -np N, srun). The output's rules are
// those of one process (docs/running.md), kept by rank 0: it checks the
// names, holds the journal (the lock), creates OUT.partial (O_EXCL) with
// the layout and the journaled rows, and at the end computes the statistics
// from the complete file, verifies it and renames it. Between, every rank
// runs its share and writes its rows (dist::run). A refusal or failure on
// any rank is said once, by rank 0, and every rank exits with its code.
int cmd_run_ranks(ModelDriver& model, RunArgs args, const std::string& command_line) {
    const bool root = dist::is_root();
    const int ranks = dist::size();
    PreparedRun prepared;
    if (const int code = settle(attempt([&] {
            try {
                model.select_kernel(args.simd);
            } catch (const std::invalid_argument& e) {
                std::string known;
                for (const auto& k : model.kernels()) known += (known.empty() ? "" : ", ") + k;
                throw UsageError("--simd " + args.simd + ": " + e.what() + " (available here: auto, " + known + ")");
            }
            if (args.resume && args.force) throw UsageError("--resume and --force contradict each other: choose one");
            if (args.out.empty()) throw UsageError("-o: the output file name is empty: give one, e.g. -o results.h5");
            if (args.replications > 0) args.sets.push_back("run.replications=" + std::to_string(args.replications));
            if (args.seed) args.sets.push_back("run.seed=" + *args.seed);
            prepared = model.prepare(args.file, args.sets);
            prepared.metadata.command_line = command_line;
        }));
        code >= 0)
        return code;
    const auto& sim = *prepared.simulation;
    const auto& schema = sim.schema();
    const fs::path out = args.out;
    const auto names = output::output_files(out);
    const auto resume_cmd = resume_command(command_line);
    SignalGuard signals;

    // Rank 0: the checks, the journal, the partial file with its layout.
    std::optional<RunFiles> files;
    std::optional<output::ResultWriter> writer;
    std::vector<std::uint64_t> remaining;
    const output::JournalIdentity identity{prepared.metadata.scenario_text, kEngineVersion, kGitRevision};
    std::optional<dist::Failure> mine;
    if (root) {
        mine = attempt([&] {
            if (!args.resume) (void)output::check_output(out, args.force);
            struct stat a {}, b {};
            if (stat(args.file.c_str(), &a) == 0 && stat(out.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
                a.st_ino == b.st_ino)
                throw UsageError("output '" + out.string() + "' is the scenario file itself: choose another name");
            output::check_derived(names.checkpoint);
            output::check_derived(names.partial);
            const auto plan = run::make_plan(sim, args.threads, prepared.work, ranks);
            const auto avail = run::available_memory();
            if (args.dry_run) {
                std::cout << "plan for " << args.file << " on " << ranks << " ranks:\n"
                          << "  arms x replications x years:  " << schema.n_arms() << " x " << schema.replications
                          << " x " << schema.years << "\n"
                          << "  work:                         " << run::si(plan.work) << " " << prepared.work_unit
                          << "\n"
                          << "  threads per rank:             " << plan.threads << "\n"
                          << "  kernel:                       " << model.kernel() << "\n"
                          << "  estimated peak memory per rank: " << bytes(plan.memory_other_rank.peak())
                          << ", rank 0: " << bytes(plan.memory.peak()) << " (available on rank 0's node: "
                          << bytes(double(avail)) << ")\n"
                          << "    rank 0: " << run::describe(plan.memory) << "\n"
                          << "    others: " << run::describe(plan.memory_other_rank) << "\n"
                          << "  estimated output size:        at most " << bytes(plan.output)
                          << " (the rows uncompressed: parallel HDF5 1.10 writes no compressed chunks)\n"
                          << "  estimated run time:           " << run::duration(plan.seconds) << "\n";
                throw dist::Failure{0, kExitOk, ""};
            }
            if (g_stop) throw UsageError("interrupted before the run began: nothing was written");
            if (args.resume) {
                files = open_for_resume(names, identity, schema, args.quiet);
                if (!files) throw dist::Failure{0, kExitOk, ""};
            } else {
                files.emplace(open_for_new_run(names, args.force, identity, schema, args.quiet));
            }
            auto& done = files->done;
            std::sort(done.begin(), done.end(), [](const auto& x, const auto& y) { return x.replication < y.replication; });
            set_quit_message("\nartel: stopped at once: the replications finished so far are kept in '" +
                             names.checkpoint.string() + "'.\nResume with:\n  " + resume_cmd + "\n");
            output::remove_stale_partial(names.partial);
            writer.emplace(out, schema, prepared.metadata, /*parallel_rows=*/true);
            for (const auto& r : done) writer->consume(r);
            writer->hand_over();
            std::size_t k = 0;
            for (std::uint64_t r = 0; r < std::uint64_t(schema.replications); ++r) {
                if (k < done.size() && done[k].replication == r) ++k;
                else remaining.push_back(r);
            }
            if (!args.quiet) {
                std::cerr << "artel " << kEngineVersion << ": " << schema.n_arms() << " arms x "
                          << schema.replications << " replications x " << schema.years << " years, "
                          << run::si(prepared.work) << " " << prepared.work_unit << ", kernel " << model.kernel()
                          << ", " << ranks << " ranks x " << plan.threads << " threads -> " << out.string() << "\n";
                if (!done.empty())
                    std::cerr << "resuming: " << done.size() << " of " << schema.replications
                              << " replications were finished\n";
            }
        });
    }
    // (a dist::Failure thrown above with code 0 is an early exit: nothing to do)
    if (const int code = settle(mine); code >= 0) return code;
    dist::broadcast(remaining);

    run::ProgressMode mode = run::ProgressMode::Auto;
    if (args.quiet) mode = run::ProgressMode::Quiet;
    else if (args.progress == "terminal") mode = run::ProgressMode::Terminal;
    else if (args.progress == "log") mode = run::ProgressMode::Log;
    const double per_rep = prepared.work / double(schema.replications);
    run::Progress progress(per_rep * double(remaining.size()), prepared.work_unit,
                           root ? mode : run::ProgressMode::Quiet);
    std::optional<RootJournal> sink;
    if (root) sink.emplace(*files->journal, *writer);
    dist::RunOptions opt;
    opt.threads = args.threads;
    opt.remaining = remaining;
    opt.partial = names.partial;
    opt.progress = &progress;
    opt.stop = &g_stop;
    opt.signal = &g_signal;
    opt.sink = root ? &*sink : nullptr;
    const auto summary = dist::run(sim, opt);
    const std::uint64_t finished = std::uint64_t(schema.replications) - remaining.size() + summary.records;
    if (summary.failure) {
        if (root) {
            const auto& f = *summary.failure;
            std::cerr << "artel: error: rank " << f.rank << " of " << ranks << ": " << f.message
                      << "\nartel: every rank stopped; finished replications are kept in '"
                      << names.checkpoint.string()
                      << "'; after fixing the cause, resume (with mpirun or srun, on any number of ranks) with:\n  "
                      << resume_cmd << "\n";
        }
        return kExitFailure;
    }
    if (summary.stopped) {
        if (root)
            std::cerr << interrupted_message(finished, schema.replications, names.checkpoint, resume_cmd);
        return signal_exit_code(summary.signal);
    }
    // Rank 0: the statistics from the complete file, the check, the rename.
    if (root) {
        mine = attempt([&] {
            try {
                writer->take_back();
                writer->finish(files->replaces);
                files->journal->remove();
            } catch (const output::OutputAppeared& e) {
                throw RunFailed(e.what());
            } catch (const std::exception& e) {
                throw RunFailed(std::string(e.what()) + "\nartel: finished replications are kept in '" +
                                names.checkpoint.string() + "'; after fixing the cause, resume with:\n  " +
                                resume_cmd);
            }
            progress.set_done(per_rep * double(remaining.size()));
            progress.finish();
        });
    }
    if (const int code = settle(mine); code >= 0) return code;
    if (root && !args.quiet) {
        std::cout << "results: " << fs::absolute(out).string() << "\n";
        print_headlines(out, model, std::cout);
        std::cout << "(" << run::si(per_rep * double(remaining.size()) / summary.seconds) << " " << prepared.work_unit
                  << "/s on " << ranks << " ranks; to rank 0: " << bytes(summary.record_bytes) << " of records";
        if (summary.pieces_sent > 0)
            std::cout << ", " << summary.pieces_sent << " pieces of split replications (" << bytes(summary.piece_bytes)
                      << ")";
        std::cout << "; " << summary.rounds << (summary.rounds == 1 ? " round" : " rounds") << " of collective writes ("
                  << summary.writes << " H5Dwrite per rank, " << fixed(summary.write_seconds, 2)
                  << " s with opening and closing); inspect with: artel info " << out.string() << ")\n";
    }
    return kExitOk;
}

int cmd_run(ModelDriver& model, RunArgs args, const std::string& command_line) {
    if (dist::size() > 1) return cmd_run_ranks(model, std::move(args), command_line);
    try {
        model.select_kernel(args.simd);
    } catch (const std::invalid_argument& e) {
        std::string known;
        for (const auto& k : model.kernels()) known += (known.empty() ? "" : ", ") + k;
        throw UsageError("--simd " + args.simd + ": " + e.what() + " (available here: auto, " + known + ")");
    }
    if (args.resume && args.force) throw UsageError("--resume and --force contradict each other: choose one");
    if (args.out.empty()) throw UsageError("-o: the output file name is empty: give one, e.g. -o results.h5");
    if (args.replications > 0) args.sets.push_back("run.replications=" + std::to_string(args.replications));
    if (args.seed) args.sets.push_back("run.seed=" + *args.seed);
    auto prepared = model.prepare(args.file, args.sets);
    const fs::path out = args.out;
    const auto names = output::output_files(out);
    prepared.metadata.command_line = command_line;
    const auto& sim = *prepared.simulation;
    const auto& schema = sim.schema();
    // What can be refused without touching anything, before the plan's work.
    if (!args.resume) (void)output::check_output(out, args.force);
    {
        struct stat a {}, b {};
        if (stat(args.file.c_str(), &a) == 0 && stat(out.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino)
            throw UsageError("output '" + out.string() + "' is the scenario file itself: choose another name");
    }
    output::check_derived(names.checkpoint);
    output::check_derived(names.partial);

    // --threads bounds every parallel part of the run, the end of it
    // (ResultWriter::finish's second thread) included.
    if (args.threads > 0) omp_set_num_threads(args.threads);
    SignalGuard signals;
    const auto plan = run::make_plan(sim, args.threads, prepared.work);
    const auto avail = run::available_memory();
    if (args.dry_run) {
        std::cout << "plan for " << args.file << ":\n"
                  << "  arms x replications x years:  " << schema.n_arms() << " x " << schema.replications << " x "
                  << schema.years << "\n"
                  << "  work:                         " << run::si(plan.work) << " " << prepared.work_unit << "\n"
                  << "  threads:                      " << plan.threads << "\n"
                  << "  kernel:                       " << model.kernel() << "\n"
                  << "  estimated peak memory:        " << bytes(plan.memory.peak()) << " (available: "
                  << bytes(double(avail)) << ")\n"
                  << "    " << run::describe(plan.memory) << "\n"
                  << "  estimated output size:        at most " << bytes(plan.output) << " (before compression)\n"
                  << "  estimated run time:           " << run::duration(plan.seconds) << "\n";
    }
    if (avail > 0 && plan.memory.peak() > double(avail))
        throw UsageError("the run needs an estimated " + bytes(plan.memory.peak()) + " of memory but only " +
                         bytes(double(avail)) + " is available: use fewer threads or a smaller population " +
                         "(see artel run --dry-run)");
    if (args.dry_run) return kExitOk;
    if (g_stop) {
        std::cerr << "artel: interrupted before the run began: nothing was written\n";
        return signal_exit_code(g_signal.load());
    }

    const output::JournalIdentity identity{prepared.metadata.scenario_text, kEngineVersion, kGitRevision};
    const auto resume_cmd = resume_command(command_line);
    std::optional<RunFiles> files;
    if (args.resume) {
        files = open_for_resume(names, identity, schema, args.quiet);
        if (!files) return kExitOk;
    } else {
        files.emplace(open_for_new_run(names, args.force, identity, schema, args.quiet));
    }
    auto& journal = *files->journal;
    auto& done = files->done;
    std::sort(done.begin(), done.end(), [](const auto& a, const auto& b) { return a.replication < b.replication; });
    set_quit_message("\nartel: stopped at once: the replications finished so far are kept in '" +
                     names.checkpoint.string() + "'.\nResume with:\n  " + resume_cmd + "\n");

    // From here on, a failure keeps the checkpoint and says how to resume.
    auto with_hint = [&](const std::string& what) {
        return what + "\nartel: finished replications are kept in '" + names.checkpoint.string() +
               "'; after fixing the cause, resume with:\n  " + resume_cmd;
    };
    using Clock = std::chrono::steady_clock;
    Clock::time_point t_setup, t_layout, t_run, t_done;
    double work = 0, seconds = 0;
    const double kernel_before = sim.kernel_seconds();  // time in the kernels before this run, if any
    try {
        output::remove_stale_partial(names.partial);
        t_setup = Clock::now();
        output::ResultWriter writer(out, schema, prepared.metadata);
        for (const auto& r : done) writer.consume(r);
        writer.batch_done();
        t_layout = Clock::now();

        run::ProgressMode mode = run::ProgressMode::Auto;
        if (args.quiet) mode = run::ProgressMode::Quiet;
        else if (args.progress == "terminal") mode = run::ProgressMode::Terminal;
        else if (args.progress == "log") mode = run::ProgressMode::Log;
        const double per_rep = prepared.work / double(schema.replications);
        run::Progress progress(per_rep * double(schema.replications - std::int64_t(done.size())), prepared.work_unit,
                               mode);
        if (!args.quiet) {
            std::cerr << "artel " << kEngineVersion << ": " << schema.n_arms() << " arms x " << schema.replications
                      << " replications x " << schema.years << " years, " << run::si(prepared.work) << " "
                      << prepared.work_unit << ", kernel " << model.kernel() << " -> " << out.string() << "\n";
            if (!done.empty())
                std::cerr << "resuming: " << done.size() << " of " << schema.replications
                          << " replications were finished\n";
        }

        JournaledWriter sink(journal, writer);
        run::RunOptions opt;
        opt.threads = args.threads;
        set_remaining(opt, done, schema.replications, sim.units_per_replication());
        opt.progress = &progress;
        opt.stop = &g_stop;
        const auto summary = run::run_replications(sim, opt, sink);
        if (summary.stopped) {
            std::cerr << interrupted_message(done.size() + summary.replications_done, schema.replications,
                                             names.checkpoint, resume_cmd);
            return signal_exit_code(g_signal.load());
        }
        t_run = Clock::now();
        writer.finish(files->replaces);
        journal.remove();  // superseded by the verified result under its final name
        t_done = Clock::now();
        progress.finish();
        work = summary.work, seconds = summary.seconds;
    } catch (const output::OutputAppeared& e) {
        throw RunFailed(e.what());
    } catch (const output::OutputRefused&) {
        throw;
    } catch (const std::overflow_error& e) {
        // A value the arithmetic cannot honour (a sum beyond what the model's
        // tallies hold): the scenario must change, so no resume can help.
        throw UsageError(std::string(e.what()) +
                         "\nartel: the scenario's values cannot be computed; change them (configs/README.md, "
                         "\"Valid ranges\"). The replications finished before are kept in '" +
                         names.checkpoint.string() + "', but a resume of this scenario would stop again");
    } catch (const std::exception& e) {
        throw RunFailed(with_hint(e.what()));
    }
    {
        auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
        if (!args.quiet) {
            std::cout << "results: " << fs::absolute(out).string() << "\n";
            print_headlines(out, model, std::cout);
            std::cout << "(" << run::si(work / seconds) << " " << prepared.work_unit
                      << "/s; time: file layout " << fixed(secs(t_setup, t_layout), 2) << " s, simulation and rows "
                      << fixed(secs(t_layout, t_run), 2) << " s, statistics " << fixed(secs(t_run, t_done), 2)
                      << " s";
            // The share of the threads' time (from the file layout to the last
            // statistic) that went into the model's kernels; the rest is
            // statistics, output, histograms, merging and waiting.
            const int threads = plan.threads;
            const double thread_seconds = threads * secs(t_setup, t_done);
            const double kernel_seconds = sim.kernel_seconds() - kernel_before;
            if (kernel_seconds > 0 && thread_seconds > 0)
                std::cout << "; in the kernels " << fixed(100 * kernel_seconds / thread_seconds, 1) << "% of "
                          << threads << (threads == 1 ? " thread" : " threads") << " x "
                          << fixed(secs(t_setup, t_done), 2) << " s";
            std::cout << "; inspect with: artel info " << out.string() << ")\n";
        }
    }
    return kExitOk;
}

// The priors of a file's uncertain parameters, and for the headline events
// the parameters that drive them most in each arm (largest |total index| or
// |PRCC|, with its 95% interval).
void print_uncertainty(const fs::path& path, const ModelDriver& model, std::ostream& os) {
    auto file = h5::File::open_read(path);
    auto root = file.root();
    if (!root.has("uncertainty")) return;
    auto g = root.open_group("uncertainty");
    const std::string design = g.attr_string("design");
    os << "uncertain parameters (design " << design << "):\n";
    std::vector<std::string> params;
    std::size_t width = 0;
    for (const auto& name : g.children())
        if (name != "replication") params.push_back(name), width = std::max(width, name.size());
    for (const auto& name : params) {
        auto d = g.open_dataset(name);
        os << "  " << name << std::string(width - name.size() + 2, ' ')
           << (d.has_attr("prior") ? d.attr_string("prior") : std::string("?")) << "\n";
    }
    const auto arms = root.open_dataset("arm_names").read_strings();
    bool header = false;
    for (const auto& h : model.headlines()) {
        if (h.series) continue;
        for (const auto& arm : arms) {
            const std::string where = "arms/" + arm + "/sensitivity";
            if (!root.has(where)) continue;
            auto sg = root.open_group(where);
            const bool sobol = sg.has("total_order");
            const auto outputs = sg.open_dataset("output").read_strings();
            const auto names = sg.open_dataset("parameter").read_strings();
            const auto cube = sg.open_dataset(sobol ? "total_order" : "prcc").read<double>();
            const auto it = std::find(outputs.begin(), outputs.end(), h.name);
            if (it == outputs.end()) continue;
            if (!header) {
                os << "top drivers (" << (sobol ? "total Sobol index" : "partial rank correlation")
                   << ", 95% interval):\n";
                header = true;
            }
            const auto o = static_cast<std::size_t>(it - outputs.begin()), d = names.size();
            std::vector<std::size_t> order(d);
            std::iota(order.begin(), order.end(), std::size_t{0});
            auto value = [&](std::size_t j) { return cube[(o * d + j) * 3]; };
            std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
                const double va = std::isnan(value(a)) ? -1 : std::fabs(value(a));
                const double vb = std::isnan(value(b)) ? -1 : std::fabs(value(b));
                return va > vb;
            });
            os << "  " << h.label << ", " << arm << ":";
            for (std::size_t k = 0; k < std::min<std::size_t>(3, d); ++k) {
                const auto j = order[k];
                if (std::isnan(value(j))) break;
                os << (k ? "; " : " ") << names[j] << " " << fixed(value(j), 2) << " ["
                   << fixed(cube[(o * d + j) * 3 + 1], 2) << ", " << fixed(cube[(o * d + j) * 3 + 2], 2) << "]";
            }
            os << "\n";
        }
    }
}

int cmd_info(const ModelDriver& model, const std::string& path) {
    const auto entry = output::examine(path);
    if (entry.kind == output::Entry::Kind::Absent) throw UsageError("no such file '" + path + "'");
    // Opening a FIFO would wait for a writer; a device is not a result file.
    if (entry.kind != output::Entry::Kind::Regular && !fs::is_regular_file(path))
        throw UsageError("'" + path + "' is " + entry.what + ", not a result file");
    {
        auto file = h5::File::open_read(path);
        auto root = file.root();
        if (!root.has_attr("format") || root.attr_string("format") != output::kFormatName)
            throw UsageError("'" + path + "' is not an artel result file");
        const auto major = root.has_attr("format_major") ? root.attr_int("format_major") : -1;
        if (major != output::kFormatMajor) {
            const auto minor = root.has_attr("format_minor") ? root.attr_int("format_minor") : -1;
            const std::string version = major < 0   ? std::string("no format version")
                                        : minor < 0 ? "format version " + std::to_string(major) + ".x"
                                                    : "format version " + std::to_string(major) + "." +
                                                          std::to_string(minor);
            throw UsageError("'" + path + "' has " + version + ", and this artel (" + kEngineVersion +
                             ") reads format major version " + std::to_string(output::kFormatMajor) +
                             (major > output::kFormatMajor ? ": read it with a newer artel" : ""));
        }
        const auto arms = root.open_dataset("arm_names").read_strings();
        std::cout << "file:          " << path << "\n"
                  << "format:        " << root.attr_string("format") << " " << root.attr_string("format_version")
                  << "\n"
                  << "engine:        artel " << root.attr_string("engine_version") << " ("
                  << root.attr_string("git_revision") << ")\n"
                  << "created:       " << root.attr_string("created") << "\n"
                  << "command:       " << root.attr_string("command_line") << "\n"
                  << "scenario:      " << root.attr_string("scenario_file") << "\n"
                  << "seed:          " << root.attr_uint("seed") << "\n"
                  << "replications:  " << root.attr_int("replications") << "\n"
                  << "years:         " << root.attr_int("start_year") << "-"
                  << root.attr_int("start_year") + root.attr_int("years") - 1 << "\n"
                  << "arms:          ";
        for (std::size_t i = 0; i < arms.size(); ++i) std::cout << (i ? ", " : "") << arms[i];
        std::cout << " (baseline: " << arms.front() << ")\n";
        if (root.attr_int("complete") != 1) {
            std::cout << "status:        INCOMPLETE (" << root.attr_int("replications_written")
                      << " replications written)\n";
            return kExitFailure;
        }
    }
    print_headlines(path, model, std::cout);
    print_uncertainty(path, model, std::cout);
    return kExitOk;
}

}  // namespace

namespace {

// One line, control characters shown as escapes: a --set value as the user
// typed it, in a message.
std::string printable(const std::string& s) {
    std::string out;
    for (const unsigned char c : s) {
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

// A --set holds one assignment on one line: TOML would read a line break as
// the end of the value and the rest as another statement.
void check_sets(const std::vector<std::string>& sets) {
    for (const auto& s : sets) {
        const bool control = std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
        if (control)
            throw UsageError("--set '" + printable(s) + "': contains a line break or another control character; " +
                             "give one key=value per --set");
    }
}

// CLI11 names the problem in its own words ("Value abc not in range 1 to
// 4096", "At Most 1 required but received 2"); these are said before it
// parses, in the words of the rest of artel's messages.
constexpr std::array<const char*, 3> kCommands{"validate", "run", "info"};
constexpr std::array<const char*, 7> kSingleOptions{"-o", "--output", "--threads", "--replications",
                                                    "--seed", "--simd", "--progress"};

void check_command_line(int argc, char** argv) {
    // The command: the first word that is not an option.
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.empty() || a[0] == '-') continue;
        if (std::find(kCommands.begin(), kCommands.end(), a) != kCommands.end()) break;
        std::string hint;
        for (const auto* c : kCommands) {
            const std::string cmd = c;
            std::size_t common = 0;
            while (common < a.size() && common < cmd.size() && a[common] == cmd[common]) ++common;
            if (common >= 2) hint = " (did you mean '" + cmd + "'?)";
        }
        throw UsageError("unknown command '" + printable(a) + "'" + hint +
                         "; artel's commands are validate, run and info (artel --help)");
    }
    // Options that take one value, given twice: which one counts would be a guess.
    for (const auto* opt : kSingleOptions) {
        const std::string name = opt;
        std::vector<std::string> values;
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            if (a == "--") break;
            if (a == name) values.push_back(i + 1 < argc ? argv[i + 1] : "");
            else if (a.rfind(name + "=", 0) == 0) values.push_back(a.substr(name.size() + 1));
        }
        const bool alias = name == "-o" || name == "--output";
        if (alias) {
            values.clear();
            for (int i = 1; i < argc; ++i) {
                const std::string a = argv[i];
                if (a == "--") break;
                if (a == "-o" || a == "--output") values.push_back(i + 1 < argc ? argv[i + 1] : "");
                else if (a.rfind("--output=", 0) == 0) values.push_back(a.substr(9));
            }
        }
        if (values.size() > 1) {
            std::string list;
            for (const auto& v : values) list += (list.empty() ? "'" : ", '") + printable(v) + "'";
            throw UsageError(std::string(alias ? "-o/--output" : opt) + " is given " + std::to_string(values.size()) +
                             " times (" + list + "): give it once");
        }
    }
}

// A whole number in [lo, hi], with a message that says so.
CLI::Validator whole_number(std::int64_t lo, std::int64_t hi, const std::string& what) {
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            std::size_t used = 0;
            long long v = 0;
            try {
                v = std::stoll(text, &used, 10);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != text.size() || v < lo || v > hi)
                return "'" + printable(text) + "' is not " + what + ": give a whole number in [" + std::to_string(lo) +
                       ", " + std::to_string(hi) + "]";
            return "";
        },
        "INT in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

}  // namespace

int main(int argc, char** argv, ModelDriver& model) {
    // MPI, when a launcher started this process in an MPI build (a no-op otherwise).
    dist::Environment ranks(argc, argv);
    g_signal_says = dist::is_root();
    // A file-size limit (ulimit -f) then fails a write with EFBIG, reported
    // like a full disk, instead of killing the process.
    std::signal(SIGXFSZ, SIG_IGN);
    CLI::App app{"artel: a parallel Monte Carlo engine for the co-operative household model"};
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return std::string("artel: error: ") + e.what() + " (artel --help, artel run --help: the options)\n";
    });
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("artel ") + kEngineVersion + " (" + kGitRevision + ")");

    std::string validate_file;
    std::vector<std::string> validate_sets;
    auto* validate = app.add_subcommand("validate", "check a scenario file and print the resolved scenario");
    validate->add_option("file", validate_file, "scenario file (TOML)")->required();
    validate->add_option("--set", validate_sets, "override a parameter: key=value (repeatable)");

    RunArgs run_args;
    std::string seed_text;
    auto* run = app.add_subcommand("run", "run a scenario and write its results to HDF5");
    run->add_option("file", run_args.file, "scenario file (TOML)")->required();
    run->add_option("-o,--output", run_args.out, "result file (HDF5)")->required();
    run->add_option("--threads", run_args.threads, "worker threads (default: all cores)")
        ->check(whole_number(1, 4096, "a number of threads"));
    run->add_option("--replications", run_args.replications, "replications (overrides run.replications)")
        ->check(whole_number(1, 2147483647, "a number of replications"));
    run->add_option("--seed", seed_text, "seed (overrides run.seed)")
        ->check(whole_number(0, std::numeric_limits<std::int64_t>::max(), "a seed"));
    run->add_option("--set", run_args.sets, "override a parameter: key=value, or arm.NAME.key=value (repeatable)");
    run->add_flag("--force", run_args.force, "replace an existing output file");
    run->add_flag("--quiet", run_args.quiet, "print nothing but errors");
    run->add_option("--simd", run_args.simd,
                    "kernel: auto, an instruction set (avx3, avx2, sse4, scalar) or reference; results are the same")
        ->envname("ARTEL_SIMD");
    run->add_flag("--resume", run_args.resume, "continue an interrupted run from its checkpoint");
    run->add_flag("--dry-run", run_args.dry_run, "print the work, memory, output size and time a run needs, and stop");
    run->add_option("--progress", run_args.progress, "progress display: auto, terminal or log")
        ->check(CLI::IsMember({"auto", "terminal", "log"}));

    std::string info_file;
    auto* info = app.add_subcommand("info", "describe a result file and its headline results");
    info->add_option("file", info_file, "result file (HDF5)")->required();

    try {
        check_command_line(argc, argv);
        app.parse(argc, argv);
    } catch (const UsageError& e) {
        std::cerr << "artel: error: " << e.what() << "\n";
        return kExitUsage;
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? finish_stdout(kExitOk) : kExitUsage;
    }

    try {
        if (*validate) {
            check_sets(validate_sets);
            return finish_stdout(cmd_validate(model, validate_file, validate_sets));
        }
        if (*run) {
            check_sets(run_args.sets);
            // An empty --seed "" is a mistake (a shell variable not set), not "the default".
            if (run->count("--seed")) {
                if (seed_text.empty()) throw UsageError("--seed is empty: give a whole number in [0, 2^63 - 1]");
                run_args.seed = seed_text;
            }
            return finish_stdout(cmd_run(model, run_args, join_command_line(argc, argv)));
        }
        if (*info) return finish_stdout(cmd_info(model, info_file));
    } catch (const config::ConfigError& e) {
        std::cerr << "artel: error: " << e.what() << "\n";
        return kExitUsage;
    } catch (const output::ResumeRefused& e) {
        std::cerr << "artel: error: " << e.what() << "\n";
        return kExitUsage;
    } catch (const output::OutputBusy& e) {
        std::cerr << "artel: error: " << e.what() << "\n";
        return kExitUsage;
    } catch (const output::OutputRefused& e) {
        std::cerr << "artel: error: " << e.what() << "\n";
        return kExitUsage;
    } catch (const UsageError& e) {
        std::cerr << "artel: error: " << e.what() << "\n";
        return kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "artel: error: " << e.what() << "\n";
        // After a failed write (full disk, I/O error) HDF5 1.10 can crash in
        // its exit handler while closing the file: leave without it. The
        // checkpoint was synced after the last finished batch.
        std::cout.flush();
        std::cerr.flush();
        std::fflush(nullptr);
        std::_Exit(kExitFailure);
    }
    return kExitUsage;
}

}  // namespace artel::cli
