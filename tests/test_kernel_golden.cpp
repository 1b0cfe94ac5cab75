// The household model's results must not change by accident: the scalar
// reference kernel, run over every scenario of the identity tests
// (tests/kernel_scenarios.hpp) with its flow log, against digests written by
// artel 0.6.0 (tests/data/golden_kernels.txt). The identity tests then hold
// the vector kernel to the same bits on every instruction set. A change of
// results must be intended: then the file is made again with
//   ARTEL_WRITE_GOLDEN=tests/data/golden_kernels.txt build/release/tests/artel_tests '[golden]'
// and the change said in CHANGELOG.md.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "kernel_scenarios.hpp"
#include "kernels/household_model.hpp"
#include "kernels/weather.hpp"

using namespace artel;
using namespace artel::model;

namespace {

// FNV-1a, 64 bits, over the bytes of values (no padding: fields one by one).
struct Digest {
    std::uint64_t h = 0xcbf29ce484222325ull;
    void bytes(const void* p, std::size_t n) {
        const auto* c = static_cast<const unsigned char*>(p);
        for (std::size_t i = 0; i < n; ++i) h = (h ^ c[i]) * 0x100000001b3ull;
    }
    template <class T>
    void value(const T& x) {
        bytes(&x, sizeof(T));
    }
    template <class T>
    void array(const std::vector<T>& v) {
        value(v.size());
        bytes(v.data(), v.size() * sizeof(T));
    }
};

void add_state(Digest& d, const BlockState& s) {
    d.array(s.hh.size), d.array(s.hh.adults), d.array(s.hh.literate), d.array(s.hh.coop), d.array(s.hh.hunger);
    d.array(s.hh.land), d.array(s.hh.grain), d.array(s.hh.cash), d.array(s.hh.debt), d.array(s.hh.skill);
    d.array(s.vil.store), d.array(s.vil.reserve), d.array(s.vil.M), d.array(s.vil.A), d.array(s.vil.L);
}

void add_flows(Digest& d, const FlowLog& log) {
    for (const auto& f : log.flows) {
        for (double x : {f.grain0, f.cash0, f.debt0, f.grain1, f.cash1, f.debt1, f.harvest, f.levy, f.bought,
                         f.from_reserve, f.aid, f.borrowed_grain, f.consumed, f.sold, f.grain_lost, f.wage,
                         f.paid_for_grain, f.spent, f.proceeds, f.bonus, f.repaid, f.cash_lost, f.borrowed,
                         f.interest, f.written_off})
            d.value(x);
        for (std::int32_t x : {f.size0, f.literate0, f.size1, f.literate1, f.births, f.deaths, f.famine_deaths,
                               f.literate_gained, f.literate_died})
            d.value(x);
        d.value(static_cast<std::uint8_t>(f.alive_at_start));
    }
}

// The digest of a run of the reference kernel: the initial block, then after
// every year the block, the year's tallies, its regions' tallies, the flows
// of every household and the Gini histogram so far.
std::uint64_t run_digest(const Params& p) {
    const std::int64_t villages = 12, households = 100, first = 3;
    const std::uint32_t rep = 2;
    Weather w;
    draw_weather(p, rep, w);
    BlockState s;
    s.shape(rep, first, villages, households);
    init_block(p, s);
    Digest d;
    add_state(d, s);
    YearScratch scratch;
    GiniHistogram gini;
    std::vector<RegionTally> regions(static_cast<std::size_t>(p.regions));
    FlowLog log;
    for (std::int64_t t = 0; t < p.years; ++t) {
        Tally tally;
        std::fill(regions.begin(), regions.end(), RegionTally{});
        step_year(p, w, t, s, scratch, tally, gini, &log, regions.data());
        add_state(d, s);
        for (auto c : tally.count) d.value(c);
        for (auto r : tally.real) d.value(r);
        d.value(tally.overflow);
        for (const auto& rt : regions) {
            for (auto c : rt.count) d.value(c);
            for (auto r : rt.real) d.value(r);
            d.value(rt.overflow);
        }
        add_flows(d, log);
        for (auto x : gini.n) d.value(x);
        for (auto x : gini.sum) d.value(x);
        d.value(static_cast<std::uint8_t>(gini.overflow));
    }
    return d.h;
}

std::string hex(std::uint64_t x) {
    std::ostringstream o;
    o << std::hex << x;
    return o.str();
}

}  // namespace

TEST_CASE("the reference kernel gives the results of 0.6.0 in every identity scenario", "[golden]") {
    std::map<std::string, std::string> got;
    for (const auto& sc : test::kernel_scenarios()) got[sc.name] = hex(run_digest(sc.p));
    if (const char* out = std::getenv("ARTEL_WRITE_GOLDEN")) {
        std::ofstream f(out);
        for (const auto& [name, h] : got) f << h << '\t' << name << '\n';
        WARN("wrote " << out);
        return;
    }
    std::ifstream f(std::string(ARTEL_TEST_DATA_DIR) + "/golden_kernels.txt");
    REQUIRE(f);
    std::map<std::string, std::string> want;
    for (std::string line; std::getline(f, line);) {
        const auto tab = line.find('\t');
        if (tab != std::string::npos) want[line.substr(tab + 1)] = line.substr(0, tab);
    }
    REQUIRE(want.size() == got.size());
    for (const auto& [name, h] : got) {
        INFO("scenario " << name);
        REQUIRE(want.count(name) == 1);
        CHECK(want[name] == h);
    }
}
