#include "engine/cli/cli.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "artel/version.hpp"
#include "engine/config/error.hpp"
#include "engine/h5/h5.hpp"
#include "engine/output/result_writer.hpp"
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

struct RunArgs {
    std::string file, out;
    std::vector<std::string> sets;
    int threads = 0;
    std::int64_t replications = 0;
    std::string seed;
    bool force = false, quiet = false;
    std::string progress = "auto";
};

int cmd_run(const ModelDriver& model, RunArgs args, const std::string& command_line) {
    if (args.replications > 0) args.sets.push_back("run.replications=" + std::to_string(args.replications));
    if (!args.seed.empty()) args.sets.push_back("run.seed=" + args.seed);
    auto prepared = model.prepare(args.file, args.sets);
    const fs::path out = args.out;
    check_output(out, args.force);
    prepared.metadata.command_line = command_line;
    const auto& sim = *prepared.simulation;
    const auto& schema = sim.schema();

    run::ProgressMode mode = run::ProgressMode::Auto;
    if (args.quiet) mode = run::ProgressMode::Quiet;
    else if (args.progress == "terminal") mode = run::ProgressMode::Terminal;
    else if (args.progress == "log") mode = run::ProgressMode::Log;
    run::Progress progress(prepared.work, prepared.work_unit, mode);

    const auto t_setup = std::chrono::steady_clock::now();
    output::ResultWriter writer(out, schema, prepared.metadata, args.force);
    const auto t_layout = std::chrono::steady_clock::now();
    if (!args.quiet)
        std::cerr << "artel " << kEngineVersion << ": " << schema.n_arms() << " arms x " << schema.replications
                  << " replications x " << schema.years << " years, " << run::si(prepared.work) << " "
                  << prepared.work_unit << " -> " << out.string() << "\n";
    run::RunOptions opt;
    opt.threads = args.threads;
    opt.replications = static_cast<std::uint64_t>(schema.replications);
    opt.progress = &progress;
    const auto summary = run::run_replications(sim, opt, writer);
    const auto t_run = std::chrono::steady_clock::now();
    writer.finish();
    const auto t_done = std::chrono::steady_clock::now();
    auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    progress.finish();
    if (!args.quiet) {
        std::cout << "results: " << fs::absolute(out).string() << "\n";
        print_headlines(out, model, std::cout);
        std::cout << "(" << run::si(summary.work / summary.seconds) << " " << prepared.work_unit
                  << "/s; time: file layout " << fixed(secs(t_setup, t_layout), 2) << " s, simulation and rows "
                  << fixed(secs(t_layout, t_run), 2) << " s, statistics " << fixed(secs(t_run, t_done), 2)
                  << " s; inspect with: artel info " << out.string() << ")\n";
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

int main(int argc, char** argv, const ModelDriver& model) {
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
    } catch (const UsageError& e) {
        std::cerr << "artel: error: " << e.what() << "\n";
        return kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "artel: error: " << e.what() << "\n";
        return kExitFailure;
    }
    return kExitUsage;
}

}  // namespace artel::cli
