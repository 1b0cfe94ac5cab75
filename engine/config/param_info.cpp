#include "engine/config/param_info.hpp"
