// Progress of a long run: on a terminal one updating line (rate, percent,
// ETA); in a batch log a plain line every few seconds; nothing when quiet.
// Thread-safe to advance; only the thread that calls report() prints.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>

namespace artel::run {

enum class ProgressMode { Auto, Terminal, Log, Quiet };

class Progress {
public:
    Progress(double total_work, std::string unit, ProgressMode mode, std::FILE* out = stderr);
    void advance(double work);
    // The work done so far, counted elsewhere (an MPI job's, engine/mpi/).
    void set_done(double work) { done_.store(work, std::memory_order_relaxed); }
    // Prints if enough time has passed since the last line (call often).
    void report();
    // The final line (rate and wall time), unless quiet.
    void finish();
    double elapsed_seconds() const;
    double done() const { return done_.load(std::memory_order_relaxed); }

private:
    void print(bool final);
    using clock = std::chrono::steady_clock;
    double total_;
    std::string unit_;
    ProgressMode mode_;
    std::FILE* out_;
    std::atomic<double> done_{0.0};
    clock::time_point start_, last_;
    bool printed_ = false;
};

// "1.23 G", "45.6 M", "789 k".
std::string si(double x);
// "1h02m", "3m05s", "12s".
std::string duration(double seconds);

}  // namespace artel::run
