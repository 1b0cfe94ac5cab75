// The vectorised kernel (kernels/simd/) against the scalar reference: for
// every instruction set this CPU offers, step_year_simd must leave exactly the
// block state, tallies and Gini histogram that step_year leaves, bit for bit,
// after every year; and its building blocks (Philox lanes, detmath lanes,
// Bernoulli thresholds) must match their scalar counterparts bit for bit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "kernel_scenarios.hpp"
#include "test_inputs.hpp"
#include "engine/math/detmath.hpp"
#include "engine/math/fmath.hpp"
#include "engine/random/philox.hpp"
#include "engine/random/samplers.hpp"
#include "engine/random/streams.hpp"
#include "kernels/household_model.hpp"
#include "kernels/purposes.hpp"
#include "kernels/simd/step_simd.hpp"
#include "engine/random/threshold.hpp"
#include "kernels/weather.hpp"

using namespace artel;
using namespace artel::model;

namespace {

using artel::test::splitmix64;
using artel::test::adults_all_die;
using artel::test::everything_on;
using artel::test::harsh;

// Restores the instruction set in use when a test ends.
struct TargetGuard {
    std::string saved = simd_target();
    ~TargetGuard() { set_simd_target(saved); }
};

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// First differing element of two arrays, for the failure message.
template <class T>
std::string first_diff(const char* name, const std::vector<T>& a, const std::vector<T>& b) {
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) {
            std::ostringstream o;
            o.precision(17);
            o << name << "[" << i << "]: scalar " << a[i] << ", simd " << b[i];
            return o.str();
        }
    return std::string(name) + ": sizes differ";
}

