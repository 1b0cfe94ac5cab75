// What a simulation produces, described generically: the engine's runner,
// statistics and HDF5 writer work from this schema and know nothing of what
// the series mean.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace artel::run {

struct SeriesInfo {
    std::string name;
    std::string unit;
    std::string description;
    bool has_start = false;  // a stock with a value at the start (before year 0)
};

struct EventInfo {
    std::string name;
    std::string unit;
    std::string description;
    // The first year index t at which something happens: -1 if it holds at
    // the start, T (the number of years) if it never happens within them.
    bool year_index = false;
};

struct HistogramInfo {
    std::string name;
    std::string unit;
    std::string description;
    std::vector<double> edges;  // bins + 1 edges; the last bin also counts values above
};

// A household variable of the trajectory samples.
struct TrajectoryVarInfo {
    std::string name;
    std::string unit;
    std::string description;
    std::vector<double> flag_values;  // a categorical variable: its codes,
    std::string flag_meanings;        // and their names, space-separated (CF)
};

// An uncertain parameter (MODEL.md §6): one value per replication, drawn
// from its prior by the run's design (or read from a table).
struct ParameterInfo {
    std::string name;         // "weather.failure_prob"
    std::string unit;
    std::string description;
    std::string prior;        // the prior as a TOML inline table
    std::string dist;         // "beta", ...; "table" for a table's column
    std::vector<std::pair<std::string, double>> numbers;              // the prior's fields
    std::vector<std::pair<std::string, std::vector<double>>> lists;   // discrete values and weights
};

struct ResultSchema {
    std::vector<std::string> arms;              // arms[0] is the baseline
    std::int64_t replications = 0;
    std::int64_t years = 0;
    std::int64_t start_year = 0;
    std::vector<SeriesInfo> series;
    std::vector<EventInfo> events;
    std::vector<HistogramInfo> histograms;
    std::vector<std::int64_t> histogram_years;  // calendar years (end of year)
    std::vector<std::string> trajectory_vars;
    std::vector<TrajectoryVarInfo> trajectory_info;  // per trajectory_vars entry, if given: units, meaning, flags
    std::vector<std::int64_t> trajectory_households;  // household ids within a replication
    std::int64_t trajectory_replications = 0;         // replications 0 .. n-1 carry samples
    std::vector<SeriesInfo> regional;                 // per-region series (empty: none)
    std::int64_t regions = 0;                         // regions they are per (0: none)
    std::vector<ParameterInfo> parameters;            // empty: every replication has the same parameters
    std::string design;                               // how the parameter vectors are laid out
    std::string design_source;                        // design "table": the file of vectors

    std::size_t n_arms() const { return arms.size(); }
    std::size_t histogram_cells() const;  // per arm: hists × years × bins
};

// Everything one replication contributes, for all arms.
struct ReplicationRecord {
    std::uint64_t replication = 0;
    std::vector<double> series;             // [arm][series][year]
    std::vector<double> start;              // [arm][series] (NaN where no start value)
    std::vector<double> events;             // [arm][event]
    std::vector<std::int64_t> histograms;   // [arm][histogram][hist year][bin]
    std::vector<double> trajectories;       // [arm][household][var][year + 1]; empty if none
    std::vector<double> parameters;         // [parameter]: this replication's values
    std::vector<double> regions;            // [arm][regional series][year][region]

    void shape(const ResultSchema& s, bool with_trajectories);
};

}  // namespace artel::run
