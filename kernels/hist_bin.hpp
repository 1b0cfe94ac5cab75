// The bin of a value in a household histogram (MODEL.md §7 outputs; bins of
// docs/output-format.md): `bins` equal bins of [0, top), values below 0 (and
// NaN) in the first bin, values from top up in the last.
#pragma once

#include <cstddef>
#include <cstdint>

namespace artel::model {

class HistogramBinner {
public:
    HistogramBinner(double top, std::size_t bins) : top_(top), bins_(static_cast<double>(bins)), cap_(bins_ - 0.5) {}

    // floor(x / top * bins) clamped to [0, bins - 1], branch-free and without
    // calling floor: y = x / top * bins is clamped to [0, bins - 1/2] (maxsd,
    // minsd), where truncation is floor(y) below bins - 1 and the last bin
    // from there up. (Multiplying by bins / top instead of dividing, with an
    // exact fallback near bin edges, measured slower: the division is not
    // what limits the histogram loop.)
    std::size_t operator()(double x) const {
        double y = x / top_ * bins_;
        y = y > 0.0 ? y : 0.0;  // NaN too
        y = y < cap_ ? y : cap_;
        return static_cast<std::size_t>(static_cast<std::int64_t>(y));
    }

private:
    double top_, bins_, cap_;
};

}  // namespace artel::model
