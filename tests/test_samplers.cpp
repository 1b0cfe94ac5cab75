// Distribution tests of engine/random/samplers.hpp.
//
// All draws come from fixed Streams (fixed seed, distinct entity indices per
// test), so every test is deterministic: it either always passes or always
// fails. The tolerances are still derived from the Monte Carlo standard error
// so that a correct sampler passes for all but a tiny fraction of seeds:
//
//  * Moment checks: |estimate - exact| < 5 SE, with SE the exact standard
//    error of the estimator (SE(mean) = sigma/sqrt(n); for the variance we
//    average (x - mu)^2 around the exact mean mu, whose SE is
//    sqrt((mu4 - sigma^4)/n) with mu4 the exact 4th central moment). For an
//    approximately normal estimator, P(|Z| > 5) = 5.7e-7. There are about 50
//    such checks in this file, so by Bonferroni the probability that a correct
//    implementation fails any of them for a random seed is below 3e-5; 5
//    rather than 3 or 4 SE is chosen to keep that family-wise rate negligible.
//  * Goodness of fit: Kolmogorov-Smirnov with sqrt(n) D < 2.7, where the
//    asymptotic tail is P(sqrt(n) D > x) <= 2 exp(-2 x^2) = 9.4e-7 at 2.7;
//    chi-square (bins merged until every expected count is >= 20) below the
//    1 - 1e-6 quantile of chi^2 with (bins - 1) degrees of freedom. 17 such
//    tests, so < 2e-5 family-wise.
#include <algorithm>
#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/gamma.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/poisson.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>
#include <vector>

#include "engine/math/detmath.hpp"
#include "engine/random/binomial_search.hpp"
#include "engine/random/binomial_table.hpp"
#include "engine/random/samplers.hpp"

using namespace artel::rng;

