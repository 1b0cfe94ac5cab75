#include "engine/run/progress.hpp"

#include <unistd.h>

#include <cmath>

namespace artel::run {

std::string si(double x) {
    char buf[32];
    const char* suffix[] = {"", " k", " M", " G", " T"};
    int k = 0;
    while (std::fabs(x) >= 1000.0 && k < 4) x /= 1000.0, ++k;
    std::snprintf(buf, sizeof buf, x < 10 ? "%.2f%s" : (x < 100 ? "%.1f%s" : "%.0f%s"), x, suffix[k]);
    return buf;
}

std::string duration(double s) {
    char buf[32];
    if (!std::isfinite(s)) return "?";
    const auto t = static_cast<long>(std::lround(s));
    if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
    else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
    else std::snprintf(buf, sizeof buf, "%lds", t);
    return buf;
}

Progress::Progress(double total_work, std::string unit, ProgressMode mode, std::FILE* out)
    : total_(total_work), unit_(std::move(unit)), mode_(mode), out_(out), start_(clock::now()), last_(start_) {
    if (mode_ == ProgressMode::Auto) mode_ = isatty(fileno(out_)) ? ProgressMode::Terminal : ProgressMode::Log;
}

void Progress::advance(double work) { done_.fetch_add(work, std::memory_order_relaxed); }

double Progress::elapsed_seconds() const {
    return std::chrono::duration<double>(clock::now() - start_).count();
}

void Progress::report() {
    if (mode_ == ProgressMode::Quiet) return;
    const auto now = clock::now();
    const double interval = mode_ == ProgressMode::Terminal ? 0.25 : 5.0;
    if (std::chrono::duration<double>(now - last_).count() < interval) return;
    last_ = now;
    print(false);
}

void Progress::print(bool final) {
    const double t = elapsed_seconds();
    const double d = done();
    const double rate = t > 0 ? d / t : 0.0;
    const double pct = total_ > 0 ? 100.0 * d / total_ : 100.0;
    const double eta = rate > 0 ? (total_ - d) / rate : NAN;
    if (mode_ == ProgressMode::Terminal) {
        if (final)
            std::fprintf(out_, "\r\033[K%s %s in %s (%s %s/s)\n", si(d).c_str(), unit_.c_str(), duration(t).c_str(),
                         si(rate).c_str(), unit_.c_str());
        else
            std::fprintf(out_, "\r\033[K%5.1f%%  %s %s/s  ETA %s", pct, si(rate).c_str(), unit_.c_str(),
                         duration(eta).c_str());
    } else {
        if (final)
            std::fprintf(out_, "done: %s %s in %s (%s %s/s)\n", si(d).c_str(), unit_.c_str(), duration(t).c_str(),
                         si(rate).c_str(), unit_.c_str());
        else
            std::fprintf(out_, "progress: %.1f%%, %s %s/s, elapsed %s, ETA %s\n", pct, si(rate).c_str(),
                         unit_.c_str(), duration(t).c_str(), duration(eta).c_str());
    }
    std::fflush(out_);
    printed_ = true;
}

void Progress::finish() {
    if (mode_ == ProgressMode::Quiet) return;
    print(true);
}

}  // namespace artel::run