#define ARTEL_REQUIRE_SAME(a, b, field)                                         \
    do {                                                                         \
        if (!same_bits((a).field, (b).field)) FAIL(first_diff(#field, (a).field, (b).field)); \
    } while (0)

void require_same_state(const BlockState& a, const BlockState& b) {
    ARTEL_REQUIRE_SAME(a, b, hh.size);
    ARTEL_REQUIRE_SAME(a, b, hh.adults);
    ARTEL_REQUIRE_SAME(a, b, hh.literate);
    ARTEL_REQUIRE_SAME(a, b, hh.coop);
    ARTEL_REQUIRE_SAME(a, b, hh.hunger);
    ARTEL_REQUIRE_SAME(a, b, hh.land);
    ARTEL_REQUIRE_SAME(a, b, hh.grain);
    ARTEL_REQUIRE_SAME(a, b, hh.cash);
    ARTEL_REQUIRE_SAME(a, b, hh.debt);
    ARTEL_REQUIRE_SAME(a, b, hh.skill);
    ARTEL_REQUIRE_SAME(a, b, vil.store);
    ARTEL_REQUIRE_SAME(a, b, vil.reserve);
    ARTEL_REQUIRE_SAME(a, b, vil.M);
    ARTEL_REQUIRE_SAME(a, b, vil.A);
    ARTEL_REQUIRE_SAME(a, b, vil.L);
}

void require_same_tally(const Tally& a, const Tally& b) {
#define X(n) INFO("count " #n); REQUIRE(a[Count::n] == b[Count::n]);
    ARTEL_COUNT_TALLIES(X)
#undef X
#define X(n) INFO("real " #n); REQUIRE(a.real[static_cast<int>(Real::n)] == b.real[static_cast<int>(Real::n)]);
    ARTEL_REAL_TALLIES(X)
#undef X
}

struct Shape {
    std::int64_t villages, households, first_village;
    std::uint32_t replication;
};

// What happened over the run (to check that the rare paths were reached).
struct Seen {
    std::int64_t famine = 0, dissolved = 0, defaults = 0, expulsions = 0, claims = 0, reserve_drawn = 0,
                 borrowed = 0, deaths = 0, births = 0;
};

// Runs the scalar and the vector kernel side by side from one initial block
// on the current target and requires identity after every year.
Seen side_by_side(const Params& p, const Shape& sh) {
    Weather w;
    draw_weather(p, sh.replication, w);
    BlockState a, b;
    a.shape(sh.replication, sh.first_village, sh.villages, sh.households);
    init_block(p, a);
    b.copy_from(a);
    YearScratch sa, sb;
    Seen seen;
    // Tallies accumulate across years (as a caller may do): both start equal.
    Tally ta, tb;
    GiniHistogram ga, gb;
    // Each year's region tallies: the same from both kernels, and adding up
    // to the year's tallies of the same quantities.
    const auto G = static_cast<std::size_t>(p.regions);
    std::vector<RegionTally> ra(G), rb(G);
    for (std::int64_t t = 0; t < p.years; ++t) {
        INFO("year " << t);
        Tally ya, yb;
        std::fill(ra.begin(), ra.end(), RegionTally{});
        std::fill(rb.begin(), rb.end(), RegionTally{});
        step_year(p, w, t, a, sa, ya, ga, nullptr, ra.data());
        step_year_simd(p, w, t, b, sb, yb, gb, rb.data());
        require_same_state(a, b);
        require_same_tally(ya, yb);
        RegionTally all;
        for (std::size_t g = 0; g < G; ++g) {
            REQUIRE(ra[g].count == rb[g].count);
            REQUIRE(ra[g].real == rb[g].real);
            REQUIRE(ra[g].overflow == rb[g].overflow);
            all.merge(ra[g]);
        }
        for (std::size_t i = 0; i < RegionTally::kCounts.size(); ++i)
            REQUIRE(all.count[i] == ya.count[static_cast<std::size_t>(RegionTally::kCounts[i])]);
        for (std::size_t j = 0; j < RegionTally::kReals.size(); ++j)
            REQUIRE(all.real[j] == ya.real[static_cast<std::size_t>(RegionTally::kReals[j])]);
        ta.merge(ya), tb.merge(yb);
        REQUIRE(ga.n == gb.n);
        REQUIRE(ga.sum == gb.sum);
    }
    seen.famine = ta[Count::famine_deaths];
    seen.dissolved = ta[Count::dissolved];
    seen.defaults = ta[Count::defaults];
    seen.expulsions = ta[Count::expulsions];
    seen.claims = ta[Count::claims];
    seen.reserve_drawn = ta.real[static_cast<int>(Real::reserve_drawn)];
    seen.borrowed = ta.real[static_cast<int>(Real::borrowed)];
    seen.deaths = ta[Count::deaths];
    seen.births = ta[Count::births];
    return seen;
}

const Shape kDefaultShape{12, 100, 3, 2};

}  // namespace

TEST_CASE("SIMD targets: names, choice and errors", "[simd]") {
    TargetGuard guard;
    const auto avail = available_simd_targets();
    REQUIRE(!avail.empty());
    // The portable one-lane fallback is always there.
    const bool has_fallback =
        std::find(avail.begin(), avail.end(), "scalar") != avail.end() ||
        std::find(avail.begin(), avail.end(), "emu128") != avail.end();
    REQUIRE(has_fallback);
    set_simd_target("auto");
    REQUIRE(simd_target() == avail.front());
    for (const auto& t : avail) {
        set_simd_target(t);
        REQUIRE(simd_target() == t);
    }
    set_simd_target("scalar-simd");
    REQUIRE((simd_target() == "scalar" || simd_target() == "emu128"));
    REQUIRE_THROWS_AS(set_simd_target("no-such-isa"), std::invalid_argument);
    if (std::find(avail.begin(), avail.end(), "avx3") != avail.end()) {
        set_simd_target("avx512");
        REQUIRE(simd_target() == "avx3");
    }
}

TEST_CASE("bernoulli_threshold turns a fixed-probability draw into an exact integer test", "[simd]") {
    std::uint64_t st = 77;
    std::vector<double> ps = {0.0,
                              -0.0,
                              -1.0,
                              1.0,
                              2.0,
                              0.5,
                              1e-300,
                              std::numeric_limits<double>::denorm_min(),
                              0x1p-33,
                              0x1p-33 + 0x1p-80,
                              0x1p-32,
                              1.0 - 0x1p-33,
                              1.0 - 0x1p-34,
                              1.0 - 0x1p-53,
                              std::numeric_limits<double>::quiet_NaN(),
                              std::numeric_limits<double>::infinity(),
                              0.015, 0.03, 0.0667, 0.22, 0.4, 0.8, 0.05, 0.3, 0.2};
    for (int i = 0; i < 20000; ++i) {
        const auto r = splitmix64(st);
        ps.push_back(std::ldexp(static_cast<double>(r >> 11), -53));             // [0, 1)
        ps.push_back((static_cast<double>(r & 0xffffffffu) + 0.5) * 0x1p-32);  // exactly a cell midpoint
        ps.push_back((static_cast<double>(r & 0xffffffffu) + 0.5) * 0x1p-32 + 0x1p-60);
    }
    for (double p : ps) {
        INFO("p = " << p);
        const std::int64_t T = rng::bernoulli_threshold(p);
        REQUIRE(T >= 0);
        REQUIRE(T <= (std::int64_t{1} << 32));
        // The boundary words and a few random ones.
        if (T > 0) REQUIRE(rng::bernoulli(static_cast<std::uint32_t>(T - 1), p));
        if (T < (std::int64_t{1} << 32)) REQUIRE_FALSE(rng::bernoulli(static_cast<std::uint32_t>(T), p));
        for (int k = 0; k < 4; ++k) {
            const auto w = static_cast<std::uint32_t>(splitmix64(st));
            REQUIRE(rng::bernoulli(w, p) == (static_cast<std::int64_t>(w) < T));
        }
        REQUIRE(rng::bernoulli(0u, p) == (0 < T));
        REQUIRE(rng::bernoulli(0xffffffffu, p) == (0xffffffffll < T));
    }
}

TEST_CASE("Philox lanes reproduce the Random123 known-answer vectors on every target", "[simd]") {
    const std::string path = std::string(ARTEL_TEST_DATA_DIR) + "/random123_kat_vectors.txt";
    std::ifstream in(path);
    REQUIRE(in.good());
    std::vector<rng::Counter> ctr;
    std::vector<rng::Key> key;
    std::vector<rng::Block> expected;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string name;
        int rounds = 0;
        if (!(ls >> name) || name != "philox4x32") continue;
        if (!(ls >> rounds) || rounds != 10) continue;
        rng::Counter c{};
        rng::Key k{};
        rng::Block e{};
        ls >> std::hex;
        for (auto& x : c) ls >> x;
        for (auto& x : k) ls >> x;
        for (auto& x : e) ls >> x;
        REQUIRE(!ls.fail());
        ctr.push_back(c);
        key.push_back(k);
        expected.push_back(e);
    }
    REQUIRE(ctr.size() >= 3);
    for (const auto& target : available_simd_targets()) {
        DYNAMIC_SECTION("target " << target) {
            for (std::size_t i = 0; i < ctr.size(); ++i) {
                // One known answer alone (a partial vector) and repeated over a full one.
                for (std::size_t n : {std::size_t{1}, std::size_t{19}}) {
                    std::vector<rng::Counter> c(n, ctr[i]);
                    std::vector<rng::Block> out(n);
                    simd::philox_blocks(target, key[i], c.data(), out.data(), n);
                    for (const auto& o : out) REQUIRE(o == expected[i]);
                }
            }
        }
    }
}