namespace {

constexpr std::uint64_t kSeed = 0x5EED5A3B1E5ull;
constexpr double kZ = 5.0;         // standard errors allowed per moment check (see top)
constexpr double kKsLimit = 2.7;   // sqrt(n) D limit: false-failure probability 9.4e-7
constexpr double kChiAlpha = 1e-6; // chi-square false-failure probability

// A stream dedicated to (test, entity).
Stream stream(std::uint32_t test_purpose, std::uint32_t entity) {
    return Stream(make_key(kSeed), 0, EntityKind::Household, entity, kInitSlot, test_purpose);
}

// Words 0 .. n-1 of a stream, fetched one block at a time.
std::vector<std::uint32_t> words(const Stream& s, std::size_t n) {
    std::vector<std::uint32_t> w(n);
    for (std::size_t i = 0; i < n; i += 4) {
        const Block b = s.block(static_cast<std::uint32_t>(i / 4));
        for (std::size_t j = 0; j < 4 && i + j < n; ++j) w[i + j] = b[j];
    }
    return w;
}

// Mean and variance of x against the exact mean mu, variance var and 4th
// central moment mu4 (see the top comment for the tolerance).
void check_mean_var(const std::vector<double>& x, double mu, double var, double mu4, const char* what) {
    const double n = static_cast<double>(x.size());
    double s1 = 0, s2 = 0;
    for (double v : x) {
        s1 += v - mu;
        s2 += (v - mu) * (v - mu);
    }
    const double mean_err = s1 / n;
    const double se_mean = std::sqrt(var / n);
    const double var_hat = s2 / n;
    const double se_var = std::sqrt((mu4 - var * var) / n);
    INFO(what << ": n = " << n << ", mean " << mu + mean_err << " vs " << mu << " (SE " << se_mean
              << "), variance " << var_hat << " vs " << var << " (SE " << se_var << ")");
    CHECK(std::fabs(mean_err) < kZ * se_mean);
    CHECK(std::fabs(var_hat - var) <= kZ * se_var);  // <=: Bernoulli(1/2) has SE 0
}

// Central moments from raw moments m1..m4.
struct Central {
    double mean, var, mu4;
};
Central central(double m1, double m2, double m3, double m4) {
    return {m1, m2 - m1 * m1, m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1 * m1 * m1 * m1};
}

// Kolmogorov-Smirnov statistic sqrt(n) D of x against a continuous cdf.
double ks_stat(std::vector<double> x, const std::function<double(double)>& cdf) {
    std::sort(x.begin(), x.end());
    const double n = static_cast<double>(x.size());
    double d = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double f = cdf(x[i]);
        d = std::max({d, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
    }
    return std::sqrt(n) * d;
}

// Chi-square test of integer samples against a pmf on {0, 1, ...}; bins are
// merged from the left (and the right tail lumped) until every expected count
// is >= 20. Returns (statistic, critical value).
std::pair<double, double> chi_square(const std::vector<int>& x, const std::function<double(int)>& pmf, int kmax) {
    const double n = static_cast<double>(x.size());
    std::vector<double> observed(kmax + 2, 0.0);
    for (int v : x) observed[std::min(v, kmax + 1)] += 1;
    std::vector<double> expected(kmax + 2, 0.0);
    double total = 0;
    for (int k = 0; k <= kmax; ++k) {
        expected[k] = n * pmf(k);
        total += expected[k];
    }
    expected[kmax + 1] = std::max(0.0, n - total);
    double stat = 0, eo = 0, ee = 0;
    int bins = 0;
    for (int k = 0; k <= kmax + 1; ++k) {
        eo += observed[k];
        ee += expected[k];
        const bool last = k == kmax + 1;
        if (ee >= 20 || last) {
            if (ee > 0) {
                stat += (eo - ee) * (eo - ee) / ee;
                ++bins;
            }
            eo = ee = 0;
        }
    }
    const boost::math::chi_squared chi(bins - 1);
    return {stat, boost::math::quantile(boost::math::complement(chi, kChiAlpha))};
}

}  // namespace

TEST_CASE("uniform01 is strictly inside (0, 1), exact and uniform", "[samplers]") {
    STATIC_REQUIRE(uniform01(0) == 0x1p-33);
    STATIC_REQUIRE(uniform01(0xFFFFFFFFu) == 1.0 - 0x1p-33);
    STATIC_REQUIRE(uniform01(0x80000000u) == 0.5 + 0x1p-33);
    STATIC_REQUIRE(uniform01(0) > 0.0);
    STATIC_REQUIRE(uniform01(0xFFFFFFFFu) < 1.0);
    for (std::uint32_t w : {0u, 1u, 2u, 12345u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu})
        CHECK(uniform01(w) == (static_cast<long double>(w) + 0.5L) / 4294967296.0L);

    const std::vector<std::uint32_t> w = words(stream(1, 0), 1000000);
    std::vector<double> u(w.size());
    double lo = 1, hi = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
        u[i] = uniform01(w[i]);
        lo = std::min(lo, u[i]);
        hi = std::max(hi, u[i]);
    }
    CHECK(lo > 0.0);
    CHECK(hi < 1.0);
    check_mean_var(u, 0.5, 1.0 / 12.0, 1.0 / 80.0, "uniform01");
    CHECK(ks_stat(u, [](double x) { return x; }) < kKsLimit);
}

TEST_CASE("bernoulli: limits, exact threshold and frequency", "[samplers]") {
    for (std::uint32_t w : {0u, 1u, 0x80000000u, 0xFFFFFFFFu}) {
        CHECK_FALSE(bernoulli(w, 0.0));
        CHECK_FALSE(bernoulli(w, -1.0));
        CHECK_FALSE(bernoulli(w, std::numeric_limits<double>::quiet_NaN()));
        CHECK(bernoulli(w, 1.0));
        CHECK(bernoulli(w, 2.0));
    }
    // p = 1/2: true exactly for w < 2^31.
    CHECK(bernoulli(0x7FFFFFFFu, 0.5));
    CHECK_FALSE(bernoulli(0x80000000u, 0.5));

    const std::vector<std::uint32_t> w = words(stream(2, 0), 1000000);
    const double p = 0.3;
    double hits = 0;
    for (std::uint32_t x : w) hits += bernoulli(x, p) ? 1 : 0;
    const double n = static_cast<double>(w.size());
    CHECK(std::fabs(hits / n - p) < kZ * std::sqrt(p * (1 - p) / n));
}

