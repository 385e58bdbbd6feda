#pragma once
// Moved to "core/internal_loop_local.hpp": loop_local hooks into the event loop's close, so it is
// core's, and detail/ comes before core (docs/design.md, "Layers"). This forwarding header goes once
// nothing includes it any more; until then scripts/check_layers.py reports it.
#include "core/internal_loop_local.hpp"
