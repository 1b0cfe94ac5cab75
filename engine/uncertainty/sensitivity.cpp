#include "engine/uncertainty/sensitivity.hpp"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "engine/uncertainty/streams.hpp"

namespace artel::uq {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr Estimate kNoEstimate{kNaN, kNaN, kNaN};

double z975() {
    static const double z = boost::math::quantile(boost::math::normal_distribution<double>(), 0.975);
    return z;
}

// The outputs of the base points kept, compacted: fA[j], fB[j], fAB[j·dims + i].
struct Blocks {
    std::size_t dims = 0;
    std::vector<double> fA, fB, fAB;
    std::size_t size() const { return fA.size(); }
};

Blocks finite_blocks(std::span<const double> y, std::size_t dims) {
    Blocks b;
    b.dims = dims;
    const std::size_t block = dims + 2;
    for (std::size_t i = 0; i < y.size() / block; ++i) {
        const auto cell = y.subspan(i * block, block);
        if (!std::all_of(cell.begin(), cell.end(), [](double v) { return std::isfinite(v); })) continue;
        b.fA.push_back(cell[0]);
        b.fB.push_back(cell[1]);
        b.fAB.insert(b.fAB.end(), cell.begin() + 2, cell.end());
    }
    return b;
}

// The estimators on the base points pick[0..n) (indices into `b`); returns V.
double estimate(const Blocks& b, std::span<const std::uint32_t> pick, std::span<double> first,
                std::span<double> total) {
    const std::size_t n = pick.size();
    double sum = 0;
    for (const auto j : pick) sum += b.fA[j] + b.fB[j];
    const double mean = sum / static_cast<double>(2 * n);
    double ss = 0;
    for (const auto j : pick) {
        const double a = b.fA[j] - mean, c = b.fB[j] - mean;
        ss += a * a + c * c;
    }
    const double V = ss / static_cast<double>(2 * n - 1);
    for (std::size_t i = 0; i < b.dims; ++i) {
        double s = 0, t = 0;
        for (const auto j : pick) {
            const double d = b.fAB[j * b.dims + i] - b.fA[j];
            s += (b.fB[j] - mean) * d;
            t += d * d;
        }
        first[i] = s / static_cast<double>(n) / V;
        total[i] = t / static_cast<double>(2 * n) / V;
    }
    return V;
}

// Type-7 quantile (linear between order statistics) of sorted values.
double sorted_quantile(const std::vector<double>& v, double p) {
    const double h = (static_cast<double>(v.size()) - 1) * p;
    const auto k = static_cast<std::size_t>(std::floor(h));
    if (k + 1 >= v.size()) return v.back();
    return v[k] + (h - static_cast<double>(k)) * (v[k + 1] - v[k]);
}

// 2.5% and 97.5% points of the finite values among column i of rows × dims.
std::pair<double, double> percentile_interval(const std::vector<double>& rows, std::size_t dims, std::size_t i) {
    std::vector<double> v;
    for (std::size_t r = i; r < rows.size(); r += dims)
        if (std::isfinite(rows[r])) v.push_back(rows[r]);
    if (v.empty()) return {kNaN, kNaN};
    std::sort(v.begin(), v.end());
    return {sorted_quantile(v, 0.025), sorted_quantile(v, 0.975)};
}

}  // namespace