TEST_CASE("normal_pair: moments, independence and Kolmogorov-Smirnov fit", "[samplers]") {
    const std::size_t pairs = 500000;
    const std::vector<std::uint32_t> w = words(stream(3, 0), 2 * pairs);
    std::vector<double> z0(pairs), z1(pairs), all;
    all.reserve(2 * pairs);
    double maxabs = 0;
    for (std::size_t i = 0; i < pairs; ++i) {
        const NormalPair z = normal_pair(w[2 * i], w[2 * i + 1]);
        z0[i] = z.z0;
        z1[i] = z.z1;
        all.push_back(z.z0);
        all.push_back(z.z1);
        maxabs = std::max({maxabs, std::fabs(z.z0), std::fabs(z.z1)});
    }
    CHECK(maxabs <= 6.67);  // r <= sqrt(-2 log 2^-33) = 6.66
    // Standard normal: variance 1, mu4 = 3.
    check_mean_var(z0, 0.0, 1.0, 3.0, "normal z0");
    check_mean_var(z1, 0.0, 1.0, 3.0, "normal z1");
    check_mean_var(all, 0.0, 1.0, 3.0, "normal z0 and z1");
    // Skewness E z^3 = 0 with SE sqrt(E z^6 / n) = sqrt(15 / n); correlation
    // E z0 z1 = 0 with SE 1/sqrt(n).
    double s3 = 0, s01 = 0;
    for (std::size_t i = 0; i < pairs; ++i) {
        s3 += z0[i] * z0[i] * z0[i] + z1[i] * z1[i] * z1[i];
        s01 += z0[i] * z1[i];
    }
    const double n_all = 2.0 * pairs, n_pairs = static_cast<double>(pairs);
    CHECK(std::fabs(s3 / n_all) < kZ * std::sqrt(15.0 / n_all));
    CHECK(std::fabs(s01 / n_pairs) < kZ * std::sqrt(1.0 / n_pairs));

    const boost::math::normal nd;
    auto cdf = [&](double x) { return boost::math::cdf(nd, x); };
    const std::vector<double> z0s(z0.begin(), z0.begin() + 200000), z1s(z1.begin(), z1.begin() + 200000);
    const double ks0 = ks_stat(z0s, cdf), ks1 = ks_stat(z1s, cdf);
    INFO("KS sqrt(n) D: z0 " << ks0 << ", z1 " << ks1);
    CHECK(ks0 < kKsLimit);
    CHECK(ks1 < kKsLimit);
    // |z| = r is Rayleigh: P(z0^2 + z1^2 > t) = exp(-t/2); check the radius
    // through its uniform transform (KS against the uniform cdf).
    std::vector<double> tail(200000);
    for (std::size_t i = 0; i < tail.size(); ++i) tail[i] = std::exp(-(z0[i] * z0[i] + z1[i] * z1[i]) / 2);
    CHECK(ks_stat(tail, [](double x) { return x; }) < kKsLimit);
}

TEST_CASE("normal_pair is a pure function of the two words", "[samplers]") {
    // Fixed values pin the formula (r from w0, angle from w1).
    const NormalPair a = normal_pair(0x80000000u, 0u);  // u0 ~ 1/2, angle ~ 0
    const double r = std::sqrt(-2.0 * artel::dmath::log(0.5 + 0x1p-33));
    CHECK(a.z0 == Approx(r).epsilon(1e-15));
    CHECK(std::fabs(a.z1) < 1e-8);
    const NormalPair b = normal_pair(0x80000000u, 0x40000000u);  // angle ~ pi/2
    CHECK(std::fabs(b.z0) < 1e-8);
    CHECK(b.z1 == Approx(r).epsilon(1e-15));
    const NormalPair c = normal_pair(0x12345678u, 0x9ABCDEF0u);
    const NormalPair d = normal_pair(0x12345678u, 0x9ABCDEF0u);
    CHECK(std::memcmp(&c, &d, sizeof c) == 0);
}

