// Sensitivity estimators of engine/uncertainty on functions whose indices are
// known in closed form, through the path the engine takes: a Design gives
// each replication its point, Prior::quantile turns it into parameter values,
// the model is evaluated per replication, and the outputs in replication
// order go to sobol_indices / rank_correlations.
//
// Tolerances. Everything is a fixed function of fixed seeds, so these tests
// cannot be flaky; the margins say how far a correct implementation is from
// failing:
//  * The bootstrap treats the N base points as independent. They are
//    scrambled Sobol points, whose error is far smaller than that of
//    independent points, so the 95% intervals are conservative: at N = 4096
//    the Ishigami estimates sit within 0.004 of the truth while the
//    intervals' half-widths are 0.014-0.045 (seeds 19230104, 1 and 2 all
//    cover every index). We check the truth is inside each interval, that no
//    interval is wider than 0.1 (a bound an iid bootstrap at this N meets
//    with room: widths 0.03-0.09), and that each estimate is within 0.02.
//  * The linear model's first-order and total indices have the same truth;
//    a null parameter's are exactly 0 (f(A_B^i) = f(A) to the bit).
//  * Rank correlations: n = 2000 LHS rows; a parameter with no effect has a
//    95% Fisher interval that covers 0 (at these seeds; by construction of
//    the interval a correct estimator misses 0 for 5% of seeds: here it is
//    [−0.043, 0.045]), and the monotone effects are far from 0 (PRCC 0.86
//    and −0.68, intervals ±0.03 wide; checked > 0.8 and < −0.6, bounds
//    beyond ±0.5).
#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#include "engine/uncertainty/design.hpp"
#include "engine/uncertainty/prior.hpp"
#include "engine/uncertainty/sensitivity.hpp"

using namespace artel::uq;

namespace {

constexpr std::uint64_t kSeed = 19230104;
constexpr double kPi = 3.14159265358979323846;

Prior prior(const std::string& dist, std::map<std::string, double> numbers) {
    return parse_prior(PriorFields{dist, std::move(numbers), {}});
}

// The model's outputs over a design, replication by replication, and the
// parameter values (rows × dims) that produced them.
struct Run {
    std::vector<double> X, y;
};
Run evaluate(const Design& d, const std::vector<Prior>& priors, const std::function<double(const double*)>& model) {
    Run run;
    const std::size_t dims = d.dims();
    run.X.resize(d.replications() * dims);
    run.y.resize(d.replications());
    std::vector<double> u(dims);
    for (std::uint64_t r = 0; r < d.replications(); ++r) {
        d.unit_row(r, u);
        double* x = run.X.data() + r * dims;
        for (std::size_t j = 0; j < dims; ++j) x[j] = priors[j].quantile(u[j]);
        run.y[r] = model(x);
    }
    return run;
}

bool covers(const Estimate& e, double truth) { return e.lo <= truth && truth <= e.hi; }

void check_indices(const SobolIndices& s, const std::vector<double>& first, const std::vector<double>& total) {
    for (std::size_t i = 0; i < first.size(); ++i) {
        INFO("parameter " << i << ": S = " << s.first[i].value << " [" << s.first[i].lo << ", " << s.first[i].hi
                          << "], ST = " << s.total[i].value << " [" << s.total[i].lo << ", " << s.total[i].hi << "]");
        CHECK(covers(s.first[i], first[i]));
        CHECK(covers(s.total[i], total[i]));
        CHECK(s.first[i].hi - s.first[i].lo < 0.1);
        CHECK(s.total[i].hi - s.total[i].lo < 0.1);
        CHECK(std::fabs(s.first[i].value - first[i]) < 0.02);
        CHECK(std::fabs(s.total[i].value - total[i]) < 0.02);
    }
}

bool same_bits(const std::vector<Estimate>& a, const std::vector<Estimate>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(Estimate)) == 0;
}

}  // namespace

