#include "engine/cli/cli.hpp"

#include <omp.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <atomic>
#include <csignal>
#include <cmath>
#include <fstream>
#include <optional>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "artel/version.hpp"
#include "engine/config/error.hpp"
#include "engine/h5/h5.hpp"
#include "engine/output/checkpoint.hpp"
#include "engine/output/result_writer.hpp"
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

std::string join_command_line(int argc, char** argv) {
    std::string s;
    for (int i = 0; i < argc; ++i) {
        if (i) s += ' ';
        const std::string a = argv[i];
        const bool quote = a.empty() || a.find_first_of(" \t'\"$") != std::string::npos;
        s += quote ? "'" + a + "'" : a;
    }
    return s;
}

// Refuses, before any work, an output that exists (without --force) or that
// cannot be written.
void check_output(const fs::path& out, bool force) {
    std::error_code ec;
    if (fs::is_directory(out, ec)) throw UsageError("output '" + out.string() + "' is a directory");
    if (fs::exists(out, ec) && !force)
        throw UsageError("output '" + out.string() +
                         "' exists; artel never overwrites results: choose another name or pass --force");
    fs::path dir = out.parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::is_directory(dir, ec))
        throw UsageError("cannot write output '" + out.string() + "': directory '" + dir.string() +
                         "' does not exist");
    if (access(dir.c_str(), W_OK) != 0)
        throw UsageError("cannot write output '" + out.string() + "': directory '" + dir.string() +
                         "' is not writable");
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

int cmd_validate(const ModelDriver& model, const std::string& file, const std::vector<std::string>& sets) {
    auto run = model.prepare(file, sets);
    std::cout << run.metadata.scenario_text;
    std::cerr << "scenario '" << file << "' is valid: " << run.simulation->schema().n_arms() << " arms, "
              << run.simulation->schema().replications << " replications, " << run::si(run.work) << " "
              << run.work_unit << "\n";
    return kExitOk;
}

bool is_complete_result(const fs::path& path) {
    try {
        auto file = h5::File::open_read(path);
        auto root = file.root();
        return root.has_attr("format") && root.attr_string("format") == output::kFormatName &&
               root.attr_int("complete") == 1;
    } catch (const std::exception&) {
        return false;
    }
}

struct RunArgs {
    std::string file, out;
    std::vector<std::string> sets;
    int threads = 0;
    std::int64_t replications = 0;
    std::string seed;
    bool force = false, quiet = false, resume = false, dry_run = false;
    std::string progress = "auto";
    std::string simd = "auto";
};

// Signals: the first SIGINT/SIGTERM asks the runner to stop after the work in
// flight; a second SIGINT leaves at once (the checkpoint is intact up to its
// last sync, and a torn tail is dropped on resume).
std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig) {
    if (g_signal.load() == SIGINT && sig == SIGINT) _exit(130);
    g_signal.store(sig);
    g_stop.store(true);
    static const char msg[] = "\nartel: stopping after the work in flight (Ctrl-C again to quit at once)\n";
    const auto ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
}

