// Optional count of the random words a year step reads (what the scalar
// reference kernel draws) and of the Philox words the vector kernel computes
// (whole blocks, every lane of a vector), for the RNG-bound ceiling of
// docs/performance.md. Off unless a benchmark switches it on; per thread.
#pragma once

#include <cstdint>

namespace artel::model::simd {

struct DrawCounts {
    std::int64_t used = 0;             // words the model reads (scalar semantics)
    std::int64_t generated = 0;        // Philox words computed by the vector kernel
    std::int64_t household_years = 0;  // households alive at the start of a year step
};

namespace detail {
inline bool& counting() {
    thread_local bool on = false;
    return on;
}
inline DrawCounts& counts() {
    thread_local DrawCounts c;
    return c;
}
}  // namespace detail

// Starts (and resets) or stops counting on this thread.
inline void count_draws(bool on) {
    detail::counting() = on;
    detail::counts() = DrawCounts{};
}
inline DrawCounts draw_counts() { return detail::counts(); }

}  // namespace artel::model::simd
