#include "engine/uncertainty/prior.hpp"

#include <algorithm>
#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/complement.hpp>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/triangular.hpp>
#include <boost/math/distributions/uniform.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace artel::uq {

namespace bm = boost::math;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// What a distribution takes, in canonical order (numbers, then lists).
struct Spec {
    PriorKind kind;
    const char* name;
    std::vector<std::string> numbers;           // required numbers
    std::vector<std::string> optional_numbers;  // optional numbers
    std::vector<std::string> lists;             // required lists
    std::vector<std::string> optional_lists;    // optional lists
};

const std::vector<Spec>& specs() {
    static const std::vector<Spec> s = {
        {PriorKind::Uniform, "uniform", {"lo", "hi"}, {}, {}, {}},
        {PriorKind::Normal, "normal", {"mean", "sd"}, {"lo", "hi"}, {}, {}},
        {PriorKind::Lognormal, "lognormal", {"median", "sigma"}, {"lo", "hi"}, {}, {}},
        {PriorKind::Beta, "beta", {"a", "b"}, {"lo", "hi"}, {}, {}},
        {PriorKind::Triangular, "triangular", {"lo", "mode", "hi"}, {}, {}, {}},
        {PriorKind::Discrete, "discrete", {}, {}, {"values"}, {"weights"}},
    };
    return s;
}

const Spec& spec_of(PriorKind kind) {
    for (const Spec& s : specs())
        if (s.kind == kind) return s;
    throw std::logic_error("prior: unknown kind");
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

std::string join(const std::vector<std::string>& v, const char* suffix = "") {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i] + suffix;
    return s;
}

// "beta takes a, b and optionally lo, hi"
std::string takes(const Spec& s) {
    std::vector<std::string> req = s.numbers, opt = s.optional_numbers;
    for (const auto& l : s.lists) req.push_back(l + " (a list)");
    for (const auto& l : s.optional_lists) opt.push_back(l + " (a list)");
    std::string t = std::string(s.name) + " takes " + join(req);
    if (!opt.empty()) t += " and optionally " + join(opt);
    return t;
}

[[noreturn]] void fail(const Spec& s, const std::string& what) {
    throw PriorError(std::string(s.name) + ": " + what);
}

void require_finite(const Spec& s, const std::string& name, double x) {
    if (!std::isfinite(x)) fail(s, name + " = " + format_number(x) + " is not a finite number");
}

// Probability that an untruncated normal or lognormal gives to [lo, hi],
// computed from the side of the median where it does not cancel.
double interval_mass(double cdf_lo, double sf_lo, double cdf_hi, double sf_hi) {
    if (cdf_lo > 0.5) return sf_lo - sf_hi;
    if (sf_hi > 0.5) return cdf_hi - cdf_lo;
    return 1.0 - cdf_lo - sf_hi;
}

template <class Dist>
double plain_quantile(const Dist& d, double u) {
    return u <= 0.5 ? bm::quantile(d, u) : bm::quantile(bm::complement(d, 1.0 - u));  // 1 − u exact here
}

std::string list_text(const std::vector<double>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + format_number(v[i]);
    return s + "]";
}

}  // namespace

std::string format_number(double x) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, x);
    std::string s(buf, r.ptr);
    if (x == 0 && std::signbit(x)) return "-0.0";  // "-0" would read back as the integer 0
    // An integer printed in full beyond 2^53 could overflow a TOML integer.
    if (std::isfinite(x) && std::fabs(x) >= 1e15 && s.find_first_of(".e") == std::string::npos) {
        r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
        s.assign(buf, r.ptr);
    }
    return s;
}

const std::vector<std::string>& prior_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n;
        for (const Spec& s : specs()) n.emplace_back(s.name);
        return n;
    }();
    return names;
}

