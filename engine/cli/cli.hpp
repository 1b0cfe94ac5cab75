// The command line (CLI11): parses arguments, calls the library, prints errors
// and chooses the exit code. Nothing below this layer exits the process.
#pragma once

#include "engine/cli/driver.hpp"

namespace artel::cli {

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the run failed (I/O, internal error)
inline constexpr int kExitUsage = 2;    // bad input: arguments, scenario, output path

int main(int argc, char** argv, ModelDriver& model);

}  // namespace artel::cli