TEST_CASE("poisson_inversion: moments, chi-square fit and exact inversion", "[samplers]") {
    const boost::math::poisson_distribution<double> pd(4.3);
    for (double mean : {0.2, 4.3, 17.0, 50.0}) {
        const std::vector<std::uint32_t> w = words(stream(4, static_cast<std::uint32_t>(mean * 10)), 400000);
        std::vector<double> x(w.size());
        for (std::size_t i = 0; i < w.size(); ++i) x[i] = poisson_inversion(mean, w[i], 1000);
        // Poisson: variance = mean, mu4 = mean + 3 mean^2.
        INFO("mean " << mean);
        check_mean_var(x, mean, mean, mean + 3 * mean * mean, "poisson");
    }

    const double mean = 4.3;
    const std::vector<std::uint32_t> w = words(stream(4, 1000), 1000000);
    std::vector<int> k(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) k[i] = poisson_inversion(mean, w[i], 1000);
    const auto [stat, crit] = chi_square(k, [&](int j) { return boost::math::pdf(pd, j); }, 30);
    INFO("chi-square " << stat << ", critical " << crit);
    CHECK(stat < crit);

    // Exact inversion: F(k - 1) < u <= F(k) with the exact cdf, up to the
    // rounding of the sampler's own accumulation (< 1e-13).
    int bad = 0;
    for (std::size_t i = 0; i < 100000; ++i) {
        const double u = uniform01(w[i]);
        const double lo = k[i] == 0 ? 0.0 : boost::math::cdf(pd, k[i] - 1);
        const double hi = boost::math::cdf(pd, k[i]);
        if (!(lo < u + 1e-12 && u <= hi + 1e-12)) ++bad;
    }
    CHECK(bad == 0);
}

TEST_CASE("poisson_inversion: cap, edge words and mean 0", "[samplers]") {
    const double mean = 4.3;
    const std::vector<std::uint32_t> w = words(stream(5, 0), 200000);
    double at_cap = 0;
    int bad = 0;
    for (std::uint32_t x : w) {
        const int full = poisson_inversion(mean, x, 1000);
        const int capped = poisson_inversion(mean, x, 3);
        if (capped != std::min(full, 3)) ++bad;
        if (poisson_inversion(mean, x, 0) != 0 || poisson_inversion(mean, x, -5) != 0) ++bad;
        at_cap += capped == 3 ? 1 : 0;
    }
    CHECK(bad == 0);
    // P(result = cap) = P(X >= 3).
    const boost::math::poisson_distribution<double> pd(mean);
    const double p3 = boost::math::cdf(boost::math::complement(pd, 2));
    const double n = static_cast<double>(w.size());
    CHECK(std::fabs(at_cap / n - p3) < kZ * std::sqrt(p3 * (1 - p3) / n));

    // Mean 0 is always 0; the extreme words terminate at sensible values.
    for (std::uint32_t x : {0u, 0x80000000u, 0xFFFFFFFFu}) CHECK(poisson_inversion(0.0, x, 100) == 0);
    CHECK(poisson_inversion(4.3, 0u, 1000) == 0);  // u = 2^-33 < exp(-4.3)
    const int top = poisson_inversion(50.0, 0xFFFFFFFFu, 100000);
    CHECK(top > 90);   // the 1 - 1.2e-10 quantile of Poisson(50) is ~ 99
    CHECK(top < 110);
    CHECK(poisson_inversion(50.0, 0xFFFFFFFFu, 60) == 60);
}

