// Designs: which point u in (0, 1)^dims each replication gets (MODEL.md §6).
// A prior's quantile turns coordinate d into parameter d's value. Every
// coordinate is a pure function of (kind, seed, dims, replications,
// scramble, replication, dim), whatever thread asks and in whatever order.
//
//   random    independent draws: words 0, 1 of the Philox stream
//             (seed; replication, parameter; UqPurpose::Random), 52 bits
//             (unit52 in streams.hpp).
//   lhs       Latin hypercube: per parameter d a uniformly random permutation
//             π_d of 0..R−1 (Fisher–Yates from the stream (seed; 0, d;
//             LhsPermutation), unbiased integers by Lemire's method), and
//             u = (π_d[r] + j)/R with the jitter j from word 0 of (seed; r, d;
//             LhsJitter), rounded to 52 − ceil(log2 R) bits so that π_d[r] + j
//             is exact and u falls strictly inside stratum π_d[r] (and < 1).
//             The permutations are built at construction: R·dims·4 bytes
//             (1 M replications × 20 parameters: 80 MB); more than 2^28
//             entries (1 GiB) is refused.
//   sobol     Sobol point r (SobolPoints: index 0 is the origin, index r ≥ 1
//             Boost's point r − 1), Owen-scrambled by the seed unless
//             scramble = false. Best balanced when R is a power of two.
//   saltelli  The A, B and A_B^i blocks of Saltelli (2010) from a
//             2·dims-dimensional Sobol sequence (columns 0..dims−1 are A,
//             dims..2·dims−1 are B): R = N·(dims + 2) replications, replication
//             r is base point i = r / (dims + 2) in block k = r % (dims + 2):
//             k = 0 → A_i, k = 1 → B_i, k = 2 + j → A_i with column j from B_i.
//   table     values come from a file (table.hpp); unit() is a logic error.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/uncertainty/sobol_points.hpp"

namespace artel::uq {

enum class DesignKind { Random, LatinHypercube, Sobol, Saltelli, Table };

// A design that cannot be built; one line naming the problem and what is allowed.
class DesignError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// "random", "lhs", "sobol", "saltelli", "table".
std::string design_name(DesignKind kind);
// Throws DesignError naming the known designs.
DesignKind parse_design_kind(std::string_view name);

struct SaltelliCell {
    std::uint64_t point;  // base point i
    int block;            // 0 = A, 1 = B, 2 + j = A_B^j
};

class Design {
public:
    static constexpr std::uint64_t kMaxReplications = std::uint64_t{1} << 32;
    static constexpr std::uint64_t kMaxLhsEntries = std::uint64_t{1} << 28;

    // Throws DesignError: dims = 0, no replications, more than 2^32, Sobol
    // dimensions beyond Boost's table, a Saltelli R that is not a multiple of
    // dims + 2 or gives fewer than 2 base points, an LHS too large to hold.
    Design(DesignKind kind, std::uint64_t seed, std::size_t dims, std::uint64_t replications, bool scramble = true);

    DesignKind kind() const { return kind_; }
    std::string name() const { return design_name(kind_); }
    std::uint64_t seed() const { return seed_; }
    std::size_t dims() const { return dims_; }
    std::uint64_t replications() const { return replications_; }
    bool scramble() const { return scramble_; }

    // Coordinate `dim` of replication `replication`'s point, in (0, 1).
    // std::out_of_range outside the design; std::logic_error for a table.
    double unit(std::uint64_t replication, std::size_t dim) const;
    // The whole point; out.size() must equal dims().
    void unit_row(std::uint64_t replication, std::span<double> out) const;

    // Saltelli only (std::logic_error otherwise): N, and where r lies.
    std::uint64_t base_points() const;
    SaltelliCell saltelli_cell(std::uint64_t replication) const;

private:
    void check(std::uint64_t replication, std::size_t dim) const;
    double lhs_unit(std::uint64_t replication, std::size_t dim) const;
    double saltelli_unit(std::uint64_t replication, std::size_t dim) const;

    DesignKind kind_;
    std::uint64_t seed_;
    std::size_t dims_;
    std::uint64_t replications_;
    bool scramble_;
    std::vector<std::uint32_t> permutations_;  // lhs: [dim][replication]
    unsigned jitter_bits_ = 0;                 // lhs: bits of jitter within a stratum
    std::vector<SobolPoints> sobol_;           // sobol, saltelli: zero or one
};

}  // namespace artel::uq