SobolIndices sobol_indices(std::span<const double> y, std::size_t dims, std::uint64_t seed, std::size_t bootstrap) {
    if (dims == 0) throw std::invalid_argument("sobol_indices: no parameters");
    if (y.size() % (dims + 2) != 0)
        throw std::invalid_argument("sobol_indices: " + std::to_string(y.size()) + " outputs are not a multiple of dims + 2 = " +
                                    std::to_string(dims + 2));
    if (bootstrap > kMaxUqReplications) throw std::invalid_argument("sobol_indices: more than 2^32 bootstrap resamples");
    SobolIndices out;
    out.base_points = y.size() / (dims + 2);
    out.bootstrap = bootstrap;
    out.first.assign(dims, kNoEstimate);
    out.total.assign(dims, kNoEstimate);
    out.variance = kNaN;

    const Blocks b = finite_blocks(y, dims);
    const std::size_t n = b.size();
    out.used = n;
    if (n < 2) {
        out.note = std::to_string(n) + " of " + std::to_string(out.base_points) +
                   " base points have finite outputs in their whole block; at least 2 are needed";
        return out;
    }
    if (n > 0xffffffffull) throw std::invalid_argument("sobol_indices: more than 2^32 base points");
    std::vector<std::uint32_t> all(n);
    std::iota(all.begin(), all.end(), std::uint32_t{0});
    std::vector<double> first(dims), total(dims);
    out.variance = estimate(b, all, first, total);
    if (!(out.variance > 0) || !std::isfinite(out.variance)) {
        out.note = out.variance == 0 ? "the output does not vary over the base points (V = 0): indices are undefined"
                                     : "the output's variance is not finite: indices are undefined";
        return out;
    }

    std::vector<double> boot_first(bootstrap * dims), boot_total(bootstrap * dims);
    std::vector<std::uint32_t> pick(n);
    for (std::size_t r = 0; r < bootstrap; ++r) {
        UqWordReader words(uq_stream(seed, r, 0, UqPurpose::Bootstrap));
        for (auto& p : pick) p = static_cast<std::uint32_t>(words.below(n));
        const std::span<double> f(boot_first.data() + r * dims, dims), t(boot_total.data() + r * dims, dims);
        if (!(estimate(b, pick, f, t) > 0)) {  // a resample whose outputs are all equal
            std::fill(f.begin(), f.end(), kNaN);
            std::fill(t.begin(), t.end(), kNaN);
        }
    }
    for (std::size_t i = 0; i < dims; ++i) {
        out.first[i].value = first[i];
        out.total[i].value = total[i];
        if (bootstrap == 0) continue;
        std::tie(out.first[i].lo, out.first[i].hi) = percentile_interval(boot_first, dims, i);
        std::tie(out.total[i].lo, out.total[i].hi) = percentile_interval(boot_total, dims, i);
    }
    return out;
}

std::vector<double> average_ranks(std::span<const double> values) {
    const std::size_t n = values.size();
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
    std::vector<double> rank(n);
    for (std::size_t i = 0; i < n;) {
        std::size_t j = i + 1;
        while (j < n && values[order[j]] == values[order[i]]) ++j;
        const double mean_rank = 0.5 * static_cast<double>(i + 1 + j);  // of ranks i+1 .. j
        for (std::size_t k = i; k < j; ++k) rank[order[k]] = mean_rank;
        i = j;
    }
    return rank;
}

namespace {

// Inverse of a symmetric positive definite m × m matrix by Cholesky; false
// if it is not (numerically) positive definite.
bool spd_inverse(std::vector<double> a, std::size_t m, std::vector<double>& inv) {
    for (std::size_t j = 0; j < m; ++j) {  // a = L Lᵀ, L in the lower triangle
        double d = a[j * m + j];
        for (std::size_t k = 0; k < j; ++k) d -= a[j * m + k] * a[j * m + k];
        if (!(d > 1e-12)) return false;  // a correlation matrix: diagonal 1, so this is relative
        a[j * m + j] = std::sqrt(d);
        for (std::size_t i = j + 1; i < m; ++i) {
            double s = a[i * m + j];
            for (std::size_t k = 0; k < j; ++k) s -= a[i * m + k] * a[j * m + k];
            a[i * m + j] = s / a[j * m + j];
        }
    }
    inv.assign(m * m, 0.0);
    std::vector<double> x(m);
    for (std::size_t c = 0; c < m; ++c) {  // solve L Lᵀ x = e_c
        for (std::size_t i = 0; i < m; ++i) {
            double s = i == c ? 1.0 : 0.0;
            for (std::size_t k = 0; k < i; ++k) s -= a[i * m + k] * x[k];
            x[i] = s / a[i * m + i];
        }
        for (std::size_t i = m; i-- > 0;) {
            double s = x[i];
            for (std::size_t k = i + 1; k < m; ++k) s -= a[k * m + i] * x[k];
            x[i] = s / a[i * m + i];
        }
        for (std::size_t i = 0; i < m; ++i) inv[i * m + c] = x[i];
    }
    return true;
}

Estimate fisher(double r, double m) {
    if (!std::isfinite(r)) return kNoEstimate;
    if (!(m > 0)) return {r, kNaN, kNaN};
    const double z = std::atanh(std::clamp(r, -1.0, 1.0)), half = z975() / std::sqrt(m);
    return {r, std::tanh(z - half), std::tanh(z + half)};
}

}  // namespace

