// Which uncertain parameters drive each arm's outcomes (MODEL.md §6): read
// from the complete file at the end of a run (the parameters in
// /uncertainty, the events of every arm) and written to
// /arms/<arm>/sensitivity. Layout: docs/output-format.md.
#pragma once

#include <cstdint>

#include "engine/h5/h5.hpp"
#include "engine/run/results.hpp"

namespace artel::output {

// The outputs explained: every event, and its paired difference to the
// baseline ("diff_" + event name; NaN in the baseline's own group, which
// has them so that every arm's group has the same outputs).
// Saltelli designs give first-order and total Sobol indices; every other
// design gives Spearman and partial rank correlations. Does nothing when the
// run has no uncertain parameters. Deterministic: the bootstrap draws from
// the seed's own stream.
void write_sensitivity(h5::Group& root, const run::ResultSchema& schema, std::uint64_t seed);

}  // namespace artel::output