TEST_CASE("binomial_bernoulli: moments, fit and fixed consumption", "[samplers]") {
    struct Case {
        int n;
        double p;
    };
    for (const Case c : {Case{10, 0.3}, Case{64, 0.07}, Case{1, 0.5}, Case{37, 0.9}}) {
        const Stream s = stream(6, static_cast<std::uint32_t>(c.n));
        const int samples = 100000;
        std::vector<double> x(samples);
        std::vector<int> xi(samples);
        std::uint32_t first = 0;
        for (int i = 0; i < samples; ++i) {
            xi[i] = binomial_bernoulli(c.n, c.p, s, first);
            x[i] = xi[i];
            first += static_cast<std::uint32_t>(c.n);
        }
        const double q = 1 - c.p, npq = c.n * c.p * q;
        INFO("n = " << c.n << ", p = " << c.p);
        // Binomial: mu4 = npq (1 + 3 (n - 2) pq).
        check_mean_var(x, c.n * c.p, npq, npq * (1 + 3 * (c.n - 2) * c.p * q), "binomial");
        const boost::math::binomial_distribution<double> bd(c.n, c.p);
        const auto [stat, crit] = chi_square(xi, [&](int j) { return j > c.n ? 0.0 : boost::math::pdf(bd, j); }, c.n);
        INFO("chi-square " << stat << ", critical " << crit);
        CHECK(stat < crit);
    }

    // Fixed consumption: the result is the count of words first .. first+n-1
    // below p, whatever p and the alignment of `first` (also across the 2^32 wrap).
    const Stream s = stream(6, 1000);
    int mismatches = 0, cases = 0;
    for (std::uint32_t first : {0u, 1u, 2u, 3u, 5u, 1000001u, 0xFFFFFFF0u, 0xFFFFFFFEu}) {
        for (int n : {0, 1, 3, 4, 7, 33, 64}) {
            for (double p : {0.0, 0.01, 0.3, 0.5, 0.99, 1.0}) {
                int expect = 0;
                for (int i = 0; i < n; ++i) expect += uniform01(s.word(first + static_cast<std::uint32_t>(i))) < p;
                if (binomial_bernoulli(n, p, s, first) != expect) ++mismatches;
                ++cases;
            }
        }
    }
    CHECK(cases == 8 * 7 * 6);
    CHECK(mismatches == 0);
    CHECK(binomial_bernoulli(64, 1.0, s, 17) == 64);
    CHECK(binomial_bernoulli(64, 0.0, s, 17) == 0);
    CHECK_THROWS_AS(binomial_bernoulli(65, 0.5, s, 0), std::invalid_argument);
    CHECK_THROWS_AS(binomial_bernoulli(-1, 0.5, s, 0), std::invalid_argument);
}

namespace {

// Shared checks of the two small-n binomial samplers (BinomialTable,
// BinomialSearch): the limits (p <= 0 and NaN never, p >= 1 always; n outside
// [0, 16] throws) and the fit of 100 000 draws with p = 0.3 for n = 1, 6, 16
// (chi-square, moments).
template <class Sampler>
void check_binomial_limits() {
    for (std::uint32_t w : {0u, 12345u, 0x80000000u, 0xFFFFFFFFu}) {
        for (int n = 0; n <= Sampler::kMaxTrials; ++n) {
            CHECK(Sampler(0.0).sample(w, n) == 0);
            CHECK(Sampler(-0.5).sample(w, n) == 0);
            CHECK(Sampler(std::nan("")).sample(w, n) == 0);
            CHECK(Sampler(1.0).sample(w, n) == n);
            CHECK(Sampler(1.5).sample(w, n) == n);
        }
    }
    CHECK_THROWS_AS(Sampler(0.5).sample(1u, 17), std::out_of_range);
    CHECK_THROWS_AS(Sampler(0.5).sample(1u, -1), std::out_of_range);
}

template <class Sampler>
void check_binomial_fit(std::uint32_t stream_id, const char* what) {
    for (const int n : {1, 6, 16}) {
        const double p = 0.3;
        const Sampler b(p);
        const auto w = words(stream(stream_id, static_cast<std::uint32_t>(n)), 100000);
        std::vector<int> xi(w.size());
        std::vector<double> x(w.size());
        for (std::size_t i = 0; i < w.size(); ++i) x[i] = xi[i] = b.sample(w[i], n);
        const double q = 1 - p, npq = n * p * q;
        INFO("n = " << n);
        check_mean_var(x, n * p, npq, npq * (1 + 3 * (n - 2) * p * q), what);
        const boost::math::binomial_distribution<double> bd(n, p);
        const auto [stat, crit] = chi_square(xi, [&](int j) { return j > n ? 0.0 : boost::math::pdf(bd, j); }, n);
        INFO("chi-square " << stat << ", critical " << crit);
        CHECK(stat < crit);
    }
}

}  // namespace

