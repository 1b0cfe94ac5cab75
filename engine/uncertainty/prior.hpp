// Priors on uncertain parameters (MODEL.md §6): what a scenario file may
// write in place of a value, e.g. `{ dist = "beta", a = 3, b = 17 }`.
//
// A design gives each replication a point u in (0, 1)^dims; a prior turns
// its coordinate into a value by its quantile function (inverse CDF), taken
// from Boost.Math. Truncated normal and lognormal priors invert the CDF
// restricted to [lo, hi], working in the upper tail with complements so that
// an interval far from the centre keeps its precision.
//
// Kinds and their fields (numbers unless said otherwise):
//   uniform     lo, hi
//   normal      mean, sd          [lo, hi: truncation, either or both]
//   lognormal   median, sigma     [lo, hi: truncation]  (median = exp(mu))
//   beta        a, b              [lo, hi: the beta stretched onto [lo, hi], default 0, 1]
//   triangular  lo, mode, hi
//   discrete    values (list)     [weights (list): > 0, one per value, default equal]
//
// Determinism: a prior is immutable once parsed, and quantile() is a pure
// function of u. Boost.Math calls the C library's exp/log/erfc; results are
// bit-identical across threads and runs of one build, and may differ in the
// last bit between C libraries.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace artel::uq {

// A prior as written, before it is checked: the config layer fills it from a
// TOML inline table (integers converted to double, arrays to lists).
struct PriorFields {
    std::string dist;
    std::map<std::string, double> numbers;
    std::map<std::string, std::vector<double>> lists;
};

// A prior that cannot be used; the message is one line, names the problem
// and what is allowed, and leaves the key and file position to the caller.
class PriorError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

enum class PriorKind { Uniform, Normal, Lognormal, Beta, Triangular, Discrete };

// Truncation intervals holding less probability than this are refused.
inline constexpr double kMinTruncatedMass = 1e-12;

class Prior {
public:
    PriorKind kind() const { return kind_; }

    // The value at probability u, u in (0, 1) (std::domain_error otherwise).
    // Discrete: the first value, in the order given, whose cumulative weight
    // reaches u.
    double quantile(double u) const;
    // P(X <= x).
    double cdf(double x) const;
    // The smallest closed interval holding every value quantile() returns;
    // ±inf where unbounded (lognormal: from 0).
    std::pair<double, double> support() const;

    // "beta(a=3, b=17)": numbers in shortest round-trip form.
    std::string describe() const;
    // For HDF5 attributes: the distribution's name and the fields as given,
    // in the order of the table above (optional fields only when given).
    std::string dist_name() const;
    const std::vector<std::pair<std::string, double>>& numbers() const { return numbers_; }
    const std::vector<std::pair<std::string, std::vector<double>>>& lists() const { return lists_; }
    PriorFields fields() const;
    // `{ dist = "beta", a = 3, b = 17 }`, which parse_prior reads back to an
    // identical prior (every number in shortest round-trip form).
    std::string to_toml() const;

    // Same distribution and the same fields given.
    friend bool operator==(const Prior& x, const Prior& y) {
        return x.kind_ == y.kind_ && x.numbers_ == y.numbers_ && x.lists_ == y.lists_;
    }

private:
    friend Prior parse_prior(const PriorFields& fields);
    Prior() = default;
    double number(const char* name, double fallback) const;
    double continuous_quantile(double u) const;
    double continuous_cdf(double x) const;

    PriorKind kind_ = PriorKind::Uniform;
    std::vector<std::pair<std::string, double>> numbers_;
    std::vector<std::pair<std::string, std::vector<double>>> lists_;

    // Derived when parsed.
    double p0_ = 0, p1_ = 0, p2_ = 0;  // the distribution's own parameters (see prior.cpp)
    double lo_ = 0, hi_ = 0;           // support (truncation bounds, the beta's interval)
    bool truncated_ = false;           // normal/lognormal restricted to [lo_, hi_]
    double cdf_lo_ = 0, cdf_hi_ = 1;   // untruncated CDF at lo_ and hi_
    double sf_lo_ = 1, sf_hi_ = 0;     // untruncated survival function at lo_ and hi_
    double mass_ = 1;                  // probability of [lo_, hi_] before truncation
    std::vector<double> cumulative_;   // discrete: normalised cumulative weights, last = 1
};

// Checks and builds a prior; throws PriorError.
Prior parse_prior(const PriorFields& fields);

// The names parse_prior knows, in the order of the table above.
const std::vector<std::string>& prior_names();

// Shortest decimal that reads back to the same double ("0.1", "3", "1e+20").
std::string format_number(double x);

}  // namespace artel::uq
