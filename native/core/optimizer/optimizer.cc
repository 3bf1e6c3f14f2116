#include "core/optimizer/optimizer.h"

namespace inferd {

void optimize_graph(Graph& graph, int opset) {
  // Passes are added here as they are written.
  (void)graph;
  (void)opset;
}

}  // namespace inferd