namespace {

// The fields' shape: known names, right kinds, required ones present, all finite.
void check_shape(const Spec& s, const PriorFields& f) {
    for (const auto& [name, value] : f.numbers) {
        if (contains(s.numbers, name) || contains(s.optional_numbers, name)) continue;
        if (contains(s.lists, name) || contains(s.optional_lists, name))
            fail(s, "field '" + name + "' must be a list of numbers, not a number (" + takes(s) + ")");
        fail(s, "unexpected field '" + name + "' (" + takes(s) + ")");
    }
    for (const auto& [name, value] : f.lists) {
        if (contains(s.lists, name) || contains(s.optional_lists, name)) continue;
        if (contains(s.numbers, name) || contains(s.optional_numbers, name))
            fail(s, "field '" + name + "' must be a number, not a list (" + takes(s) + ")");
        fail(s, "unexpected field '" + name + "' (" + takes(s) + ")");
    }
    for (const auto& name : s.numbers)
        if (!f.numbers.count(name)) fail(s, "missing field '" + name + "' (" + takes(s) + ")");
    for (const auto& name : s.lists)
        if (!f.lists.count(name)) fail(s, "missing field '" + name + "' (" + takes(s) + ")");
    for (const auto& [name, value] : f.numbers) require_finite(s, name, value);
    for (const auto& [name, values] : f.lists)
        for (std::size_t i = 0; i < values.size(); ++i)
            require_finite(s, name + "[" + std::to_string(i) + "]", values[i]);
}

void check_interval(const Spec& s, double lo, double hi) {
    if (!(lo < hi)) fail(s, "lo = " + format_number(lo) + " must be < hi = " + format_number(hi));
    if (!std::isfinite(hi - lo))
        fail(s, "the interval [" + format_number(lo) + ", " + format_number(hi) + "] is too wide to represent");
}

void check_positive(const Spec& s, const char* name, double x) {
    if (!(x > 0)) fail(s, std::string(name) + " = " + format_number(x) + " must be > 0");
}

}  // namespace

double Prior::number(const char* name, double fallback) const {
    for (const auto& [n, v] : numbers_)
        if (n == name) return v;
    return fallback;
}

namespace {

// Every design's coordinates lie in [2^-53, 1 − 2^-53]; the quantile there
// must be a finite double (a lognormal with sigma = 100 overflows).
void check_tails(const Spec& s, const Prior& p) {
    for (const auto& [u, name] : {std::pair{0x1p-53, "2^-53"}, std::pair{1 - 0x1p-53, "1 - 2^-53"}}) {
        double x = 0;
        try {
            x = p.quantile(u);
        } catch (const std::exception&) {
            x = std::numeric_limits<double>::quiet_NaN();
        }
        if (!std::isfinite(x))
            fail(s, std::string("its ") + name + " quantile is not a finite number (values must fit a double: " +
                        "narrow the prior or bound it with lo, hi)");
    }
}

}  // namespace

