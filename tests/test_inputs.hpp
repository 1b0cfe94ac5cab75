// Fixed generators of test inputs (not the engine's random numbers).
#pragma once

#include <cstdint>

namespace artel::test {

// splitmix64: a simple, fixed sequence of 64-bit test inputs.
inline std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

}  // namespace artel::test
