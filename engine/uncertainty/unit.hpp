// The units (points of the open interval (0, 1)) that designs give to the
// priors' quantile functions stay within [kUnitLo, kUnitHi]: a prior's values
// are its quantiles at these two ends and everything between, so a prior is
// checked against a parameter's range by these two quantiles alone.
#pragma once

#include <algorithm>

namespace artel::uq {

inline constexpr double kUnitLo = 0x1p-53;
inline constexpr double kUnitHi = 1.0 - 0x1p-53;

inline double clamp_unit(double u) { return std::clamp(u, kUnitLo, kUnitHi); }

}  // namespace artel::uq
