// Named random streams: every random number is a pure function of
// (seed, replication, entity, year-or-init, purpose, draw), never of the
// thread, lane or order that asks for it (MODEL.md §1, randomness contract).
//
// Layout of Philox4x32-10's 128-bit counter and 64-bit key:
//   key      = seed (low word, high word)
//   ctr[0]   = replication
//   ctr[1]   = entity kind (top 2 bits) | entity index (30 bits)
//   ctr[2]   = year slot (top 24 bits: 0 = init, t + 1 = year t) | purpose (8 bits)
//   ctr[3]   = draw block: draw n of a stream is word n % 4 of block n / 4
// The bounds (2^30 entities per kind and replication, 2^24 - 2 years) are
// checked when a run is planned (check_stream_bounds), never silently wrapped.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "engine/random/philox.hpp"

namespace artel::rng {

enum class EntityKind : std::uint32_t { Household = 0, Village = 1, Region = 2, National = 3 };

inline constexpr std::uint64_t kMaxEntities = std::uint64_t{1} << 30;
inline constexpr std::uint64_t kMaxYears = (std::uint64_t{1} << 24) - 2;

// The year slot of the initial draws; year t uses slot t + 1.
inline constexpr std::uint32_t kInitSlot = 0;
constexpr std::uint32_t year_slot(std::int64_t t) { return static_cast<std::uint32_t>(t + 1); }

constexpr Key make_key(std::uint64_t seed) {
    return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
}

// One stream: a fixed (replication, entity, year slot, purpose). Purposes are
// small integers chosen by the model; two purposes never share draws.
class Stream {
public:
    constexpr Stream(Key key, std::uint32_t replication, EntityKind kind, std::uint32_t entity,
                     std::uint32_t slot, std::uint32_t purpose)
        : key_(key),
          ctr_{replication, (static_cast<std::uint32_t>(kind) << 30) | entity, (slot << 8) | purpose, 0} {}

    // Draws 4n .. 4n+3 of the stream.
    constexpr Block block(std::uint32_t n) const {
        Counter c = ctr_;
        c[3] = n;
        return philox4x32_10(c, key_);
    }
    // Draw n of the stream (one 32-bit word).
    constexpr std::uint32_t word(std::uint32_t n) const { return block(n >> 2)[n & 3u]; }

    constexpr const Counter& counter() const { return ctr_; }
    constexpr const Key& key() const { return key_; }

private:
    Key key_;
    Counter ctr_;
};

// Reads words of one stream in increasing order, computing each Philox block
// once (word n needs block n / 4).
class WordReader {
public:
    explicit constexpr WordReader(const Stream& s) : stream_(s) {}
    constexpr std::uint32_t operator[](std::uint32_t n) {
        if ((n >> 2) != cached_) {
            cached_ = n >> 2;
            block_ = stream_.block(cached_);
        }
        return block_[n & 3u];
    }

private:
    const Stream& stream_;
    std::uint32_t cached_ = 0xffffffffu;
    Block block_{};
};

// Throws std::invalid_argument when a run would need more counter space than
// the layout above has.
inline void check_stream_bounds(std::uint64_t entities_per_kind, std::uint64_t years,
                                std::uint64_t replications) {
    if (entities_per_kind > kMaxEntities)
        throw std::invalid_argument("random streams: " + std::to_string(entities_per_kind) +
                                    " entities per replication exceed the counter layout's " +
                                    std::to_string(kMaxEntities));
    if (years > kMaxYears)
        throw std::invalid_argument("random streams: " + std::to_string(years) +
                                    " years exceed the counter layout's " + std::to_string(kMaxYears));
    if (replications > (std::uint64_t{1} << 32))
        throw std::invalid_argument("random streams: " + std::to_string(replications) +
                                    " replications exceed the counter layout's 2^32");
}

}  // namespace artel::rng
