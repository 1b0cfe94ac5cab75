// engine/run/distributed.hpp without MPI: one process (the MPI build has
// engine/mpi/distributed.cpp instead).
#include <stdexcept>

#include "engine/run/distributed.hpp"

namespace artel::dist {

Environment::Environment(int&, char**&) {}
Environment::~Environment() = default;
int rank() { return 0; }
int size() { return 1; }
std::optional<Failure> agree(const std::optional<Failure>& mine) { return mine; }
void broadcast(std::vector<std::uint64_t>&) {}

void abort_job(const std::string& message, int code) {
    throw std::logic_error("abort_job(" + std::to_string(code) + ") without MPI: " + message);
}

RunSummary run(const run::Simulation&, const RunOptions&) {
    throw std::logic_error("dist::run without MPI: this artel was built without ARTEL_MPI");
}

}  // namespace artel::dist
