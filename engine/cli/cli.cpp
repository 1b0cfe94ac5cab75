#include "engine/cli/cli.hpp"

namespace artel::cli {
int main(int, char**) { return 0; }  // replaced by the real front door
}  // namespace artel::cli
