#pragma once
// Moved to <asyncio/core/detail/watch.hpp>: the combinators' plumbing resumes tasks on their loop,
// so it is core's, and detail/ comes before core (docs/design.md, "Layers"). This forwarding header
// goes once nothing includes it any more; until then scripts/check_layers.py reports it.
#include <asyncio/core/detail/watch.hpp>