TEST_CASE("uncertainty: Sobol indices of the Ishigami function", "[uncertainty]") {
    // f = sin x1 + a sin² x2 + b x3⁴ sin x1, x_i ~ U(−π, π), a = 7, b = 0.1:
    // V = a²/8 + bπ⁴/5 + b²π⁸/18 + 1/2; V1 = (1 + bπ⁴/5)²/2, V2 = a²/8,
    // V13 = b²π⁸(1/18 − 1/50); S3 = 0.
    const double a = 7, b = 0.1, pi4 = std::pow(kPi, 4), pi8 = pi4 * pi4;
    const double V = a * a / 8 + b * pi4 / 5 + b * b * pi8 / 18 + 0.5;
    const double V1 = 0.5 * (1 + b * pi4 / 5) * (1 + b * pi4 / 5), V2 = a * a / 8, V13 = b * b * pi8 * (1.0 / 18 - 1.0 / 50);
    const std::vector<double> S = {V1 / V, V2 / V, 0}, ST = {(V1 + V13) / V, V2 / V, V13 / V};
    CHECK(S[0] == Approx(0.3139).margin(5e-5));
    CHECK(ST[2] == Approx(0.2437).margin(5e-5));

    const std::size_t dims = 3, N = 4096;
    const Design design(DesignKind::Saltelli, kSeed, dims, N * (dims + 2));
    const std::vector<Prior> priors(dims, prior("uniform", {{"lo", -kPi}, {"hi", kPi}}));
    const Run run = evaluate(design, priors, [&](const double* x) {
        return std::sin(x[0]) + a * std::sin(x[1]) * std::sin(x[1]) + b * std::pow(x[2], 4) * std::sin(x[0]);
    });
    const SobolIndices s = sobol_indices(run.y, dims, kSeed);
    CHECK(s.note.empty());
    CHECK(s.base_points == N);
    CHECK(s.used == N);
    CHECK(s.bootstrap == 1000);
    CHECK(s.variance == Approx(V).epsilon(0.01));
    check_indices(s, S, ST);
}

TEST_CASE("uncertainty: Sobol indices of a linear model, dropped blocks and a constant output", "[uncertainty]") {
    // y = 1000 + Σ c_i x_i, independent uniforms: S_i = ST_i = c_i² Var x_i / Σ_j c_j² Var x_j.
    // Var: 1/12, 16/12, 0.25/12, 1/12; c²Var: 4/12, 16/12, 4/12, 0 → (1/6, 2/3, 1/6, 0).
    // The offset 1000 checks that f(B) is centred before it multiplies.
    const std::vector<Prior> priors = {prior("uniform", {{"lo", 0}, {"hi", 1}}), prior("uniform", {{"lo", -1}, {"hi", 3}}),
                                       prior("uniform", {{"lo", 10}, {"hi", 10.5}}),
                                       prior("uniform", {{"lo", 0}, {"hi", 1}})};
    const std::vector<double> c = {2, 1, 4, 0}, truth = {1.0 / 6, 2.0 / 3, 1.0 / 6, 0};
    const std::size_t dims = 4, N = 4096;
    const Design design(DesignKind::Saltelli, kSeed, dims, N * (dims + 2));
    const auto model = [&](const double* x) { return 1000 + c[0] * x[0] + c[1] * x[1] + c[2] * x[2] + c[3] * x[3]; };
    const Run run = evaluate(design, priors, model);
    const SobolIndices s = sobol_indices(run.y, dims, kSeed);
    check_indices(s, truth, truth);
    CHECK(s.first[3].value == 0);
    CHECK(s.total[3].value == 0);
    CHECK((s.total[3].lo == 0 && s.total[3].hi == 0));

    SECTION("base points with a non-finite output anywhere in their block are dropped") {
        std::vector<double> y = run.y, kept;
        const std::size_t block = dims + 2;
        for (std::size_t i = 0; i < N; ++i) {
            if (i % 10 == 3) y[i * block + (i % block)] = (i % 20 == 3) ? std::nan("") : HUGE_VAL;
            else kept.insert(kept.end(), run.y.begin() + static_cast<std::ptrdiff_t>(i * block),
                             run.y.begin() + static_cast<std::ptrdiff_t>((i + 1) * block));
        }
        const SobolIndices with_gaps = sobol_indices(y, dims, kSeed), compact = sobol_indices(kept, dims, kSeed);
        CHECK(with_gaps.base_points == N);
        CHECK(with_gaps.used == kept.size() / block);
        CHECK(with_gaps.used == N - 410);
        // The same base points, hence the same indices and resamples, to the bit.
        CHECK(same_bits(with_gaps.first, compact.first));
        CHECK(same_bits(with_gaps.total, compact.total));
    }
    SECTION("a constant output has no indices, and says why") {
        const std::vector<double> flat(N * (dims + 2), 5.0);
        const SobolIndices f = sobol_indices(flat, dims, kSeed);
        CHECK(std::isnan(f.first[0].value));
        CHECK(std::isnan(f.total[2].hi));
        CHECK(f.note == "the output does not vary over the base points (V = 0): indices are undefined");
        const SobolIndices none = sobol_indices(std::vector<double>(dims + 2, std::nan("")), dims, kSeed);
        CHECK(none.used == 0);
        CHECK(none.note == "0 of 1 base points have finite outputs in their whole block; at least 2 are needed");
    }
    SECTION("the result is a function of (outputs, seed), whatever the thread") {
        SobolIndices t[2];
#pragma omp parallel for num_threads(2)
        for (int k = 0; k < 2; ++k) t[k] = sobol_indices(run.y, dims, kSeed);
        CHECK(same_bits(t[0].first, s.first));
        CHECK(same_bits(t[1].total, s.total));
        const SobolIndices other = sobol_indices(run.y, dims, kSeed + 1);
        CHECK(other.first[0].value == s.first[0].value);  // same estimate ...
        CHECK(other.first[0].lo != s.first[0].lo);        // ... other resamples
        const SobolIndices no_boot = sobol_indices(run.y, dims, kSeed, 0);
        CHECK(no_boot.first[1].value == s.first[1].value);
        CHECK(std::isnan(no_boot.first[1].lo));
    }
    CHECK_THROWS_AS(sobol_indices(std::vector<double>(7), dims, kSeed), std::invalid_argument);
}

