// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC'11), written out so that scalar and vector code share one definition.
// Reproduces Random123's philox4x32 with 10 rounds bit for bit; the test
// checks the Known-Answer vectors and Random123 itself.
#pragma once

#include <array>
#include <cstdint>

namespace artel::rng {

using Counter = std::array<std::uint32_t, 4>;
using Key = std::array<std::uint32_t, 2>;
using Block = std::array<std::uint32_t, 4>;

namespace philox_detail {
inline constexpr std::uint32_t kM0 = 0xD2511F53u;
inline constexpr std::uint32_t kM1 = 0xCD9E8D57u;
inline constexpr std::uint32_t kW0 = 0x9E3779B9u;  // golden ratio
inline constexpr std::uint32_t kW1 = 0xBB67AE85u;  // sqrt(3) - 1

constexpr void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
    const std::uint64_t p = std::uint64_t{a} * std::uint64_t{b};
    hi = static_cast<std::uint32_t>(p >> 32);
    lo = static_cast<std::uint32_t>(p);
}
}  // namespace philox_detail

// One Philox4x32-10 evaluation: 128 random bits from (counter, key).
constexpr Block philox4x32_10(Counter c, Key k) {
    using namespace philox_detail;
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k[0] += kW0;
            k[1] += kW1;
        }
        std::uint32_t hi0, lo0, hi1, lo1;
        mulhilo(kM0, c[0], hi0, lo0);
        mulhilo(kM1, c[2], hi1, lo1);
        c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
    }
    return c;
}

}  // namespace artel::rng
