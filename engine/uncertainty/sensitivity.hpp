// Which uncertain parameters drive an output (MODEL.md §6): Sobol indices
// from a Saltelli design, rank correlations from any other design.
//
// Both are pure functions of their inputs: sums run in index order and the
// bootstrap's resampling comes from the counter-based stream of the seed
// (UqPurpose::Bootstrap; resample b is ctr[0] = b), so the same outputs give
// the same indices and intervals on any thread count.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace artel::uq {

// A point estimate and its 95% interval (NaN where it cannot be computed).
struct Estimate {
    double value, lo, hi;
};

struct SobolIndices {
    std::vector<Estimate> first;  // S_i
    std::vector<Estimate> total;  // S_Ti
    std::size_t base_points = 0;  // N = y.size() / (dims + 2)
    std::size_t used = 0;         // base points whose whole block of outputs is finite
    std::size_t bootstrap = 0;    // resamples asked for
    double variance = 0;          // V, over f(A) and f(B) of the base points used
    std::string note;             // empty, or why the indices are NaN
};

// y: one output per replication in the Saltelli order of design.hpp
// (replication r = i·(dims + 2) + k; k = 0 A, 1 B, 2 + j A_B^j), so
// y.size() must be a multiple of dims + 2 (std::invalid_argument).
//   S_i  = mean_i[(f(B) − m)(f(A_B^i) − f(A))] / V    Saltelli et al. (2010), eq. (b) of table 2,
//          with f(B) centred on m, the mean of f(A) and f(B): the same
//          expectation (E[f(A_B^i) − f(A)] = 0), much less variance when
//          the output's mean is large against its spread;
//   S_Ti = mean_i[(f(A) − f(A_B^i))²] / (2V)          Jansen (1999), eq. (f) of table 2;
//   V    = sample variance (divisor 2N − 1) of the 2N values f(A), f(B).
// Base points with a non-finite output anywhere in their block are dropped.
// Intervals: percentile (2.5%, 97.5%) of `bootstrap` resamples of the base
// points, with replacement (0: no intervals). The resamples treat the base
// points as independent; for scrambled Sobol points that overstates the
// error, so the intervals are conservative.
SobolIndices sobol_indices(std::span<const double> y, std::size_t dims, std::uint64_t seed,
                           std::size_t bootstrap = 1000);

struct RankCorrelations {
    std::vector<Estimate> spearman;  // rank correlation of each parameter with y
    std::vector<Estimate> prcc;      // partial rank correlation, the other parameters held out
    std::size_t used = 0;            // rows with finite y (and finite parameters)
    std::string note;                // empty, or why some values are NaN
};

// X: rows × dims, row-major, the parameter values of each replication; y:
// one output per row. Ranks are average ranks (ties share their mean
// rank). PRCC of parameter i: the correlation of the residuals of rank(x_i)
// and rank(y) after least squares on the other parameters' ranks, computed
// as −P_iy / sqrt(P_ii P_yy) from the inverse P of the ranks' correlation
// matrix (the same number). Intervals by Fisher's z: tanh(atanh(r) ± 1.96/√m)
// with m = n − 3 (Spearman) and m = n − 3 − (p − 1) (PRCC, p parameters
// that vary). A parameter that does not vary has NaN for both.
RankCorrelations rank_correlations(const std::vector<double>& X, std::size_t dims, std::span<const double> y);

// Average ranks, 1-based: the smallest value has rank 1, ties share the mean
// of the ranks they span. Values must not be NaN.
std::vector<double> average_ranks(std::span<const double> values);

}  // namespace artel::uq
