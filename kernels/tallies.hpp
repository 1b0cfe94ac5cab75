// What a village block adds up for one arm and one year (or the start):
// counts exactly, real quantities in fixed point. Integer sums do not depend
// on the order of addition, so a block's tallies are the same whatever the
// SIMD width that produced them, and blocks merge exactly in any order.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace artel::model {

// Counts (exact integers).
#define ARTEL_COUNT_TALLIES(X) \
    X(living)                  \
    X(persons)                 \
    X(persons_start)           \
    X(passive)                 \
    X(active)                  \
    X(adults)                  \
    X(literate)                \
    X(hungry)                  \
    X(famine_deaths)           \
    X(births)                  \
    X(deaths)                  \
    X(dissolved)               \
    X(expulsions)              \
    X(defaults)                \
    X(stores_open)             \
    X(claims)                  \
    X(audits)

// Real quantities (fixed point, 2^-20 resolution per addend).
#define ARTEL_REAL_TALLIES(X) \
    X(grain)                  \
    X(cash)                   \
    X(debt)                   \
    X(harvest)                \
    X(land)                   \
    X(sold_coop)              \
    X(sold_private)           \
    X(sold_state)             \
    X(bought)                 \
    X(borrowed)               \
    X(aid)                    \
    X(reserve_drawn)          \
    X(reserve)                \
    X(cost_bonus)             \
    X(cost_audit)             \
    X(cost_aid)               \
    X(cost_interest)          \
    X(cost_writeoff)          \
    X(leakage)

enum class Count : int {
#define X(n) n,
    ARTEL_COUNT_TALLIES(X)
#undef X
    N
};
enum class Real : int {
#define X(n) n,
    ARTEL_REAL_TALLIES(X)
#undef X
    N
};

inline constexpr int kCounts = static_cast<int>(Count::N);
inline constexpr int kReals = static_cast<int>(Real::N);
static_assert(kReals <= 32, "Tally::overflow has one bit per real tally");
inline constexpr double kFixedScale = 1048576.0;  // 2^20

// Rounds to the nearest multiple of 2^-20 and returns it as an integer.
// Deterministic: one IEEE multiply and one rounding to integer. Defined for
// |x| <= kTallyMax (and beyond, up to 2^43); add_fixed checks first.
inline std::int64_t to_fixed(double x) { return std::llrint(x * kFixedScale); }
inline double from_fixed(std::int64_t v) { return static_cast<double>(v) / kFixedScale; }

// What a real tally holds: sums of magnitude up to 2^62 units of 2^-20, that
// is kTallyMax = 2^42 = 4.4e12 roubles, centners or hectares. (int64 would
// hold 2^63; the spare factor 2 is what lets the vector kernel add small
// values to its lanes unchecked, kernels/simd/step_simd.cpp's Acc.) Every
// addend of one tally has one sign: stocks, flows and costs are >= 0, and
// the interest subsidy has the arm's sign of rate_private - rate_coop. So a
// partial sum is never larger in magnitude than the whole, and whether a
// tally passes the limit does not depend on the order of addition, the SIMD
// width or the schedule. A tally that passes it, or that is given a value
// that is not a finite number, is marked as overflowed rather than left to
// hold a wrong number, and the run stops with an error naming the quantity
// (kernels/simulation.cpp; configs/README.md, "Valid ranges"). Every
// living household's grain, cash and debt is tallied at the end of every
// year, so a household whose stock has overflowed single precision (inf, or
// NaN from inf - inf) stops the run too.
inline constexpr double kTallyMax = 4398046511104.0;             // 2^42
inline constexpr std::int64_t kFixedMax = std::int64_t{1} << 62;  // kTallyMax in units of 2^-20