RankCorrelations rank_correlations(const std::vector<double>& X, std::size_t dims, std::span<const double> y) {
    if (dims == 0) throw std::invalid_argument("rank_correlations: no parameters");
    if (X.size() != y.size() * dims)
        throw std::invalid_argument("rank_correlations: X has " + std::to_string(X.size()) + " values, not rows x dims = " +
                                    std::to_string(y.size()) + " x " + std::to_string(dims));
    RankCorrelations out;
    out.spearman.assign(dims, kNoEstimate);
    out.prcc.assign(dims, kNoEstimate);

    std::vector<std::size_t> rows;
    for (std::size_t r = 0; r < y.size(); ++r) {
        bool ok = std::isfinite(y[r]);
        for (std::size_t i = 0; ok && i < dims; ++i) ok = std::isfinite(X[r * dims + i]);
        if (ok) rows.push_back(r);
    }
    const std::size_t n = out.used = rows.size();
    if (n < 3) {
        out.note = std::to_string(n) + " rows with finite values; rank correlations need at least 3";
        return out;
    }
    // Centred ranks, column dims is y: average ranks are multiples of 1/2, so
    // rank − (n + 1)/2 is exact.
    const std::size_t m = dims + 1;
    std::vector<std::vector<double>> rk(m);
    std::vector<double> column(n);
    for (std::size_t c = 0; c < m; ++c) {
        for (std::size_t k = 0; k < n; ++k) column[k] = c < dims ? X[rows[k] * dims + c] : y[rows[k]];
        rk[c] = average_ranks(column);
        for (double& v : rk[c]) v -= 0.5 * static_cast<double>(n + 1);
    }
    std::vector<double> ss(m, 0.0);
    for (std::size_t c = 0; c < m; ++c)
        for (double v : rk[c]) ss[c] += v * v;
    if (!(ss[dims] > 0)) {
        out.note = "the output does not vary: rank correlations are undefined";
        return out;
    }
    std::vector<std::size_t> active;  // parameters that vary, then y
    for (std::size_t c = 0; c < dims; ++c)
        if (ss[c] > 0) active.push_back(c);
    if (active.size() < dims) out.note = std::to_string(dims - active.size()) + " parameter(s) do not vary: their correlations are NaN";
    active.push_back(dims);

    const std::size_t a = active.size();
    std::vector<double> corr(a * a);
    for (std::size_t i = 0; i < a; ++i)
        for (std::size_t j = 0; j <= i; ++j) {
            double s = 0;
            for (std::size_t k = 0; k < n; ++k) s += rk[active[i]][k] * rk[active[j]][k];
            corr[i * a + j] = corr[j * a + i] = i == j ? 1.0 : s / std::sqrt(ss[active[i]] * ss[active[j]]);
        }
    const double nn = static_cast<double>(n), p = static_cast<double>(a - 1);
    for (std::size_t i = 0; i + 1 < a; ++i) out.spearman[active[i]] = fisher(corr[i * a + (a - 1)], nn - 3);

    std::vector<double> inv;
    if (!spd_inverse(corr, a, inv)) {
        out.note += std::string(out.note.empty() ? "" : "; ") +
                    "the parameters' ranks are (nearly) collinear: partial rank correlations are undefined";
        return out;
    }
    const std::size_t yy = a - 1;
    for (std::size_t i = 0; i < yy; ++i) {
        const double prcc = -inv[i * a + yy] / std::sqrt(inv[i * a + i] * inv[yy * a + yy]);
        out.prcc[active[i]] = fisher(std::clamp(prcc, -1.0, 1.0), nn - 3 - (p - 1));
    }
    return out;
}

}  // namespace artel::uq