Prior parse_prior(const PriorFields& f) {
    if (f.dist.empty())
        throw PriorError("missing field 'dist' (one of " + join(prior_names()) + ")");
    const Spec* spec = nullptr;
    for (const Spec& s : specs())
        if (f.dist == s.name) spec = &s;
    if (!spec) throw PriorError("unknown distribution \"" + f.dist + "\" (known: " + join(prior_names()) + ")");
    const Spec& s = *spec;
    check_shape(s, f);

    Prior p;
    p.kind_ = s.kind;
    for (const auto* group : {&s.numbers, &s.optional_numbers})
        for (const auto& name : *group)
            if (auto it = f.numbers.find(name); it != f.numbers.end()) p.numbers_.emplace_back(name, it->second);
    for (const auto* group : {&s.lists, &s.optional_lists})
        for (const auto& name : *group)
            if (auto it = f.lists.find(name); it != f.lists.end()) p.lists_.emplace_back(name, it->second);

    const bool has_lo = f.numbers.count("lo") > 0, has_hi = f.numbers.count("hi") > 0;
    switch (s.kind) {
        case PriorKind::Uniform:
        case PriorKind::Triangular: {
            p.lo_ = p.number("lo", 0);
            p.hi_ = p.number("hi", 0);
            check_interval(s, p.lo_, p.hi_);
            if (s.kind == PriorKind::Triangular) {
                p.p0_ = p.number("mode", 0);
                if (!(p.p0_ >= p.lo_ && p.p0_ <= p.hi_))
                    fail(s, "mode = " + format_number(p.p0_) + " must lie in [lo, hi] = [" + format_number(p.lo_) +
                                ", " + format_number(p.hi_) + "]");
            }
            break;
        }
        case PriorKind::Beta: {
            p.p0_ = p.number("a", 0);
            p.p1_ = p.number("b", 0);
            check_positive(s, "a", p.p0_);
            check_positive(s, "b", p.p1_);
            p.lo_ = p.number("lo", 0);
            p.hi_ = p.number("hi", 1);
            check_interval(s, p.lo_, p.hi_);
            break;
        }
        case PriorKind::Normal:
        case PriorKind::Lognormal: {
            const bool normal = s.kind == PriorKind::Normal;
            const double centre = p.number(normal ? "mean" : "median", 0);
            const double scale = p.number(normal ? "sd" : "sigma", 0);
            if (!normal) check_positive(s, "median", centre);
            check_positive(s, normal ? "sd" : "sigma", scale);
            p.p0_ = normal ? centre : std::log(centre);
            p.p1_ = scale;
            p.lo_ = p.number("lo", normal ? -kInf : 0.0);
            p.hi_ = p.number("hi", kInf);
            if (!normal && p.lo_ < 0)
                fail(s, "lo = " + format_number(p.lo_) + " must be >= 0 (a lognormal value is positive)");
            if (has_lo && has_hi) check_interval(s, p.lo_, p.hi_);
            p.truncated_ = has_lo || has_hi;
            if (p.truncated_) {
                auto ends = [&](const auto& d) {
                    const bool finite_lo = std::isfinite(p.lo_) && (normal || p.lo_ > 0);  // lognormal: F(0) = 0
                    const bool finite_hi = std::isfinite(p.hi_);
                    p.cdf_lo_ = finite_lo ? bm::cdf(d, p.lo_) : 0.0;
                    p.sf_lo_ = finite_lo ? bm::cdf(bm::complement(d, p.lo_)) : 1.0;
                    p.cdf_hi_ = finite_hi ? bm::cdf(d, p.hi_) : 1.0;
                    p.sf_hi_ = finite_hi ? bm::cdf(bm::complement(d, p.hi_)) : 0.0;
                };
                if (normal)
                    ends(bm::normal_distribution<double>(p.p0_, p.p1_));
                else
                    ends(bm::lognormal_distribution<double>(p.p0_, p.p1_));
                p.mass_ = interval_mass(p.cdf_lo_, p.sf_lo_, p.cdf_hi_, p.sf_hi_);
                if (!(p.mass_ >= kMinTruncatedMass)) {
                    char mass[32];
                    std::snprintf(mass, sizeof mass, "%.2g", p.mass_);
                    fail(s, "the truncation to [" + format_number(p.lo_) + ", " + format_number(p.hi_) + "] keeps " +
                                mass + " of the probability (less than 1e-12): bring lo and hi nearer the " +
                                (normal ? "mean " : "median ") + format_number(centre));
                }
            }
            break;
        }
        case PriorKind::Discrete: {
            const std::vector<double>& values = f.lists.at("values");
            if (values.empty()) fail(s, "'values' is empty (give at least one value)");
            std::vector<double> weights(values.size(), 1.0);
            if (auto it = f.lists.find("weights"); it != f.lists.end()) {
                if (it->second.size() != values.size())
                    fail(s, "'weights' has " + std::to_string(it->second.size()) + " entries but 'values' has " +
                                std::to_string(values.size()) + " (one weight per value)");
                weights = it->second;
                for (std::size_t i = 0; i < weights.size(); ++i)
                    if (!(weights[i] > 0))
                        fail(s, "weights[" + std::to_string(i) + "] = " + format_number(weights[i]) + " must be > 0");
            }
            double total = 0;
            for (double w : weights) total += w;
            if (!std::isfinite(total)) fail(s, "the weights' sum is too large to represent");
            p.p0_ = total;
            double running = 0;
            for (double w : weights) {
                running += w;
                p.cumulative_.push_back(std::min(running / total, 1.0));
            }
            p.cumulative_.back() = 1.0;
            p.lo_ = *std::min_element(values.begin(), values.end());
            p.hi_ = *std::max_element(values.begin(), values.end());
            break;
        }
    }
    check_tails(s, p);
    return p;
}