TEST_CASE("Philox lanes match the scalar Philox and named streams on every target", "[simd]") {
    std::uint64_t st = 20240601;
    const std::size_t n = 4099;
    std::vector<rng::Counter> ctr(n);
    for (auto& c : ctr) {
        const auto a = splitmix64(st), b = splitmix64(st);
        c = {static_cast<std::uint32_t>(a), static_cast<std::uint32_t>(a >> 32), static_cast<std::uint32_t>(b),
             static_cast<std::uint32_t>(b >> 32)};
    }
    const auto kk = splitmix64(st);
    const rng::Key key{static_cast<std::uint32_t>(kk), static_cast<std::uint32_t>(kk >> 32)};
    for (const auto& target : available_simd_targets()) {
        DYNAMIC_SECTION("target " << target) {
            std::vector<rng::Block> out(n);
            simd::philox_blocks(target, key, ctr.data(), out.data(), n);
            for (std::size_t i = 0; i < n; ++i) REQUIRE(out[i] == rng::philox4x32_10(ctr[i], key));

            // Household streams as the kernel draws them (lane-invariant counter words).
            const std::uint32_t rep = 7, first = (1u << 30) - 37, households = 53, blocks = 5;
            const std::uint32_t sp = (rng::year_slot(12) << 8) | static_cast<std::uint32_t>(Purpose::Demography);
            std::vector<std::uint32_t> words(4u * blocks * households);
            std::vector<double> uni(words.size()), nor(words.size());
            simd::household_words(target, key, rep, first, households, sp, blocks, words.data());
            simd::household_uniforms(target, key, rep, first, households, sp, blocks, uni.data());
            simd::household_normals(target, key, rep, first, households, sp, blocks, nor.data());
            for (std::uint32_t h = 0; h < households; ++h) {
                const rng::Stream s(key, rep, rng::EntityKind::Household, first + h, rng::year_slot(12),
                                    static_cast<std::uint32_t>(Purpose::Demography));
                for (std::uint32_t b = 0; b < blocks; ++b) {
                    const auto blk = s.block(b);
                    const auto np0 = rng::normal_pair(blk[0], blk[1]), np1 = rng::normal_pair(blk[2], blk[3]);
                    const double z[4] = {np0.z0, np0.z1, np1.z0, np1.z1};
                    for (std::uint32_t k = 0; k < 4; ++k) {
                        const std::size_t at = (std::size_t{b} * 4 + k) * households + h;
                        REQUIRE(words[at] == blk[k]);
                        REQUIRE(std::bit_cast<std::uint64_t>(uni[at]) ==
                                std::bit_cast<std::uint64_t>(rng::uniform01(blk[k])));
                        REQUIRE(std::bit_cast<std::uint64_t>(nor[at]) == std::bit_cast<std::uint64_t>(z[k]));
                    }
                }
            }
        }
    }
}