struct SignalGuard {
    struct sigaction old_int {}, old_term {};
    SignalGuard() {
        g_stop = false;
        g_signal = 0;
        struct sigaction sa {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    ~SignalGuard() {
        sigaction(SIGINT, &old_int, nullptr);
        sigaction(SIGTERM, &old_term, nullptr);
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

int cmd_run(ModelDriver& model, RunArgs args, const std::string& command_line) {
    try {
        model.select_kernel(args.simd);
    } catch (const std::invalid_argument& e) {
        std::string known;
        for (const auto& k : model.kernels()) known += (known.empty() ? "" : ", ") + k;
        throw UsageError("--simd " + args.simd + ": " + e.what() + " (available here: auto, " + known + ")");
    }
    if (args.replications > 0) args.sets.push_back("run.replications=" + std::to_string(args.replications));
    if (!args.seed.empty()) args.sets.push_back("run.seed=" + args.seed);
    if (args.resume && args.force) throw UsageError("--resume and --force contradict each other: choose one");
    auto prepared = model.prepare(args.file, args.sets);
    const fs::path out = args.out;
    prepared.metadata.command_line = command_line;
    const auto& sim = *prepared.simulation;
    const auto& schema = sim.schema();

    // --threads bounds every parallel part of the run, the end of it
    // (ResultWriter::finish's second thread) included.
    if (args.threads > 0) omp_set_num_threads(args.threads);
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

    const auto partial = output::partial_path(out);
    const auto journal_file = output::checkpoint_path(out);
    std::error_code ec;
    if (args.resume && fs::exists(out, ec) && is_complete_result(out)) {
        // Killed after the final rename but before the checkpoint was removed.
        fs::remove(journal_file, ec);
        fs::remove(partial, ec);
        if (!args.quiet) std::cerr << "artel: '" << out.string() << "' is already complete: nothing to resume\n";
        return kExitOk;
    }
    check_output(out, args.force);
    const output::JournalIdentity identity{prepared.metadata.scenario_text, kEngineVersion, kGitRevision};

    std::vector<run::ReplicationRecord> done;
    std::optional<output::CheckpointJournal> journal;
    if (args.resume) {
        if (!fs::exists(journal_file, ec))
            throw UsageError("nothing to resume: no checkpoint '" + journal_file.string() + "'");
        journal.emplace(output::CheckpointJournal::resume(journal_file, identity, schema, done));
    } else if (fs::exists(journal_file, ec) || fs::exists(partial, ec)) {
        if (!args.force)
            throw UsageError("an unfinished run of '" + out.string() + "' exists ('" + journal_file.string() +
                             "'): continue it with --resume, or start over with --force");
        fs::remove(journal_file, ec);
        fs::remove(partial, ec);
    }
    if (!journal) journal.emplace(output::CheckpointJournal::create(journal_file, identity, schema));

    const auto t_setup = std::chrono::steady_clock::now();
    const double kernel_before = sim.kernel_seconds();  // the plan's timed unit
    output::ResultWriter writer(out, schema, prepared.metadata, /*replace_partial=*/true);
    for (const auto& r : done) writer.consume(r);
    writer.batch_done();
    const auto t_layout = std::chrono::steady_clock::now();

    run::ProgressMode mode = run::ProgressMode::Auto;
    if (args.quiet) mode = run::ProgressMode::Quiet;
    else if (args.progress == "terminal") mode = run::ProgressMode::Terminal;
    else if (args.progress == "log") mode = run::ProgressMode::Log;
    const double per_rep = prepared.work / double(schema.replications);
    run::Progress progress(per_rep * double(schema.replications - std::int64_t(done.size())), prepared.work_unit, mode);
    if (!args.quiet) {
        std::cerr << "artel " << kEngineVersion << ": " << schema.n_arms() << " arms x " << schema.replications
                  << " replications x " << schema.years << " years, " << run::si(prepared.work) << " "
                  << prepared.work_unit << ", kernel " << model.kernel() << " -> " << out.string() << "\n";
        if (!done.empty())
            std::cerr << "resuming: " << done.size() << " of " << schema.replications
                      << " replications were finished\n";
    }

    JournaledWriter sink(*journal, writer);
    SignalGuard signals;
    run::RunOptions opt;
    opt.threads = args.threads;
    opt.first_replication = done.size();
    opt.replications = std::uint64_t(schema.replications) - done.size();
    opt.progress = &progress;
    opt.stop = &g_stop;
    run::RunSummary summary;
    try {
        summary = run::run_replications(sim, opt, sink);
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string(e.what()) + "\nartel: finished replications are kept in '" +
                                 journal_file.string() + "'; after fixing the cause, resume with:\n  " +
                                 resume_command(command_line));
    }
    if (summary.stopped) {
        const int sig = g_signal.load();
        std::cerr << "\nartel: interrupted: " << done.size() + summary.replications_done << " of "
                  << schema.replications << " replications are finished and kept in '" << journal_file.string()
                  << "'.\nResume with:\n  " << resume_command(command_line) << "\n";
        return sig == SIGTERM ? 143 : 130;
    }
    const auto t_run = std::chrono::steady_clock::now();
    writer.finish();
    journal->remove();
    const auto t_done = std::chrono::steady_clock::now();
    progress.finish();
    auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    if (!args.quiet) {
        std::cout << "results: " << fs::absolute(out).string() << "\n";
        print_headlines(out, model, std::cout);
        std::cout << "(" << run::si(summary.work / summary.seconds) << " " << prepared.work_unit
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
                      << threads << (threads == 1 ? " thread" : " threads") << " x " << fixed(secs(t_setup, t_done), 2)
                      << " s";
        std::cout << "; inspect with: artel info " << out.string() << ")\n";
    }
    return kExitOk;
}

int cmd_info(const ModelDriver& model, const std::string& path) {
    if (!fs::exists(path)) throw UsageError("no such file '" + path + "'");
    {
        auto file = h5::File::open_read(path);
        auto root = file.root();
        if (!root.has_attr("format") || root.attr_string("format") != output::kFormatName)
            throw UsageError("'" + path + "' is not an artel result file");
        const auto major = root.attr_int("format_major");
        if (major != output::kFormatMajor)
            throw UsageError("'" + path + "' has format version " + root.attr_string("format_version") +
                             ", this artel reads major version " + std::to_string(output::kFormatMajor));
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
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv, ModelDriver& model) {
    // A file-size limit (ulimit -f) then fails a write with EFBIG, reported
    // like a full disk, instead of killing the process.
    std::signal(SIGXFSZ, SIG_IGN);
    CLI::App app{"artel: a parallel Monte Carlo engine for the co-operative household model"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("artel ") + kEngineVersion + " (" + kGitRevision + ")");

    std::string validate_file;
    std::vector<std::string> validate_sets;
    auto* validate = app.add_subcommand("validate", "check a scenario file and print the resolved scenario");
    validate->add_option("file", validate_file, "scenario file (TOML)")->required();
    validate->add_option("--set", validate_sets, "override a parameter: key=value (repeatable)");

    RunArgs run_args;
    auto* run = app.add_subcommand("run", "run a scenario and write its results to HDF5");
    run->add_option("file", run_args.file, "scenario file (TOML)")->required();
    run->add_option("-o,--output", run_args.out, "result file (HDF5)")->required();
    run->add_option("--threads", run_args.threads, "worker threads (default: all cores)")
        ->check(CLI::Range(1, 4096));
    run->add_option("--replications", run_args.replications, "replications (overrides run.replications)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{2147483647}));
    run->add_option("--seed", run_args.seed, "seed (overrides run.seed)");
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
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? kExitOk : kExitUsage;
    }

    try {
        if (*validate) return cmd_validate(model, validate_file, validate_sets);
        if (*run) return cmd_run(model, run_args, join_command_line(argc, argv));
        if (*info) return cmd_info(model, info_file);
    } catch (const config::ConfigError& e) {
        std::cerr << "artel: error: " << e.what() << "\n";
        return kExitUsage;
    } catch (const output::ResumeRefused& e) {
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