double Prior::continuous_quantile(double u) const {
    switch (kind_) {
        case PriorKind::Uniform:
            return std::clamp(bm::quantile(bm::uniform_distribution<double>(lo_, hi_), u), lo_, hi_);
        case PriorKind::Triangular:
            return std::clamp(bm::quantile(bm::triangular_distribution<double>(lo_, p0_, hi_), u), lo_, hi_);
        case PriorKind::Beta: {
            const double q = plain_quantile(bm::beta_distribution<double>(p0_, p1_), u);
            return std::clamp(lo_ + (hi_ - lo_) * q, lo_, hi_);
        }
        case PriorKind::Normal:
        case PriorKind::Lognormal: {
            auto invert = [&](const auto& d) {
                if (!truncated_) return plain_quantile(d, u);
                // F(lo) + u (F(hi) − F(lo)) in the lower half, its complement
                // S(lo) − u (S(lo) − S(hi)) in the upper half.
                const double p = cdf_lo_ + u * (cdf_hi_ - cdf_lo_);
                if (p <= 0.5) return p > 0 ? bm::quantile(d, p) : lo_;
                const double q = sf_lo_ - u * (sf_lo_ - sf_hi_);
                return q > 0 ? bm::quantile(bm::complement(d, q)) : hi_;
            };
            const double x = kind_ == PriorKind::Normal ? invert(bm::normal_distribution<double>(p0_, p1_))
                                                        : invert(bm::lognormal_distribution<double>(p0_, p1_));
            return std::clamp(x, lo_, hi_);
        }
        case PriorKind::Discrete:
            break;
    }
    throw std::logic_error("prior: not a continuous kind");
}

double Prior::quantile(double u) const {
    if (!(u > 0 && u < 1)) throw std::domain_error("prior quantile: u = " + format_number(u) + " outside (0, 1)");
    if (kind_ != PriorKind::Discrete) return continuous_quantile(u);
    const auto it = std::lower_bound(cumulative_.begin(), cumulative_.end(), u);
    const auto i = static_cast<std::size_t>(std::min<std::ptrdiff_t>(it - cumulative_.begin(),
                                                                       static_cast<std::ptrdiff_t>(cumulative_.size()) - 1));
    return lists_.front().second[i];
}

double Prior::continuous_cdf(double x) const {
    switch (kind_) {
        case PriorKind::Uniform:
            return bm::cdf(bm::uniform_distribution<double>(lo_, hi_), x);
        case PriorKind::Triangular:
            return bm::cdf(bm::triangular_distribution<double>(lo_, p0_, hi_), x);
        case PriorKind::Beta:
            return bm::cdf(bm::beta_distribution<double>(p0_, p1_), std::clamp((x - lo_) / (hi_ - lo_), 0.0, 1.0));
        case PriorKind::Normal:
        case PriorKind::Lognormal: {
            auto below = [&](const auto& d) {
                if (!truncated_) return bm::cdf(d, x);
                const double c = cdf_lo_ > 0.5 ? (sf_lo_ - bm::cdf(bm::complement(d, x))) / mass_
                                               : (bm::cdf(d, x) - cdf_lo_) / mass_;
                return std::clamp(c, 0.0, 1.0);
            };
            return kind_ == PriorKind::Normal ? below(bm::normal_distribution<double>(p0_, p1_))
                                              : below(bm::lognormal_distribution<double>(p0_, p1_));
        }
        case PriorKind::Discrete:
            break;
    }
    throw std::logic_error("prior: not a continuous kind");
}

double Prior::cdf(double x) const {
    if (std::isnan(x)) return x;
    if (x < lo_) return 0.0;
    if (x >= hi_) return 1.0;
    if (kind_ != PriorKind::Discrete) return continuous_cdf(x);
    const std::vector<double>& values = lists_.front().second;
    double below = 0;
    for (std::size_t i = 0; i < values.size(); ++i)
        if (values[i] <= x) below += cumulative_[i] - (i ? cumulative_[i - 1] : 0.0);
    return std::min(below, 1.0);
}

std::pair<double, double> Prior::support() const { return {lo_, hi_}; }

std::string Prior::dist_name() const { return spec_of(kind_).name; }

PriorFields Prior::fields() const {
    PriorFields f{dist_name(), {}, {}};
    for (const auto& [n, v] : numbers_) f.numbers[n] = v;
    for (const auto& [n, v] : lists_) f.lists[n] = v;
    return f;
}

std::string Prior::describe() const {
    std::string s = dist_name() + "(";
    bool first = true;
    for (const auto& [n, v] : numbers_) s += (std::exchange(first, false) ? "" : ", ") + n + "=" + format_number(v);
    for (const auto& [n, v] : lists_) s += (std::exchange(first, false) ? "" : ", ") + n + "=" + list_text(v);
    return s + ")";
}

std::string Prior::to_toml() const {
    std::string s = "{ dist = \"" + dist_name() + "\"";
    for (const auto& [n, v] : numbers_) s += ", " + n + " = " + format_number(v);
    for (const auto& [n, v] : lists_) s += ", " + n + " = " + list_text(v);
    return s + " }";
}

}  // namespace artel::uq
