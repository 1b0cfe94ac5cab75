#include "engine/uncertainty/sobol_points.hpp"

#include <bit>
#include <boost/random/sobol.hpp>
#include <stdexcept>
#include <string>

#include "engine/uncertainty/streams.hpp"

namespace artel::uq {

static_assert(SobolPoints::kMaxDims == boost::random::detail::qrng_tables::sobol::max_dimension,
              "Boost's Sobol table changed size: update SobolPoints::kMaxDims and the docs");

namespace {

// splitmix64's output function (Steele, Lea & Flood 2014) at state z.
constexpr std::uint64_t splitmix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ull;

// The random bits of node `node` of a dimension's scramble tree. Nodes are
// numbered with a leading 1 marking the depth: the interval of the b leading
// digits d is node 2^b + d (b = 0..32), so no two nodes share a number.
constexpr std::uint64_t node_bits(std::uint64_t seed, std::uint64_t node) {
    return splitmix64(seed + node * kGolden);
}

}  // namespace

SobolPoints::SobolPoints(std::size_t dims, std::uint64_t seed, bool scramble) : dims_(dims), scramble_(scramble) {
    if (dims == 0 || dims > kMaxDims)
        throw std::invalid_argument("Sobol points: " + std::to_string(dims) + " dimensions outside [1, " +
                                    std::to_string(kMaxDims) + "] (Boost's Joe-Kuo directions)");
    // Direction number j of each dimension is Boost's point 2^(j+1) − 2, whose
    // Gray code (of index 2^(j+1) − 1) is 2^j.
    boost::random::sobol engine(dims);
    directions_.resize(32 * dims);
    for (unsigned j = 0; j < 32; ++j) {
        engine.seed((std::uint64_t{1} << (j + 1)) - 2);
        for (std::size_t d = 0; d < dims; ++d) {
            const std::uint64_t v = engine();
            if ((v & 0xffffffffull) != 0 || (v >> 32) == 0)
                throw std::logic_error("Sobol points: Boost's direction " + std::to_string(j) + " of dimension " +
                                       std::to_string(d) + " is not a 32-bit leading pattern");
            directions_[j * dims + d] = static_cast<std::uint32_t>(v >> 32);
        }
    }
    if (scramble_) {
        seeds_.resize(dims);
        for (std::size_t d = 0; d < dims; ++d) {
            const rng::Block b = uq_stream(seed, 0, d, UqPurpose::SobolScramble).block(0);
            seeds_[d] = (std::uint64_t{b[0]} << 32) | b[1];
        }
    }
}

std::uint32_t SobolPoints::direction_xor(std::uint32_t gray, std::size_t dim) const {
    std::uint32_t x = 0;
    while (gray != 0) {
        const int j = std::countr_zero(gray);
        x ^= directions_[static_cast<std::size_t>(j) * dims_ + dim];
        gray &= gray - 1;
    }
    return x;
}

std::uint32_t SobolPoints::unscrambled(std::uint64_t index, std::size_t dim) const {
    if (index >= kMaxPoints || dim >= dims_)
        throw std::out_of_range("Sobol points: index " + std::to_string(index) + " or dimension " +
                                std::to_string(dim) + " out of range (2^32, " + std::to_string(dims_) + ")");
    const auto n = static_cast<std::uint32_t>(index);
    return direction_xor(n ^ (n >> 1), dim);
}

std::uint32_t SobolPoints::scramble_digits(std::uint32_t x, std::size_t dim) const {
    std::uint32_t y = x;
    const std::uint64_t seed = seeds_[dim];
    for (unsigned b = 0; b < 32; ++b) {
        const std::uint64_t node = (std::uint64_t{x} >> (32 - b)) | (std::uint64_t{1} << b);
        y ^= static_cast<std::uint32_t>(node_bits(seed, node) >> 63) << (31 - b);
    }
    return y;
}

std::uint32_t SobolPoints::digits(std::uint64_t index, std::size_t dim) const {
    const std::uint32_t x = unscrambled(index, dim);
    return scramble_ ? scramble_digits(x, dim) : x;
}

double SobolPoints::unit(std::uint64_t index, std::size_t dim) const {
    const std::uint32_t x = unscrambled(index, dim);
    if (!scramble_) return x == 0 ? 0x1p-33 : static_cast<double>(x) * 0x1p-32;
    // Digits 33..52: random, a function of the whole 32-digit prefix (the
    // node 2^32 + x), as nested scrambling continues below the points' grid.
    const std::uint64_t tail = node_bits(seeds_[dim], (std::uint64_t{1} << 32) | x) >> 44;
    const std::uint64_t k = (std::uint64_t{scramble_digits(x, dim)} << 20) | tail;
    return (static_cast<double>(k) + 0.5) * 0x1p-52;
}

}  // namespace artel::uq
