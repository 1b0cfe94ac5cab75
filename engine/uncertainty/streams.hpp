// The random streams of the uncertainty library: design draws (random, Latin
// hypercube, the Sobol scramble) and the bootstrap of the sensitivity
// estimators. Like every other random number of a run they are pure
// functions of (seed, replication, parameter, purpose, draw) — MODEL.md §1.
//
// They use the run's key (the seed) and the counter layout of
// engine/random/streams.hpp, in a year slot the model never reaches:
//   key      = seed
//   ctr[0]   = replication (or bootstrap resample; 0 for per-parameter streams)
//   ctr[1]   = National entity kind | parameter index (30 bits)
//   ctr[2]   = kDesignSlot (top 24 bits) | UqPurpose (8 bits)
//   ctr[3]   = draw block
// Year slots are t + 1 with t < kMaxYears = 2^24 − 2 (check_stream_bounds
// refuses longer runs), so slot 2^24 − 1 is never a model year: whatever
// purposes kernels/purposes.hpp adds, no model draw can equal a design draw.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "engine/random/streams.hpp"

namespace artel::uq {

inline constexpr std::uint32_t kDesignSlot = (std::uint32_t{1} << 24) - 1;
static_assert(kDesignSlot > rng::year_slot(static_cast<std::int64_t>(rng::kMaxYears) - 1),
              "the design slot must lie above every year slot of the model");

// Never renumber: the values are part of what a design means.
enum class UqPurpose : std::uint32_t {
    Random = 1,          // random design: words 0, 1 of (replication, parameter)
    LhsPermutation = 2,  // Latin hypercube: Fisher–Yates words of (0, parameter)
    LhsJitter = 3,       // Latin hypercube: word 0 of (replication, parameter)
    SobolScramble = 4,   // Sobol: words 0, 1 of (0, Sobol dimension) seed its Owen scramble
    Bootstrap = 5,       // Sobol indices: resampling words of (resample, 0)
};

inline constexpr std::uint64_t kMaxUqEntities = rng::kMaxEntities;            // parameters, 2^30
inline constexpr std::uint64_t kMaxUqReplications = std::uint64_t{1} << 32;  // ctr[0] is 32 bits

inline rng::Stream uq_stream(std::uint64_t seed, std::uint64_t replication, std::uint64_t entity,
                             UqPurpose purpose) {
    if (replication >= kMaxUqReplications || entity >= kMaxUqEntities)
        throw std::out_of_range("uncertainty streams: replication " + std::to_string(replication) + " or index " +
                                std::to_string(entity) + " outside the counter layout (2^32, 2^30)");
    return rng::Stream(rng::make_key(seed), static_cast<std::uint32_t>(replication), rng::EntityKind::National,
                       static_cast<std::uint32_t>(entity), kDesignSlot, static_cast<std::uint32_t>(purpose));
}

// (k + 0.5)·2^-52 for the 52-bit k = (w0 << 20) | (w1 >> 12): the midpoint of
// one of 2^52 equal cells of [0, 1), exact (k + 0.5 needs 53 bits), strictly
// inside (0, 1): from 2^-53 to 1 − 2^-53. Parameters get 52 bits rather than
// rng::uniform01's 32 so that a prior's far tail is not a 2^-32 staircase.
constexpr double unit52(std::uint32_t w0, std::uint32_t w1) {
    const std::uint64_t k = (std::uint64_t{w0} << 20) | (w1 >> 12);
    return (static_cast<double>(k) + 0.5) * 0x1p-52;
}

// Reads the words of one stream in order with a 64-bit word index, and
// refuses (rather than wraps) past the 2^32 blocks of counter word 3.
class UqWordReader {
public:
    explicit UqWordReader(const rng::Stream& s) : stream_(s) {}
    std::uint32_t next() {
        const std::uint64_t block = next_ >> 2;
        if (block != cached_) {
            if (block > 0xffffffffull)
                throw std::out_of_range("uncertainty streams: a stream ran past its 2^34 words");
            block_ = stream_.block(static_cast<std::uint32_t>(block));
            cached_ = block;
        }
        return block_[next_++ & 3u];
    }
    // A uniform integer in [0, bound), bound in [1, 2^32], without bias:
    // Lemire's multiply-and-reject (2019). Usually one word, rarely more.
    std::uint64_t below(std::uint64_t bound) {
        const std::uint64_t threshold = ((std::uint64_t{1} << 32) - bound) % bound;  // 2^32 mod bound
        for (;;) {
            const std::uint64_t m = std::uint64_t{next()} * bound;
            if ((m & 0xffffffffull) >= threshold) return m >> 32;
        }
    }

private:
    rng::Stream stream_;
    std::uint64_t next_ = 0;
    std::uint64_t cached_ = ~std::uint64_t{0};
    rng::Block block_{};
};

}  // namespace artel::uq