TEST_CASE("uncertainty: average ranks and Spearman's rank correlation with ties", "[uncertainty]") {
    CHECK(average_ranks(std::vector<double>{3, 1, 2, 2}) == std::vector<double>{4, 1, 2.5, 2.5});
    CHECK(average_ranks(std::vector<double>{7, 7, 7}) == std::vector<double>{2, 2, 2});
    // Ranks x: 1, 2.5, 2.5, 4, 5; y: 1, 4, 2.5, 2.5, 5 → r = 7.25 / 9.5.
    const std::vector<double> X = {1, 2, 2, 3, 4}, y = {1, 3, 2, 2, 5};
    const RankCorrelations rc = rank_correlations(X, 1, y);
    const double r = 7.25 / 9.5, half = 1.959963984540054 / std::sqrt(5.0 - 3);
    CHECK(rc.used == 5);
    CHECK(rc.spearman[0].value == Approx(r).epsilon(1e-15));
    CHECK(rc.spearman[0].lo == Approx(std::tanh(std::atanh(r) - half)).epsilon(1e-14));
    CHECK(rc.spearman[0].hi == Approx(std::tanh(std::atanh(r) + half)).epsilon(1e-14));
    // One parameter: nothing to hold out, the partial correlation is Spearman's.
    CHECK(rc.prcc[0].value == Approx(r).epsilon(1e-14));
    CHECK(rc.prcc[0].lo == Approx(rc.spearman[0].lo).epsilon(1e-13));
}

namespace {

// PRCC the long way: residuals of rank(x_i) and rank(y) after least squares
// (with intercept) on the other parameters' ranks, by normal equations.
double prcc_by_residuals(const std::vector<double>& X, std::size_t dims, const std::vector<double>& y, std::size_t i) {
    const std::size_t n = y.size();
    std::vector<std::vector<double>> rank(dims + 1);
    for (std::size_t c = 0; c <= dims; ++c) {
        std::vector<double> col(n);
        for (std::size_t k = 0; k < n; ++k) col[k] = c < dims ? X[k * dims + c] : y[k];
        rank[c] = average_ranks(col);
    }
    std::vector<std::size_t> others;
    for (std::size_t c = 0; c < dims; ++c)
        if (c != i) others.push_back(c);
    const std::size_t p = others.size() + 1;  // + intercept
    auto residual = [&](const std::vector<double>& target) {
        std::vector<double> A(p * p, 0.0), rhs(p, 0.0);
        auto regressor = [&](std::size_t j, std::size_t k) { return j == 0 ? 1.0 : rank[others[j - 1]][k]; };
        for (std::size_t k = 0; k < n; ++k)
            for (std::size_t a = 0; a < p; ++a) {
                rhs[a] += regressor(a, k) * target[k];
                for (std::size_t b = 0; b < p; ++b) A[a * p + b] += regressor(a, k) * regressor(b, k);
            }
        for (std::size_t col = 0; col < p; ++col)  // Gauss–Jordan (A is positive definite)
            for (std::size_t row = 0; row < p; ++row) {
                if (row == col) continue;
                const double f = A[row * p + col] / A[col * p + col];
                for (std::size_t k = 0; k < p; ++k) A[row * p + k] -= f * A[col * p + k];
                rhs[row] -= f * rhs[col];
            }
        std::vector<double> e(n);
        for (std::size_t k = 0; k < n; ++k) {
            double fit = 0;
            for (std::size_t a = 0; a < p; ++a) fit += rhs[a] / A[a * p + a] * regressor(a, k);
            e[k] = target[k] - fit;
        }
        return e;
    };
    const auto ex = residual(rank[i]), ey = residual(rank[dims]);
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t k = 0; k < n; ++k) {
        sxy += ex[k] * ey[k];
        sxx += ex[k] * ex[k];
        syy += ey[k] * ey[k];
    }
    return sxy / std::sqrt(sxx * syy);
}

}  // namespace