// sum += f (both in units of 2^-20); false if the result is beyond
// +-kFixedMax (or would not fit an int64; sum is then left as it was).
inline bool add_fixed_units(std::int64_t& sum, std::int64_t f) {
    std::int64_t s;
    if (__builtin_add_overflow(sum, f, &s)) return false;
    sum = s;
    return s <= kFixedMax && s >= -kFixedMax;
}
// sum += to_fixed(x); false if x is not a finite number of magnitude at most
// kTallyMax (sum unchanged) or the sum is beyond +-kFixedMax.
inline bool add_fixed(std::int64_t& sum, double x) {
    if (!(std::fabs(x) <= kTallyMax)) return false;
    return add_fixed_units(sum, to_fixed(x));
}

// Wealth histogram for the Gini coefficient: bins by the double's exponent and
// top 5 mantissa bits (32 bins per octave, each at most 2.2% wide), from 2^-8
// to 2^24 roubles; below 2^-8 (including 0) is bin 0, above 2^24 the last bin.
// Each bin keeps its count and the exact (fixed-point) sum of its values, so
// merging is exact and the Gini of the grouped data is computed with the true
// bin means (docs/model.md bounds the error from within-bin spread).
inline constexpr int kGiniSubBits = 5;
inline constexpr int kGiniMinExp = -8;
inline constexpr int kGiniMaxExp = 24;
inline constexpr int kGiniBins = 1 + (kGiniMaxExp - kGiniMinExp) * (1 << kGiniSubBits);

int gini_bin(double wealth);

struct Tally {
    std::array<std::int64_t, kCounts> count{};
    std::array<std::int64_t, kReals> real{};
    // Bit r set: real tally r did not hold its sum (kTallyMax above); its
    // value is then meaningless. (Counts cannot overflow: at most 16 persons
    // in each of 2^30 households.)
    std::uint32_t overflow = 0;

    void add(Count c, std::int64_t v) { count[static_cast<int>(c)] += v; }
    void add(Real r, double v) {
        const int i = static_cast<int>(r);
        if (!add_fixed(real[static_cast<std::size_t>(i)], v)) overflow |= 1u << i;
    }
    std::int64_t operator[](Count c) const { return count[static_cast<int>(c)]; }
    double operator[](Real r) const { return from_fixed(real[static_cast<int>(r)]); }
    bool overflowed(Real r) const { return (overflow >> static_cast<int>(r)) & 1u; }
    void merge(const Tally& o) {
        for (int i = 0; i < kCounts; ++i) count[i] += o.count[i];
        for (int i = 0; i < kReals; ++i)
            if (!add_fixed_units(real[static_cast<std::size_t>(i)], o.real[static_cast<std::size_t>(i)]))
                overflow |= 1u << i;
        overflow |= o.overflow;
    }
};

struct GiniHistogram {
    std::array<std::int64_t, kGiniBins> n{};
    std::array<std::int64_t, kGiniBins> sum{};  // fixed point
    // Bins outside [lo, hi) are zero. Wealth spans a few of the 32 octaves, so
    // merging and clearing only that range saves most of the 16 KiB per
    // histogram that a worker merges for every arm and year of a unit.
    int lo = kGiniBins, hi = 0;
    // A bin's sum did not hold (as Tally::overflow; wealth is >= 0).
    bool overflow = false;

