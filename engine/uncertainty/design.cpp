#include "engine/uncertainty/design.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <utility>

#include "engine/random/samplers.hpp"
#include "engine/uncertainty/streams.hpp"

namespace artel::uq {

namespace {

struct NamedKind {
    DesignKind kind;
    const char* name;
};
constexpr NamedKind kKinds[] = {{DesignKind::Random, "random"},
                                {DesignKind::LatinHypercube, "lhs"},
                                {DesignKind::Sobol, "sobol"},
                                {DesignKind::Saltelli, "saltelli"},
                                {DesignKind::Table, "table"}};

std::string known_designs() {
    std::string s;
    for (const auto& k : kKinds) s += (s.empty() ? "\"" : ", \"") + std::string(k.name) + "\"";
    return s;
}

std::string str(std::uint64_t x) { return std::to_string(x); }

// "96 (N = 12) or 104 (N = 13) are the nearest; 128 (N = 16, a power of two) balances the Sobol points best"
std::string saltelli_hint(std::uint64_t replications, std::uint64_t block) {
    const std::uint64_t below = replications / block, above = std::max<std::uint64_t>(below + 1, 2);
    std::string s;
    if (below >= 2) s += str(below * block) + " (N = " + str(below) + ") or ";
    s += str(above * block) + " (N = " + str(above) + ")";
    s += below >= 2 ? " are the nearest" : " is the nearest";
    if (!std::has_single_bit(above) && !(below >= 2 && std::has_single_bit(below))) {
        const std::uint64_t pow2 = std::bit_ceil(above);
        s += "; " + str(pow2 * block) + " (N = " + str(pow2) + ", a power of two) balances the Sobol points best";
    }
    return s;
}

}  // namespace

std::string design_name(DesignKind kind) {
    for (const auto& k : kKinds)
        if (k.kind == kind) return k.name;
    throw std::logic_error("design: unknown kind");
}

DesignKind parse_design_kind(std::string_view name) {
    for (const auto& k : kKinds)
        if (name == k.name) return k.kind;
    throw DesignError("unknown design \"" + std::string(name) + "\" (known: " + known_designs() + ")");
}

Design::Design(DesignKind kind, std::uint64_t seed, std::size_t dims, std::uint64_t replications, bool scramble)
    : kind_(kind), seed_(seed), dims_(dims), replications_(replications), scramble_(scramble) {
    const std::string what = "design \"" + design_name(kind) + "\"";
    if (dims == 0) throw DesignError(what + ": no uncertain parameters (a design needs at least one)");
    if (dims >= kMaxUqEntities)
        throw DesignError(what + ": " + str(dims) + " parameters exceed the random streams' 2^30");
    if (replications == 0) throw DesignError(what + ": needs at least 1 replication");
    if (replications > kMaxReplications)
        throw DesignError(what + ": " + str(replications) + " replications exceed the limit of 2^32");

    switch (kind) {
        case DesignKind::Random:
        case DesignKind::Table:
            break;
        case DesignKind::LatinHypercube: {
            if (replications > kMaxLhsEntries / dims)
                throw DesignError(what + ": " + str(replications) + " replications x " + str(dims) +
                                  " parameters need that many permutation entries (4 bytes each); at most 2^28 = " +
                                  str(kMaxLhsEntries) + " (1 GiB) are allowed: use \"random\" or \"sobol\"");
            const auto R = replications;
            // u = (π + j)/R exact and strictly inside the stratum needs
            // ceil(log2 R) + bits + 1 <= 53 (see design.hpp).
            jitter_bits_ = std::min(32u, 52u - static_cast<unsigned>(std::bit_width(R - 1)));
            permutations_.resize(R * dims);
            for (std::size_t d = 0; d < dims; ++d) {
                const std::span<std::uint32_t> perm(permutations_.data() + d * R, R);
                std::iota(perm.begin(), perm.end(), std::uint32_t{0});
                UqWordReader words(uq_stream(seed, 0, d, UqPurpose::LhsPermutation));
                for (std::uint64_t i = R - 1; i > 0; --i) std::swap(perm[i], perm[words.below(i + 1)]);
            }
            break;
        }
        case DesignKind::Sobol:
            if (dims > SobolPoints::kMaxDims)
                throw DesignError(what + ": " + str(dims) + " parameters exceed the " + str(SobolPoints::kMaxDims) +
                                  " dimensions of Boost's Sobol directions (Joe-Kuo); use \"lhs\" or \"random\"");
            sobol_.emplace_back(dims, seed, scramble);
            break;
        case DesignKind::Saltelli: {
            if (2 * dims > SobolPoints::kMaxDims)
                throw DesignError(what + ": " + str(dims) + " parameters need " + str(2 * dims) +
                                  " Sobol dimensions (A and B); Boost's Joe-Kuo directions have " +
                                  str(SobolPoints::kMaxDims) + ", so at most " + str(SobolPoints::kMaxDims / 2) +
                                  " parameters");
            const std::uint64_t block = dims + 2;
            if (replications % block != 0)
                throw DesignError(what + " with " + str(dims) + " parameters needs replications = N x (dims + 2) = N x " +
                                  str(block) + " (blocks A, B and one A_B^i per parameter): " + str(replications) +
                                  " is not a multiple of " + str(block) + "; " + saltelli_hint(replications, block));
            if (replications / block < 2)
                throw DesignError(what + " with " + str(dims) + " parameters needs at least N = 2 base points, i.e. " +
                                  str(2 * block) + " replications (got " + str(replications) + ")");
            sobol_.emplace_back(2 * dims, seed, scramble);
            break;
        }
    }
}

void Design::check(std::uint64_t replication, std::size_t dim) const {
    if (kind_ == DesignKind::Table)
        throw std::logic_error("design \"table\": values come from the table, not from unit()");
    if (replication >= replications_ || dim >= dims_)
        throw std::out_of_range("design \"" + name() + "\": replication " + str(replication) + ", parameter " +
                                str(dim) + " outside " + str(replications_) + " x " + str(dims_));
}

double Design::lhs_unit(std::uint64_t replication, std::size_t dim) const {
    const std::uint32_t stratum = permutations_[dim * replications_ + replication];
    const std::uint32_t w = uq_stream(seed_, replication, dim, UqPurpose::LhsJitter).word(0);
    const double jitter = (static_cast<double>(w >> (32 - jitter_bits_)) + 0.5) * std::ldexp(1.0, -static_cast<int>(jitter_bits_));
    return (static_cast<double>(stratum) + jitter) / static_cast<double>(replications_);
}

double Design::saltelli_unit(std::uint64_t replication, std::size_t dim) const {
    const SaltelliCell c = saltelli_cell(replication);
    const bool from_b = c.block == 1 || (c.block >= 2 && static_cast<std::size_t>(c.block - 2) == dim);
    return sobol_.front().unit(c.point, from_b ? dims_ + dim : dim);
}

double Design::unit(std::uint64_t replication, std::size_t dim) const {
    check(replication, dim);
    switch (kind_) {
        case DesignKind::Random: {
            const rng::Block b = uq_stream(seed_, replication, dim, UqPurpose::Random).block(0);
            return unit52(b[0], b[1]);
        }
        case DesignKind::LatinHypercube:
            return lhs_unit(replication, dim);
        case DesignKind::Sobol:
            return sobol_.front().unit(replication, dim);
        case DesignKind::Saltelli:
            return saltelli_unit(replication, dim);
        case DesignKind::Table:
            break;
    }
    throw std::logic_error("design: unit() of a table");
}

void Design::unit_row(std::uint64_t replication, std::span<double> out) const {
    if (out.size() != dims_)
        throw std::invalid_argument("design \"" + name() + "\": unit_row needs " + str(dims_) + " slots, got " +
                                    str(out.size()));
    for (std::size_t d = 0; d < dims_; ++d) out[d] = unit(replication, d);
}

std::uint64_t Design::base_points() const {
    if (kind_ != DesignKind::Saltelli) throw std::logic_error("design \"" + name() + "\" has no Saltelli base points");
    return replications_ / (dims_ + 2);
}

SaltelliCell Design::saltelli_cell(std::uint64_t replication) const {
    if (kind_ != DesignKind::Saltelli) throw std::logic_error("design \"" + name() + "\" has no Saltelli cells");
    if (replication >= replications_)
        throw std::out_of_range("design \"saltelli\": replication " + str(replication) + " outside " +
                                str(replications_));
    const std::uint64_t block = dims_ + 2;
    return {replication / block, static_cast<int>(replication % block)};
}

}  // namespace artel::uq