TEST_CASE("uncertainty: rank correlations of a monotone model with a null parameter", "[uncertainty]") {
    // y = 3 x1 − 2 √x2 + 0.5 z, z a fourth design dimension that is not a
    // parameter given to the analysis (the "weather"); x3 has no effect.
    // Linearised, the partial correlations are √(v_i / (v_i + 0.25)) with
    // v_1 = 9/12 and v_2 = 4·Var √x2 = 4·(e^(1/16) − 1)·e^(1/16) = 0.275:
    // about 0.87 and −0.72 (ranks give 0.86 and −0.68 here).
    const std::vector<Prior> priors = {prior("uniform", {{"lo", 0}, {"hi", 1}}),
                                       prior("lognormal", {{"median", 1}, {"sigma", 0.5}}),
                                       prior("beta", {{"a", 2}, {"b", 5}}), prior("normal", {{"mean", 0}, {"sd", 1}})};
    const std::size_t R = 2000, dims = 3;
    const Design design(DesignKind::LatinHypercube, kSeed, 4, R);
    Run run = evaluate(design, priors, [](const double* x) { return 3 * x[0] - 2 * std::sqrt(x[1]) + 0.5 * x[3]; });
    std::vector<double> X;  // the three parameters only
    for (std::size_t r = 0; r < R; ++r) X.insert(X.end(), run.X.begin() + static_cast<std::ptrdiff_t>(4 * r),
                                                 run.X.begin() + static_cast<std::ptrdiff_t>(4 * r + 3));
    run.y[17] = std::nan("");  // a failed replication
    run.y[1999] = -HUGE_VAL;
    const RankCorrelations rc = rank_correlations(X, dims, run.y);
    INFO("PRCC " << rc.prcc[0].value << " " << rc.prcc[1].value << " [" << rc.prcc[2].lo << ", " << rc.prcc[2].hi << "]");
    CHECK(rc.used == R - 2);
    CHECK(rc.note.empty());
    CHECK(rc.prcc[0].value > 0.8);
    CHECK(rc.prcc[0].lo > 0.5);
    CHECK(rc.prcc[1].value < -0.6);
    CHECK(rc.prcc[1].hi < -0.5);
    CHECK(covers(rc.prcc[2], 0));
    CHECK(rc.spearman[0].lo > 0.5);
    CHECK(rc.spearman[1].hi < -0.3);
    CHECK(covers(rc.spearman[2], 0));
    // Fisher's interval with n − 3 − (p − 1) degrees of freedom.
    const double m = static_cast<double>(R - 2) - 3 - 2, z = std::atanh(rc.prcc[1].value);
    CHECK(rc.prcc[1].lo == Approx(std::tanh(z - 1.959963984540054 / std::sqrt(m))).epsilon(1e-12));

    // The precision-matrix formula equals the residual regression it stands for.
    std::vector<double> Xf, yf;
    for (std::size_t r = 0; r < R; ++r)
        if (std::isfinite(run.y[r])) {
            Xf.insert(Xf.end(), X.begin() + static_cast<std::ptrdiff_t>(3 * r), X.begin() + static_cast<std::ptrdiff_t>(3 * r + 3));
            yf.push_back(run.y[r]);
        }
    for (std::size_t i = 0; i < dims; ++i) CHECK(rc.prcc[i].value == Approx(prcc_by_residuals(Xf, dims, yf, i)).margin(1e-10));

    SECTION("a parameter that does not vary has NaN, the others are still computed") {
        std::vector<double> Xc = X;
        for (std::size_t r = 0; r < R; ++r) Xc[r * dims + 2] = 0.25;
        const RankCorrelations c = rank_correlations(Xc, dims, run.y);
        CHECK(std::isnan(c.prcc[2].value));
        CHECK(std::isnan(c.spearman[2].value));
        CHECK(c.prcc[0].value > 0.8);
        CHECK(c.note == "1 parameter(s) do not vary: their correlations are NaN");
    }
    SECTION("too few rows or a constant output") {
        CHECK(rank_correlations(std::vector<double>(6, 1.0), 3, std::vector<double>{1, 2}).note ==
              "2 rows with finite values; rank correlations need at least 3");
        CHECK(rank_correlations(X, dims, std::vector<double>(R, 3.0)).note ==
              "the output does not vary: rank correlations are undefined");
        CHECK_THROWS_AS(rank_correlations(X, dims, std::vector<double>(R - 1, 3.0)), std::invalid_argument);
    }
}