    void add(double wealth) {
        const int b = gini_bin(wealth);
        n[static_cast<std::size_t>(b)] += 1;
        if (!add_fixed(sum[static_cast<std::size_t>(b)], wealth)) overflow = true;
        lo = b < lo ? b : lo;
        hi = b + 1 > hi ? b + 1 : hi;
    }
    // Adds count[b] and fixed_sum[b] for b in [b0, b1), empty bins included
    // (they change no sum; lo and hi then span the whole range).
    void add_range(int b0, int b1, const std::int64_t* count, const std::int64_t* fixed_sum) {
        add_bins(b0, b1, count, fixed_sum);
        lo = b0 < lo ? b0 : lo;
        hi = b1 > hi ? b1 : hi;
    }
    void merge(const GiniHistogram& o) {
        add_bins(o.lo, o.hi, o.n.data(), o.sum.data());
        overflow |= o.overflow;
        if (o.lo < o.hi) {
            lo = o.lo < lo ? o.lo : lo;
            hi = o.hi > hi ? o.hi : hi;
        }
    }
    void clear() {
        for (int i = lo; i < hi; ++i) n[static_cast<std::size_t>(i)] = 0, sum[static_cast<std::size_t>(i)] = 0;
        lo = kGiniBins, hi = 0;
        overflow = false;
    }
    // Gini of the grouped data (each value replaced by its bin mean); 0 when
    // there are fewer than two households or no wealth.
    double gini() const;

private:
    // Bins [b0, b1) of count and fixed_sum into n and sum. A bin's sum is in
    // [0, kFixedMax] (wealth is >= 0; anything else has been marked), so two
    // add up in uint64 without wrapping, and the loop vectorises.
    void add_bins(int b0, int b1, const std::int64_t* count, const std::int64_t* fixed_sum) {
        std::uint64_t beyond = 0;
        for (int b = b0; b < b1; ++b) {
            const auto k = static_cast<std::size_t>(b);
            n[k] += count[b];
            const std::uint64_t s = static_cast<std::uint64_t>(sum[k]) + static_cast<std::uint64_t>(fixed_sum[b]);
            sum[k] = static_cast<std::int64_t>(s);
            beyond |= s > static_cast<std::uint64_t>(kFixedMax);
        }
        overflow |= beyond != 0;
    }
};

// What the villages of one region add up for one arm and year: the
// quantities of the per-region series (MODEL.md §7), a few of a Tally's, in
// the same units and fixed point, so that a region's sums are exact and
// every region's tallies add up to the Tally's (a test checks).
struct RegionTally {
    static constexpr std::array<Count, 4> kCounts = {Count::living, Count::persons, Count::hungry,
                                                    Count::famine_deaths};
    static constexpr std::array<Real, 5> kReals = {Real::harvest, Real::land, Real::sold_coop, Real::sold_private,
                                                  Real::sold_state};
    std::array<std::int64_t, kCounts.size()> count{};
    std::array<std::int64_t, kReals.size()> real{};
    std::uint32_t overflow = 0;  // bit j: real j (of kReals) did not hold its sum

    // count[i] += c, real[j] += r (fixed-point units), checked as Tally merges.
    void add_units(const std::int64_t* c, const std::int64_t* r) {
        for (std::size_t i = 0; i < count.size(); ++i) count[i] += c[i];
        for (std::size_t j = 0; j < real.size(); ++j)
            if (!add_fixed_units(real[j], r[j])) overflow |= 1u << j;
    }
    // A village's (or any) Tally's share of these quantities.
    void add(const Tally& t) {
        std::array<std::int64_t, kCounts.size()> c{};
        std::array<std::int64_t, kReals.size()> r{};
        for (std::size_t i = 0; i < c.size(); ++i) c[i] = t.count[static_cast<std::size_t>(kCounts[i])];
        for (std::size_t j = 0; j < r.size(); ++j) {
            r[j] = t.real[static_cast<std::size_t>(kReals[j])];
            if (t.overflowed(kReals[j])) overflow |= 1u << j;
        }
        add_units(c.data(), r.data());
    }
    void merge(const RegionTally& o) {
        add_units(o.count.data(), o.real.data());
        overflow |= o.overflow;
    }
    std::int64_t operator[](Count c) const;
    double operator[](Real r) const;
};

inline std::int64_t RegionTally::operator[](Count c) const {
    for (std::size_t i = 0; i < kCounts.size(); ++i)
        if (kCounts[i] == c) return count[i];
    return 0;
}
inline double RegionTally::operator[](Real r) const {
    for (std::size_t j = 0; j < kReals.size(); ++j)
        if (kReals[j] == r) return from_fixed(real[j]);
    return 0.0;
}

}  // namespace artel::model