TEST_CASE("BinomialTable: exact probabilities, integer thresholds and fit", "[samplers]") {
    constexpr int kMax = BinomialTable::kMaxTrials;
    constexpr double k2to32 = 4294967296.0;
    for (const double p : {0.015, 0.03, 0.0667, 0.4, 0.5, 0.93, 1e-9}) {
        const BinomialTable t(p);
        INFO("p = " << p);
        for (int n = 0; n <= kMax; ++n) {
            const boost::math::binomial_distribution<double> bd(n, p);
            const double* F = t.cdf(n);
            const std::int64_t* T = t.thresholds() + n * BinomialTable::kStride;
            std::int64_t prev = 0;
            for (int k = 0; k <= kMax; ++k) {
                INFO("n = " << n << ", k = " << k);
                if (k >= n) CHECK(F[k] == 1.0);
                CHECK(std::fabs(F[k] - (k >= n ? 1.0 : boost::math::cdf(bd, k))) < 1e-14);
                CHECK(T[k] == bernoulli_threshold(F[k]));
                // Exactly (T[k] - T[k-1]) of the 2^32 equally likely words give
                // X = k: the binomial probability to within the word's
                // resolution and the rounding of F (no Monte Carlo error).
                const double pk = static_cast<double>(T[k] - prev) / k2to32;
                CHECK(std::fabs(pk - (k > n ? 0.0 : boost::math::pdf(bd, k))) <= 1.0 / k2to32 + 1e-14);
                // sample() is the count of thresholds at or below the word:
                // check the words at every threshold's edge.
                for (const std::int64_t w : {T[k] - 1, T[k], T[k] + 1}) {
                    if (w < 0 || w >= (std::int64_t{1} << 32)) continue;
                    int count = 0;
                    for (int j = 0; j <= kMax; ++j) count += w >= T[j];
                    CHECK(t.sample(static_cast<std::uint32_t>(w), n) == count);
                }
                prev = T[k];
            }
            CHECK(t.sample(0u, n) >= 0);
            CHECK(t.sample(0xFFFFFFFFu, n) <= n);
        }
    }
    // Limits: p <= 0 never, p >= 1 always, NaN never (as bernoulli).
    check_binomial_limits<BinomialTable>();
    // set() rebuilds only for a new p, and then as a fresh table would.
    BinomialTable t(0.2);
    t.set(0.7);
    CHECK(t.p() == 0.7);
    CHECK(std::memcmp(t.thresholds(), BinomialTable(0.7).thresholds(), sizeof(std::int64_t) * 17 * 17) == 0);
    // Fit on real draws (chi-square, moments; see the top comment).
    check_binomial_fit<BinomialTable>(14, "binomial by inversion");
}

TEST_CASE("BinomialSearch: exact probabilities, limits and fit", "[samplers]") {
    constexpr int kMax = BinomialSearch::kMaxTrials;
    constexpr double k2to32 = 4294967296.0;
    for (const double p : {0.015, 0.0513, 0.0952, 0.4, 0.5, 0.93, 1e-9, 0.999999}) {
        const BinomialSearch b(p);
        INFO("p = " << p);
        for (int n = 0; n <= kMax; ++n) {
            const boost::math::binomial_distribution<double> bd(n, p);
            // X = k exactly for the words w with T(F_{k-1}) <= w < T(F_k), T
            // the Bernoulli threshold (u < F <=> w < T(F)): count them and
            // compare with the binomial probability (no Monte Carlo error).
            std::int64_t prev = 0;
            for (int k = 0; k <= n; ++k) {
                INFO("n = " << n << ", k = " << k);
                const double F = b.cdf(n, k);
                CHECK(std::fabs(F - (k >= n ? 1.0 : boost::math::cdf(bd, k))) < 1e-13);
                const std::int64_t T = k >= n ? (std::int64_t{1} << 32) : bernoulli_threshold(F);
                REQUIRE(T >= prev);
                const double pk = static_cast<double>(T - prev) / k2to32;
                CHECK(std::fabs(pk - boost::math::pdf(bd, k)) <= 1.0 / k2to32 + 1e-13);
                // sample() at the edges of the interval
                if (T > prev) {
                    CHECK(b.sample(static_cast<std::uint32_t>(prev), n) == k);
                    CHECK(b.sample(static_cast<std::uint32_t>(T - 1), n) == k);
                }
                prev = T;
            }
        }
    }
    // Limits: p <= 0 and NaN never, p >= 1 always.
    check_binomial_limits<BinomialSearch>();
    // set() is a fresh construction.
    BinomialSearch s(0.2);
    s.set(0.7);
    CHECK(s.p() == 0.7);
    CHECK(std::memcmp(s.powers(), BinomialSearch(0.7).powers(), sizeof(double) * 17) == 0);
    CHECK(s.ratio() == BinomialSearch(0.7).ratio());
    // It agrees with the CDF table: the two differ only in the rounding of F,
    // so only a word at the very edge of an interval could tell them apart.
    {
        const BinomialTable t(0.0952);
        const BinomialSearch q(0.0952);
        const auto w = words(stream(15, 1), 20000);
        int differ = 0;
        for (int n = 0; n <= kMax; ++n)
            for (const auto x : w) differ += t.sample(x, n) != q.sample(x, n);
        CHECK(differ == 0);
    }
    // Fit on real draws (chi-square, moments).
    check_binomial_fit<BinomialSearch>(16, "binomial by sequential search");
}

