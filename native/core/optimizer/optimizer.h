// Graph optimizations run once at load, after initializer-only subgraphs are folded. Each pass
// rewrites the graph into one that computes the same outputs with fewer or cheaper nodes; passes
// never change what a graph output means. ModelOptions::optimize = false skips them all.
#pragma once

#include "core/graph.h"

namespace inferd {

// Runs every pass (see optimizer.cc for the order and why).
void optimize_graph(Graph& graph, int opset);

}  // namespace inferd
