// The artel executable as a user meets it: bad input is refused with a clear
// message naming key, value, range and position, exit code 2, and no output
// file; good input gives a complete file and never overwrites one silently.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "temp_dir.hpp"

namespace fs = std::filesystem;
using artel::test::TempDir;

namespace {

struct Result {
    int code;
    std::string output;  // stdout and stderr
};

// Runs a shell command line; the executable is "$ARTEL" in it.
Result run_shell(const std::string& command) {
    const std::string cmd = "ARTEL='" + std::string(ARTEL_EXE) + "'; " + command + " 2>&1";
    Result r{-1, {}};
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) r.output += buf;
    const int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

Result run_artel(const std::string& args) { return run_shell("\"$ARTEL\" " + args); }

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string default_scenario() { return read_file(fs::path(ARTEL_SOURCE_DIR) / "configs" / "nep-1923.toml"); }

std::string replace(std::string s, const std::string& from, const std::string& to) {
    const auto pos = s.find(from);
    REQUIRE(pos != std::string::npos);
    return s.replace(pos, from.size(), to);
}

// A small, fast version of the default scenario.
const char* kSmall = "--replications 2 --set population.villages=8 --set population.households=20 --quiet";

void write(const fs::path& p, const std::string& text) {
    std::ofstream out(p);
    out << text;
}

// Runs `artel run FILE -o OUT` on `scenario` and checks the refusal.
void expect_refused(const std::string& name, const std::string& scenario, const std::vector<std::string>& fragments,
                    const std::string& extra = "") {
    TempDir dir("cli-" + name);
    const auto file = dir.path / "scenario.toml";
    const auto out = dir.path / "out.h5";
    write(file, scenario);
    const auto r = run_artel("run " + file.string() + " -o " + out.string() + " " + kSmall + " " + extra);
    INFO(r.output);
    CHECK(r.code == 2);
    for (const auto& f : fragments) CHECK(r.output.find(f) != std::string::npos);
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(dir.path / "out.h5.partial"));
}

}  // namespace

TEST_CASE("bad scenarios are refused with key, value, range and position", "[cli][bad-input]") {
    const auto base = default_scenario();
    SECTION("unknown key") {
        expect_refused("unknown", replace(base, "size_mean = 5.3", "size_meen = 5.3"),
                       {"size_meen", "size_mean", "scenario.toml:"});
    }
    SECTION("wrong type") {
        expect_refused("type", replace(base, "households = 100", "households = \"many\""),
                       {"population.households", "\"many\"", "integer", "[1, 1048576]"});
    }
    SECTION("out of range") {
        expect_refused("range", replace(base, "rate_private = 0.40", "rate_private = -0.4"),
                       {"economy.rate_private", "-0.4", "[0, 1000]", "scenario.toml:"});
    }
    SECTION("probability above 1") {
        expect_refused("prob", replace(base, "failure_prob = 0.15", "failure_prob = 1.5"),
                       {"weather.failure_prob", "1.5", "[0, 1]"});
    }
    SECTION("not a number") {
        expect_refused("nan", replace(base, "sigma_H = 0.15", "sigma_H = nan"), {"weather.sigma_H", "finite"});
    }
    SECTION("malformed TOML") {
        expect_refused("malformed", replace(base, "[demography]", "[demography"), {"malformed TOML", "scenario.toml:"});
    }
    SECTION("no arms") {
        auto text = base.substr(0, base.find("[[arm]]"));
        expect_refused("noarms", text, {"no [[arm]]"});
    }
    SECTION("duplicate arm names") {
        expect_refused("dup", replace(base, "name = \"free-market\"", "name = \"nep-1923\""),
                       {"duplicate arm name 'nep-1923'"});
    }
    SECTION("an arm overriding a non-policy key") {
        expect_refused("nonpolicy", replace(base, "name = \"bonus-verified\"", "name = \"bonus-verified\"\nvillages = 3"),
                       {"bonus-verified", "population.villages", "not a policy key"});
    }
    SECTION("villages x households overflow") {
        expect_refused("overflow", base, {"villages", "households"},
                       "--set population.villages=1073741824 --set population.households=1048576");
    }
    SECTION("non-ASCII outside a comment (and toml++'s Unicode classifier)") {
        expect_refused("unicode", replace(base, "[demography]", "a \xc3\xab[[[]]]\n[demography]"),
                       {"non-ASCII", "scenario.toml:"});
    }
    SECTION("not UTF-8") {
        expect_refused("utf8", replace(base, "[demography]", "# \xff\xfe\n[demography]"), {"not valid UTF-8"});
    }
    SECTION("binary data") {
        expect_refused("binary", std::string("\x7f""ELF\x02\x01\x01\0\0\0", 10), {"scenario.toml:"});
    }
    SECTION("deeply nested arrays") {
        expect_refused("nested", std::string("x = ") + std::string(5000, '[') + std::string(5000, ']') + "\n" + base,
                       {"scenario.toml:"});
    }
    SECTION("a dotted key 50 000 levels deep (overflowed toml++'s stack)") {
        std::string key;
        for (int i = 0; i < 50000; ++i) key += "a.";
        expect_refused("deepkey", replace(base, "[demography]", key + "a = 1\n[demography]"),
                       {"scenario.toml:", "dotted key nested too deeply: more than 32 levels"});
    }
    SECTION("a table header 50 000 levels deep (overflowed toml++'s stack)") {
        std::string header = "[";
        for (int i = 0; i < 50000; ++i) header += "a.";
        expect_refused("deepheader", header + "a]\n" + base,
                       {"scenario.toml:1:65: table header nested too deeply: more than 32 levels"});
    }
    SECTION("a --set value nested 50 000 levels deep") {
        expect_refused("deepset", base, {"--set output.histogram_years:1:33: array nested too deeply"},
                       "--set 'output.histogram_years=" + std::string(50000, '[') + "'");
    }
    SECTION("a huge file") {
        expect_refused("huge", base + "\n#" + std::string(5 << 20, 'x') + "\n", {"at most"});
    }
    SECTION("a bad --set") {
        expect_refused("set", base, {"--set", "weather.failure_correlation", "[0, 1)"},
                       "--set weather.failure_correlation=1.0");
    }
    SECTION("an amount beyond its finite bound (issue 17: once accepted, it gave a negative mean cash)") {
        expect_refused("wage", replace(base, "wage = 15.0", "wage = 1e10"),
                       {"economy.wage", "1e+10", "[0, 4096]", "scenario.toml:64:"});
        expect_refused("cash0", base, {"--set", "population.cash0", "1e+300", "[0, 4096]"},
                       "--set population.cash0=1e300");
        expect_refused("a_lit", base, {"--set", "behaviour.a_lit", "[0, 1000]"}, "--set behaviour.a_lit=1e39");
    }
}