namespace {

// Independent restatement of the gamma_mt contract (4 words per attempt), to
// pin the word consumption bit for bit.
double gamma_reference(double shape, const Stream& s, std::uint32_t& next) {
    namespace dm = artel::dmath;
    const bool boost = shape < 1.0;
    const double a = boost ? shape + 1.0 : shape;
    const double d = a - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
        const std::uint32_t w0 = s.word(next), w1 = s.word(next + 1), w2 = s.word(next + 2), w3 = s.word(next + 3);
        next += 4;
        const double z = normal_pair(w0, w1).z0;
        const double u = uniform01(w2);
        const double t = 1.0 + c * z;
        if (!(t > 0.0)) continue;
        const double v = t * t * t;
        const double z2 = z * z;
        if (u < 1.0 - 0.0331 * (z2 * z2) || dm::log(u) < 0.5 * z2 + d * (1.0 - v + dm::log(v))) {
            double x = d * v;
            if (boost) x = x * dm::exp(dm::log(uniform01(w3)) / shape);
            return x;
        }
    }
}

}  // namespace

TEST_CASE("gamma_mt: moments and fit", "[samplers]") {
    const double shapes[] = {2.0, 5.0, 0.5, 1.0, 30.0, 3.0, 0.1};
    for (std::uint32_t si = 0; si < 7; ++si) {
        const double shape = shapes[si];
        const int samples = 150000;
        std::vector<double> x(samples);
        std::uint64_t words_used = 0;
        for (int i = 0; i < samples; ++i) {
            // One dedicated stream per variate.
            const Stream s = stream(7, si * 1000000u + static_cast<std::uint32_t>(i));
            std::uint32_t next = 0;
            x[i] = gamma_mt(shape, s, next);
            words_used += next;
        }
        // Gamma(k, 1): variance k, mu4 = 3 k^2 + 6 k.
        INFO("shape " << shape);
        check_mean_var(x, shape, shape, 3 * shape * shape + 6 * shape, "gamma");
        // Acceptance >= 0.95 per attempt: average consumption below 4.3 words.
        CHECK(static_cast<double>(words_used) / samples < 4.3);
        if (shape == 0.5 || shape == 2.0 || shape == 0.1 || shape == 30.0) {
            const boost::math::gamma_distribution<double> gd(shape);
            const std::vector<double> head(x.begin(), x.begin() + 100000);
            const double ks = ks_stat(head, [&](double v) { return boost::math::cdf(gd, v); });
            INFO("KS sqrt(n) D = " << ks);
            CHECK(ks < kKsLimit);
        }
    }
}

TEST_CASE("gamma_mt: consumption contract, determinism and argument checks", "[samplers]") {
    int bad = 0, retried = 0, total = 0;
    for (double shape : {0.3, 1.0, 2.5, 30.0}) {
        for (std::uint32_t start : {0u, 1u, 2u, 3u, 8u, 0xFFFFFFFEu}) {
            for (std::uint32_t e = 0; e < 300; ++e) {
                const Stream s = stream(8, e);
                std::uint32_t next = start, ref_next = start;
                const double x = gamma_mt(shape, s, next);
                const double y = gamma_reference(shape, s, ref_next);
                const bool ok = std::memcmp(&x, &y, sizeof x) == 0 && next == ref_next &&
                                (next - start) % 4u == 0 && next != start && x > 0.0;
                if (!ok) ++bad;
                if (next - start > 4) ++retried;
                ++total;
            }
        }
    }
    CHECK(total == 4 * 6 * 300);
    CHECK(bad == 0);
    CHECK(retried > 0);  // the rejection path was exercised
    const Stream s = stream(8, 999);
    std::uint32_t next = 0;
    for (double bad_shape : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
        next = 0;
        CHECK_THROWS_AS(gamma_mt(bad_shape, s, next), std::invalid_argument);
    }
}