TEST_CASE("detmath lanes are bit-identical to scalar detmath on every target", "[simd]") {
    constexpr double inf = std::numeric_limits<double>::infinity();
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> x = {0.0,   -0.0,  1.0,   -1.0,  0.5,    -0.5,   2.0,      710.0,   -746.0,  709.78,
                             -708.4, -745.13, 745.2, 1e-310, -1e-310, 1e-320, 0x1p-1022, 0x1p-1074, 1e300,  -1e300,
                             inf,   -inf,  nan,   0.25,  0.125,  0.375,  0.999999, 1e-9,    0.3,     0.78125,
                             0.3 / (2 * 3.141592653589793), 0.78125 / (2 * 3.141592653589793)};
    std::uint64_t st = 12345;
    for (int i = 0; i < 200000; ++i) {
        const auto r = splitmix64(st);
        switch (i % 6) {
            case 0: x.push_back(std::ldexp(static_cast<double>(r >> 11), -53)); break;                  // [0,1)
            case 1: x.push_back((std::ldexp(static_cast<double>(r >> 11), -53) - 0.5) * 1500.0); break;  // exp range
            case 2: x.push_back(std::bit_cast<double>(r)); break;                                         // any bits
            case 3: x.push_back((static_cast<double>(r & 0xffffffffu) + 0.5) * 0x1p-32); break;         // uniforms
            case 4: x.push_back((std::ldexp(static_cast<double>(r >> 11), -53) - 0.5) * 4.0); break;     // [-2, 2)
            default: x.push_back(std::ldexp(static_cast<double>(r >> 11), -53) * 3000.0); break;        // wealth
        }
    }
    auto bits = [](double v) { return std::bit_cast<std::uint64_t>(v); };
    struct Case {
        simd::MathFn f;
        const char* name;
    };
    const Case cases[] = {{simd::MathFn::exp, "exp"},
                          {simd::MathFn::log, "log"},
                          {simd::MathFn::sin_2pi, "sin_2pi"},
                          {simd::MathFn::cos_2pi, "cos_2pi"},
                          {simd::MathFn::one_minus_exp_neg, "one_minus_exp_neg"},
                          {simd::MathFn::normal_z0, "normal_z0"},
                          {simd::MathFn::to_fixed, "to_fixed"},
                          {simd::MathFn::gini_bin, "gini_bin"},
                          {simd::MathFn::normal_z0_f, "normal_z0_f"},
                          {simd::MathFn::exp_small_f, "exp_small_f"},
                          {simd::MathFn::one_minus_exp_neg_f, "one_minus_exp_neg_f"}};
    for (const auto& target : available_simd_targets()) {
        DYNAMIC_SECTION("target " << target) {
            for (const auto& c : cases) {
                INFO("function " << c.name);
                std::vector<double> in = x;
                if (c.f == simd::MathFn::sin_2pi || c.f == simd::MathFn::cos_2pi) {
                    // sincos_2pi's domain: |u| < 2^49
                    for (auto& v : in)
                        if (!(std::fabs(v) < 0x1p49)) v = 0.125;
                }
                if (c.f == simd::MathFn::gini_bin) {
                    for (auto& v : in)
                        if (!(v >= 0.0)) v = 0.0;  // wealth is max(0, ...)
                }
                if (c.f == simd::MathFn::exp_small_f) {
                    for (auto& v : in)
                        if (!(std::fabs(v) <= 87.0)) v = std::isfinite(v) ? std::fmod(v, 87.0) : 0.5;  // the domain
                    for (const double v : {-87.0, 87.0, 0.0, -0.0, 0.34657359, -0.34657359, 41.5, -41.5})
                        in.push_back(v);
                }
                if (c.f == simd::MathFn::one_minus_exp_neg_f) {
                    for (auto& v : in) v = std::fmod(std::fabs(v), 100.0) - 1.0;  // the activation rates' range and more
                    for (const double v : {0.0, -0.0, 80.0, 81.0, 1e-30, 1e30, -1e30})
                        in.push_back(v);
                    in.push_back(std::numeric_limits<double>::quiet_NaN());
                }
                if (c.f == simd::MathFn::normal_z0_f) {
                    // the ends of both words' ranges: u0 = 2^-24 and 1, u1 = 0 and the quadrant edges
                    for (const std::uint64_t w0 : {0x0ull, 0xFFull, 0x100ull, 0xFFFFFFFFull, 0xFFFFFF00ull, 0x80000000ull})
                        for (const std::uint64_t w1 : {0x0ull, 0xFFull, 0x40000000ull, 0x80000000ull, 0xC0000000ull,
                                                       0x3FFFFFFFull, 0xFFFFFFFFull, 0x20000000ull})
                            in.push_back(std::bit_cast<double>((w0 << 32) | w1));
                }
                std::vector<double> out(in.size());
                simd::math_lanes(target, c.f, in.data(), out.data(), in.size());
                for (std::size_t i = 0; i < in.size(); ++i) {
                    const double v = in[i];
                    double ref = 0;
                    switch (c.f) {
                        case simd::MathFn::exp: ref = dmath::exp(v); break;
                        case simd::MathFn::log: ref = dmath::log(v); break;
                        case simd::MathFn::sin_2pi: {
                            double s, co;
                            dmath::sincos_2pi(v, s, co);
                            ref = s;
                            break;
                        }
                        case simd::MathFn::cos_2pi: {
                            double s, co;
                            dmath::sincos_2pi(v, s, co);
                            ref = co;
                            break;
                        }
                        case simd::MathFn::one_minus_exp_neg: ref = dmath::one_minus_exp_neg(v); break;
                        case simd::MathFn::normal_z0: {
                            const auto b = bits(v);
                            ref = rng::normal_pair(static_cast<std::uint32_t>(b >> 32), static_cast<std::uint32_t>(b))
                                      .z0;
                            break;
                        }
                        case simd::MathFn::to_fixed: ref = std::bit_cast<double>(to_fixed(v)); break;
                        case simd::MathFn::gini_bin: ref = static_cast<double>(gini_bin(v)); break;
                        case simd::MathFn::normal_z0_f: {
                            const auto b = bits(v);
                            ref = fmath::normal_z0(static_cast<std::uint32_t>(b >> 32), static_cast<std::uint32_t>(b));
                            break;
                        }
                        case simd::MathFn::exp_small_f: ref = fmath::exp_small(static_cast<float>(v)); break;
                        case simd::MathFn::one_minus_exp_neg_f:
                            ref = fmath::one_minus_exp_neg(static_cast<float>(v));
                            break;
                    }
                    // NaN results: any NaN is a NaN, but detmath propagates the input's, so require bits.
                    if (bits(out[i]) != bits(ref)) {
                        INFO("x = " << std::hexfloat << v << " scalar " << ref << " simd " << out[i]);
                        REQUIRE(bits(out[i]) == bits(ref));
                    }
                }
            }
        }
    }
}