TEST_CASE("a run whose sums outgrow the tallies stops with an error naming the quantity", "[cli][extremes]") {
    // Every value in range, but each household's grain is worth about
    // 4096 x 4096 x 4096 = 7e10 roubles: 160 of them exceed the 2^42 that the
    // Gini's wealth sums hold. Caught in the plan's trial unit, before any
    // file exists.
    TempDir dir("cli-overflow");
    const auto out = dir.path / "o.h5";
    for (const char* kernel : {"auto", "reference"}) {
        const auto r = run_artel("run " + std::string(ARTEL_SOURCE_DIR) + "/configs/nep-1923.toml -o " +
                                 out.string() + " " + kSmall + " --simd " + kernel +
                                 " --set population.land_mean=4096 --set weather.yield_mean=4096"
                                 " --set economy.price0=4096");
        INFO(r.output);
        CHECK(r.code == 1);
        for (const char* s : {"replication 0", "arm 'nep-1923' in 1923", "wealth", "2^42", "Valid ranges"})
            CHECK(r.output.find(s) != std::string::npos);
        CHECK_FALSE(fs::exists(out));
        CHECK_FALSE(fs::exists(dir.path / "o.h5.partial"));
    }
}

TEST_CASE("endless inputs are read no further than the 4 MiB a scenario may have", "[cli][bad-input]") {
    TempDir dir("cli-endless");
    const std::string too_large = "is too large: reading stopped after 4194305 bytes";
    const std::string limit = "a scenario file may have at most 4194304 bytes (4 MiB)";
    const auto out = (dir.path / "o.h5").string();
    auto check = [&](const Result& r, const std::string& name) {
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(r.output.find("scenario '" + name + "' " + too_large) != std::string::npos);
        CHECK(r.output.find(limit) != std::string::npos);
        CHECK_FALSE(fs::exists(out));
        CHECK_FALSE(fs::exists(out + ".partial"));
    };
    SECTION("/dev/zero") { check(run_artel("validate /dev/zero"), "/dev/zero"); }
    SECTION("/dev/urandom") { check(run_artel("run /dev/urandom -o " + out), "/dev/urandom"); }
    SECTION("a pipe") { check(run_artel("run /dev/stdin -o " + out + " < /dev/zero"), "/dev/stdin"); }
    SECTION("a FIFO with an endless writer") {
        const auto fifo = (dir.path / "fifo").string();
        REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
        // The writer stops (SIGPIPE) when artel closes the FIFO.
        check(run_shell("(yes '# more' > '" + fifo + "' &); \"$ARTEL\" run '" + fifo + "' -o " + out), fifo);
    }
    SECTION("a regular file over the limit is refused by its size, unread") {
        const auto big = dir.path / "big.toml";
        write(big, "#");
        fs::resize_file(big, 5u << 20);
        const auto r = run_artel("validate " + big.string());
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(r.output.find("scenario '" + big.string() + "' is too large: 5242880 bytes; " + limit) !=
              std::string::npos);
    }
    SECTION("a directory") {
        const auto r = run_artel("validate " + dir.path.string());
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(r.output.find("cannot read scenario '" + dir.path.string() + "': Is a directory") != std::string::npos);
    }
}

