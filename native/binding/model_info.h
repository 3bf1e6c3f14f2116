// A model's metadata as plain JavaScript objects: Session#describe() and the addon's inspect(path).
#pragma once

#include <napi.h>

#include <vector>

#include "inferd/model.h"

namespace inferd::binding {

// [{ name, dtype, dims (-1 = dynamic), dimNames (null where unnamed), hasShape }]
Napi::Array tensor_infos_to_js(Napi::Env env, const std::vector<TensorInfo>& infos);

// { inputs, outputs, opset, weightBytes, nodeCount }
Napi::Object describe_model(Napi::Env env, const Model& model);

// inspect(path) → { inputs, outputs, opsets, opCensus, unsupported, irVersion, producer, weightBytes }
Napi::Value inspect_model(const Napi::CallbackInfo& info);

}  // namespace inferd::binding