TEST_CASE("step_year_simd is bit-identical to step_year on every target", "[simd]") {
    TargetGuard guard;
    const auto scenarios = test::kernel_scenarios();
    for (const auto& target : available_simd_targets()) {
        set_simd_target(target);
        for (const auto& sc : scenarios) {
            DYNAMIC_SECTION("target " << target << ", " << sc.name) { side_by_side(sc.p, kDefaultShape); }
        }
    }
}

TEST_CASE("step_year_simd handles odd block shapes on every target", "[simd]") {
    TargetGuard guard;
    const Shape shapes[] = {{1, 1, 0, 0},   {5, 1, 17, 1},   {4, 7, 0, 3},    {3, 13, 5, 0},
                            {2, 100, 0, 4}, {7, 9, 123, 2},  {1, 16, 0, 0},   {3, 17, 1, 5},
                            {2, 33, 2, 0},  {6, 100, 1994, 9}};
    for (const auto& target : available_simd_targets()) {
        set_simd_target(target);
        for (const auto& sh : shapes) {
            DYNAMIC_SECTION("target " << target << ", " << sh.villages << " villages x " << sh.households) {
                side_by_side(everything_on(), sh);
                Params h = harsh();
                h.seed = 4242;
                side_by_side(h, sh);
            }
        }
    }
}

