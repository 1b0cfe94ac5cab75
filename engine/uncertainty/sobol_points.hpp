// Sobol points by index, optionally Owen-scrambled: the point of index n is
// a pure function of (n, seed), computed directly, never by stepping a
// generator — so replications can be asked for in any order, from any thread.
//
// Directions: Boost.Random's `sobol` (Joe–Kuo 2008 "new-joe-kuo-6.21201",
// cut at 3667 dimensions). Boost's engine numbers points from the first
// non-zero one (its point k is the Sobol point of Gray code k + 1) and its
// sequence has no origin. Here index n is the Sobol point of Gray code
// n ^ (n >> 1), so index 0 is the origin and index n ≥ 1 equals Boost's point
// n − 1. The origin is kept because dropping it spoils the balance of the
// first 2^k points (Owen 2020, "On dropping the first Sobol' point"): indices
// 0 .. 2^k − 1 put exactly one point in each of the 2^k intervals
// [j/2^k, (j+1)/2^k) of every coordinate, and scrambling keeps that.
//
// Scramble: Owen's nested uniform scrambling (Owen 1995) of the 32 leading
// binary digits. Digit b of a coordinate is flipped by a random bit that
// depends on the digits before it (a node of the binary tree of
// intervals); those bits are splitmix64 (Steele et al. 2014) of a per-
// dimension seed and the node's number, the seed drawn from the run's
// Philox stream (UqPurpose::SobolScramble). Digits 33..52 are random too
// (a function of all 32 leading digits), so a scrambled coordinate is
// uniform on its 2^-32 interval, not a point on a 2^-32 grid.
//
// Resolution: indices are < 2^32, which use the first 32 direction numbers;
// those have no bits below the 32nd, so unscrambled coordinates are k·2^-32
// exactly (as Boost's 64-bit integers divided by 2^64). An unscrambled 0 is
// mapped to 2^-33, half that resolution, to stay inside (0, 1); mind that
// the origin is then each prior's 2^-33 quantile (−6.3 sd for a normal):
// unscrambled points are for tests and comparisons, scrambled for runs.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace artel::uq {

class SobolPoints {
public:
    static constexpr std::size_t kMaxDims = 3667;  // Boost's table (BOOST_RANDOM_SOBOL_MAX_DIMENSION, checked)
    static constexpr std::uint64_t kMaxPoints = std::uint64_t{1} << 32;

    // Throws std::invalid_argument for dims outside [1, kMaxDims].
    SobolPoints(std::size_t dims, std::uint64_t seed, bool scramble);

    std::size_t dims() const { return dims_; }
    bool scrambled() const { return scramble_; }

    // The 32 leading binary digits of coordinate `dim` of point `index`
    // (unscrambled: Boost's 64-bit value >> 32), index < 2^32.
    std::uint32_t digits(std::uint64_t index, std::size_t dim) const;
    // The coordinate in (0, 1).
    double unit(std::uint64_t index, std::size_t dim) const;

private:
    std::uint32_t direction_xor(std::uint32_t gray, std::size_t dim) const;
    std::uint32_t unscrambled(std::uint64_t index, std::size_t dim) const;
    std::uint32_t scramble_digits(std::uint32_t x, std::size_t dim) const;

    std::size_t dims_;
    bool scramble_;
    std::vector<std::uint32_t> directions_;  // [bit][dim], 32 × dims, the leading 32 bits
    std::vector<std::uint64_t> seeds_;       // per dimension: the scramble's seed
};

}  // namespace artel::uq
