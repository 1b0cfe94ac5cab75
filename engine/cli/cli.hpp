// The command line (CLI11): parses arguments, calls the library, prints errors
// and chooses the exit code. Nothing below this layer exits the process.
#pragma once

namespace artel::cli {

// Exit codes: 0 success, 1 run failure (I/O, internal), 2 bad input or usage.
int main(int argc, char** argv);

}  // namespace artel::cli
