// The addon's Session class: one inferd::Session (and its arena and plan cache) per JavaScript
// object, meant to live on one worker thread and run the same few shapes over and over. The buffers
// a run needs (dims, TensorRefs, the last planned output shapes) are members reused from call to
// call, so a run at an already-seen shape makes no native allocation and only the JS handles it must.
//
//   new Session(source: string | Uint8Array, options?: { threads?: number })
//   describe() → { inputs, outputs, opset, weightBytes, nodeCount }
//   outputShapes(inputDims: number[][]) → number[][], or null when the sizes follow from computed data
//   run(inputs: TypedArray[], inputDims: number[][], outputs?: TypedArray[]) → TypedArray[]
//   lastOutputShapes: number[][] (the shapes the last run produced)
//   runCount: number
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "inferd/model.h"
#include "inferd/session.h"
#include "inferd/tensor.h"

namespace inferd::binding {

class SessionWrap : public Napi::ObjectWrap<SessionWrap> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit SessionWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value describe(const Napi::CallbackInfo& info);
  Napi::Value output_shapes(const Napi::CallbackInfo& info);
  Napi::Value run(const Napi::CallbackInfo& info);
  Napi::Value run_count(const Napi::CallbackInfo& info);
  Napi::Value last_output_shapes(const Napi::CallbackInfo& info);
  // A run whose output sizes are known only once computed: results copied out of the session.
  Napi::Value run_data_dependent(Napi::Env env, const Napi::Value& caller_outputs);

  // Reads one dims array per model input into input_dims_ / input_ranks_.
  void read_input_dims(Napi::Value value);
  // The output shapes for the dims just read; asks the session only when they changed since last time.
  const std::vector<Shape>& plan_output_shapes();
  // Fails with invalid_argument when a buffer of the run overlaps another: outputs never alias.
  void check_no_overlap(size_t output_index) const;

  std::shared_ptr<const Model> model_;
  std::unique_ptr<Session> session_;

  std::vector<int64_t> input_dims_;  // every input's dims, concatenated
  std::vector<int> input_ranks_;
  std::vector<TensorRef> input_refs_, output_refs_;

  bool has_plan_ = false;
  std::vector<int64_t> planned_input_dims_;
  std::vector<int> planned_input_ranks_;
  std::vector<Shape> planned_output_shapes_;
  bool planned_data_dependent_ = false;
  std::vector<Shape> last_output_shapes_;  // of the last run, when it was data-dependent
  bool last_run_data_dependent_ = false;
};

}  // namespace inferd::binding