TEST_CASE("the eldest child comes of age whenever every adult dies", "[simd]") {
    // adults_all_die(): every adult dies each year and no child comes of age
    // otherwise, so every household with children takes the eldest-child path
    // (Demography word 4, a second Philox block drawn only for it) until it
    // has none left. The scenario is among the identity tests above; this
    // checks that it does what it is there for.
    const Params p = adults_all_die();
    BlockState s;
    s.shape(1, 0, 4, 50);
    init_block(p, s);
    Weather w;
    draw_weather(p, 1, w);
    YearScratch scratch;
    std::int64_t with_children = 0, took_path = 0, literate = 0;
    for (std::size_t i = 0; i < s.n_households(); ++i) with_children += s.hh.size[i] > s.hh.adults[i];
    Tally tally;
    GiniHistogram gini;
    step_year(p, w, 0, s, scratch, tally, gini);
    for (std::size_t i = 0; i < s.n_households(); ++i) {
        if (s.hh.size[i] == 0) continue;
        REQUIRE(s.hh.adults[i] == 1);  // the eldest child, all adults having died
        ++took_path;
        literate += s.hh.literate[i];
    }
    CHECK(took_path == with_children);
    CHECK(took_path > 50);
    CHECK(literate > 0);             // school_rate 0.5: some eldest children are literate
    CHECK(literate < took_path);     // and some are not
}

TEST_CASE("the identity tests reach the kernel's rare paths", "[simd]") {
    TargetGuard guard;
    set_simd_target("auto");
    const Seen a = side_by_side(everything_on(), {40, 100, 0, 1});
    Params p = harsh();
    const Seen h = side_by_side(p, {40, 100, 0, 1});
    p.coop_aid = 1.0;
    p.reserve_levy = 0.9;
    p.seed = 99;
    const Seen f = side_by_side(p, {40, 100, 0, 1});
    CHECK(a.famine > 0);
    CHECK(a.claims > 0);
    CHECK(a.reserve_drawn > 0);
    CHECK(a.borrowed > 0);
    CHECK(h.dissolved > 0);
    CHECK(h.defaults > 0);
    CHECK(h.expulsions > 0);
    CHECK(h.famine > 0);
    CHECK(f.reserve_drawn > 0);
    CHECK(a.deaths > 0);
    CHECK(a.births > 0);
}

TEST_CASE("init_block_simd is bit-identical to init_block on every target", "[simd]") {
    TargetGuard guard;
    std::vector<Params> ps(4);
    ps[1].skill_a = 0.5;  // the Gamma boost for shape < 1
    ps[1].skill_b = 0.7;
    ps[1].size_mean = 9.0;
    ps[1].passive0 = 0.3;
    ps[1].active0 = 0.4;
    ps[2].size_mean = 1.0;  // every household of size 1
    ps[2].store0 = 1.0;
    ps[3].seed = 77;
    ps[3].adult_share = 0.9;
    ps[3].literacy0 = 0.95;
    const Shape shapes[] = {{1, 1, 0, 0}, {3, 13, 5, 2}, {4, 7, 0, 3}, {12, 100, 3, 1}, {2, 100, 1000, 9}};
    for (const auto& target : available_simd_targets()) {
        set_simd_target(target);
        for (std::size_t k = 0; k < ps.size(); ++k) {
            for (const auto& sh : shapes) {
                DYNAMIC_SECTION("target " << target << ", params " << k << ", " << sh.villages << " x "
                                          << sh.households) {
                    BlockState a, b;
                    a.shape(sh.replication, sh.first_village, sh.villages, sh.households);
                    b.shape(sh.replication, sh.first_village, sh.villages, sh.households);
                    init_block(ps[k], a);
                    init_block_simd(ps[k], b);
                    require_same_state(a, b);
                }
            }
        }
    }
}
