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
inline constexpr double kFixedScale = 1048576.0;  // 2^20

// Rounds to the nearest multiple of 2^-20 and returns it as an integer.
// Deterministic: one IEEE multiply and one rounding to integer.
inline std::int64_t to_fixed(double x) { return std::llrint(x * kFixedScale); }
inline double from_fixed(std::int64_t v) { return static_cast<double>(v) / kFixedScale; }

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

    void add(Count c, std::int64_t v) { count[static_cast<int>(c)] += v; }
    void add(Real r, double v) { real[static_cast<int>(r)] += to_fixed(v); }
    std::int64_t operator[](Count c) const { return count[static_cast<int>(c)]; }
    double operator[](Real r) const { return from_fixed(real[static_cast<int>(r)]); }
    void merge(const Tally& o) {
        for (int i = 0; i < kCounts; ++i) count[i] += o.count[i];
        for (int i = 0; i < kReals; ++i) real[i] += o.real[i];
    }
};

struct GiniHistogram {
    std::array<std::int64_t, kGiniBins> n{};
    std::array<std::int64_t, kGiniBins> sum{};  // fixed point
    // Bins outside [lo, hi) are zero. Wealth spans a few of the 32 octaves, so
    // merging and clearing only that range saves most of the 16 KiB per
    // histogram that a worker merges for every arm and year of a unit.
    int lo = kGiniBins, hi = 0;

    void add(double wealth) { add_bin(gini_bin(wealth), 1, to_fixed(wealth)); }
    void add_bin(int b, std::int64_t count, std::int64_t fixed_sum) {
        n[static_cast<std::size_t>(b)] += count;
        sum[static_cast<std::size_t>(b)] += fixed_sum;
        lo = b < lo ? b : lo;
        hi = b + 1 > hi ? b + 1 : hi;
    }
    // Adds count[b] and fixed_sum[b] for b in [b0, b1), empty bins included
    // (they change no sum; lo and hi then span the whole range).
    void add_range(int b0, int b1, const std::int64_t* count, const std::int64_t* fixed_sum) {
        for (int b = b0; b < b1; ++b) {
            n[static_cast<std::size_t>(b)] += count[b];
            sum[static_cast<std::size_t>(b)] += fixed_sum[b];
        }
        lo = b0 < lo ? b0 : lo;
        hi = b1 > hi ? b1 : hi;
    }
    void merge(const GiniHistogram& o) {
        for (int i = o.lo; i < o.hi; ++i) {
            n[static_cast<std::size_t>(i)] += o.n[static_cast<std::size_t>(i)];
            sum[static_cast<std::size_t>(i)] += o.sum[static_cast<std::size_t>(i)];
        }
        if (o.lo < o.hi) {
            lo = o.lo < lo ? o.lo : lo;
            hi = o.hi > hi ? o.hi : hi;
        }
    }
    void clear() {
        for (int i = lo; i < hi; ++i) n[static_cast<std::size_t>(i)] = 0, sum[static_cast<std::size_t>(i)] = 0;
        lo = kGiniBins, hi = 0;
    }
    // Gini of the grouped data (each value replaced by its bin mean); 0 when
    // there are fewer than two households or no wealth.
    double gini() const;
};

}  // namespace artel::model
