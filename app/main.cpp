// The artel executable: a thin front door over the library (engine/cli).
#include "engine/cli/cli.hpp"

int main(int argc, char** argv) { return artel::cli::main(argc, argv); }