TEST_CASE("missing files and bad output paths are refused before any work", "[cli][bad-input]") {
    TempDir dir("cli-paths");
    SECTION("missing scenario file") {
        const auto r = run_artel("run " + (dir.path / "nope.toml").string() + " -o " + (dir.path / "o.h5").string());
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(r.output.find("cannot read scenario") != std::string::npos);
        CHECK(r.output.find("nope.toml") != std::string::npos);
        CHECK_FALSE(fs::exists(dir.path / "o.h5"));
    }
    SECTION("output directory does not exist") {
        const auto out = dir.path / "missing-dir" / "o.h5";
        const auto r = run_artel("run " + std::string(ARTEL_SOURCE_DIR) + "/configs/nep-1923.toml -o " +
                                 out.string() + " " + kSmall);
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(r.output.find("does not exist") != std::string::npos);
        CHECK_FALSE(fs::exists(out));
    }
    SECTION("output path through a file") {
        write(dir.path / "file", "x");
        const auto out = dir.path / "file" / "o.h5";
        const auto r = run_artel("run " + std::string(ARTEL_SOURCE_DIR) + "/configs/nep-1923.toml -o " +
                                 out.string() + " " + kSmall);
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(r.output.find("cannot write output") != std::string::npos);
    }
    SECTION("existing output without --force is kept as it was") {
        const auto out = dir.path / "o.h5";
        write(out, "precious results");
        const auto r = run_artel("run " + std::string(ARTEL_SOURCE_DIR) + "/configs/nep-1923.toml -o " +
                                 out.string() + " " + kSmall);
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(r.output.find("exists") != std::string::npos);
        CHECK(r.output.find("--force") != std::string::npos);
        CHECK(read_file(out) == "precious results");
        CHECK_FALSE(fs::exists(dir.path / "o.h5.partial"));
    }
    SECTION("unknown command-line option") {
        const auto r = run_artel("run " + std::string(ARTEL_SOURCE_DIR) + "/configs/nep-1923.toml -o " +
                                 (dir.path / "o.h5").string() + " --thread 2");
        CHECK(r.code == 2);
        CHECK_FALSE(fs::exists(dir.path / "o.h5"));
    }
}

TEST_CASE("a run writes a complete file, info reads it, --force replaces it", "[cli]") {
    TempDir dir("cli-run");
    const auto out = dir.path / "o.h5";
    const std::string scenario = std::string(ARTEL_SOURCE_DIR) + "/configs/nep-1923.toml";
    auto r = run_artel("run " + scenario + " -o " + out.string() + " " + kSmall);
    INFO(r.output);
    REQUIRE(r.code == 0);
    REQUIRE(fs::exists(out));
    CHECK_FALSE(fs::exists(dir.path / "o.h5.partial"));

    r = run_artel("info " + out.string());
    INFO(r.output);
    CHECK(r.code == 0);
    for (const char* s : {"nep-1923", "free-market", "bonus-verified", "cultural-revolution", "sufficiency",
                          "replications:  2", "active share", "format:        artel-results 1.2"})
        CHECK(r.output.find(s) != std::string::npos);

    const auto before = fs::last_write_time(out);
    r = run_artel("run " + scenario + " -o " + out.string() + " " + kSmall + " --force --seed 7");
    CHECK(r.code == 0);
    CHECK(fs::last_write_time(out) >= before);

    r = run_artel("validate " + scenario);
    CHECK(r.code == 0);
    CHECK(r.output.find("[[arm]]") != std::string::npos);
    r = run_artel("info " + (dir.path / "none.h5").string());
    CHECK(r.code == 2);
    write(dir.path / "junk.h5", "not hdf5");
    r = run_artel("info " + (dir.path / "junk.h5").string());
    CHECK(r.code != 0);
    CHECK(r.output.find("junk.h5") != std::string::npos);
}
