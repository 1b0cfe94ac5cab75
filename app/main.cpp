// The artel executable: a thin front door over the library. The command line
// lives in engine/cli; the household model is plugged in here.
#include "engine/cli/cli.hpp"
#include "kernels/driver.hpp"

int main(int argc, char** argv) { return artel::cli::main(argc, argv, artel::model::driver()); }