TEST_CASE("beta: moments, fit and construction from two gammas", "[samplers]") {
    struct Case {
        double a, b;
    };
    const Case cases[] = {{2, 5}, {0.5, 0.5}, {1, 1}, {30, 3}};
    for (std::uint32_t ci = 0; ci < 4; ++ci) {
        const Case c = cases[ci];
        const int samples = 150000;
        std::vector<double> x(samples);
        for (int i = 0; i < samples; ++i)
            x[i] = beta(c.a, c.b, stream(9, ci * 1000000u + static_cast<std::uint32_t>(i)));
        // Raw moments E X^r = prod_{i<r} (a + i) / (a + b + i).
        double m[5] = {1, 0, 0, 0, 0};
        for (int r = 1; r <= 4; ++r) m[r] = m[r - 1] * (c.a + r - 1) / (c.a + c.b + r - 1);
        const Central cm = central(m[1], m[2], m[3], m[4]);
        INFO("beta(" << c.a << ", " << c.b << ")");
        check_mean_var(x, cm.mean, cm.var, cm.mu4, "beta");
        CHECK(*std::min_element(x.begin(), x.end()) > 0.0);
        CHECK(*std::max_element(x.begin(), x.end()) <= 1.0);
        const boost::math::beta_distribution<double> bd(c.a, c.b);
        const std::vector<double> head(x.begin(), x.begin() + 100000);
        const double ks = ks_stat(head, [&](double v) { return boost::math::cdf(bd, v); });
        INFO("KS sqrt(n) D = " << ks);
        CHECK(ks < kKsLimit);
    }

    // X from word 0, Y from where X stopped.
    int bad = 0;
    for (std::uint32_t e = 0; e < 200; ++e) {
        const Stream s = stream(10, e);
        std::uint32_t next = 0;
        const double x = gamma_mt(0.7, s, next);
        const double y = gamma_mt(2.0, s, next);
        const double b = beta(0.7, 2.0, s);
        const double expect = x / (x + y);
        if (std::memcmp(&b, &expect, sizeof b) != 0) ++bad;
    }
    CHECK(bad == 0);
}

// Golden checksum of the samplers' exact outputs on fixed streams: any
// platform, compiler or vectorised port must reproduce it bit for bit. If an
// intentional change alters a sampler (or detmath), update the constant.
TEST_CASE("sampler results are bit-stable (golden checksum)", "[samplers]") {
    std::uint64_t h = 0xcbf29ce484222325ull;
    auto mix_bits = [&](std::uint64_t b) {
        h ^= b;
        h *= 0x100000001b3ull;
    };
    auto mix = [&](double v) {
        std::uint64_t b;
        std::memcpy(&b, &v, 8);
        mix_bits(b);
    };
    const Stream s = stream(11, 0);
    for (std::uint32_t i = 0; i < 4000; ++i) {
        const NormalPair z = normal_pair(s.word(2 * i), s.word(2 * i + 1));
        mix(z.z0);
        mix(z.z1);
        mix_bits(static_cast<std::uint64_t>(poisson_inversion(0.01 * (i % 5000), s.word(i), 200)));
        mix_bits(static_cast<std::uint64_t>(binomial_bernoulli(static_cast<int>(i % 65), 0.37, s, i)));
        const Stream g = stream(12, i);
        std::uint32_t next = 0;
        mix(gamma_mt(0.05 + 0.01 * (i % 3000), g, next));
        mix_bits(next);
        mix(beta(0.3 + 0.001 * i, 2.0, stream(13, i)));
    }
    INFO("samplers golden checksum 0x" << std::hex << h);
    CHECK(h == 0x2ace5576a2b8549full);
}
