// Models loaded by path, shared process-wide: every worker thread that opens the same file gets the
// same immutable Model, so the weights exist once however many workers serve them.
#pragma once

#include <memory>
#include <string>

#include "inferd/model.h"

namespace inferd::binding {

// Returns the cached Model for `path` while any session still holds it, else loads and caches it.
// The key is the canonical path plus the file's size and modification time, so a file replaced on
// disk loads afresh. Throws what Model::load_file throws.
std::shared_ptr<const Model> load_model_shared(const std::string& path, const ModelOptions& options = {});

}  // namespace inferd::binding
