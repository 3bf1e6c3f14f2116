// The engine's public C++ API, part 2: a Session computes a Model. A Session belongs to one thread at
// a time (it owns the activation arena and the cached plans); any number of Sessions may share a Model.
//
// Plans: the first run at a new combination of input shapes infers every intermediate shape, folds
// what depends only on shapes, and lays all intermediates out in one arena (a static memory plan).
// The plan is cached, so a later run at the same shapes allocates nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "inferd/model.h"
#include "inferd/tensor.h"

namespace inferd {

struct SessionOptions {
  // Intra-op threads for one run (1 = compute on the calling thread only).
  int threads = 1;
  // How many input-shape combinations keep their plan; the least recently used is dropped beyond it.
  int plan_cache_size = 16;
};

class SessionImpl;

// Receives the duration of every node a run computes (`inferd-bench --profile`). Without an observer
// a run reads no clock.
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  virtual void on_step(const std::string& op_type, const std::string& node_name, double seconds) = 0;
};

class Session {
 public:
  explicit Session(std::shared_ptr<const Model> model, const SessionOptions& options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Model& model() const { return *model_; }

  // Output shapes for inputs of these shapes, in the model's output order. Plans (and caches) the
  // run. Throws Error(out_of_range) naming the input and dimension when a shape does not fit the
  // model, invalid_argument on a wrong count.
  std::vector<Shape> output_shapes(const std::vector<Shape>& input_shapes);
  // The same for these inputs, whose values count too: a model whose shapes depend on an input's
  // value (Reshape's shape fed by the caller) can only be planned this way.
  std::vector<Shape> output_shapes(const TensorRef* inputs, size_t input_count);

  // Whether the outputs' shapes for these inputs are known only by computing them: the model has a
  // node whose output sizes follow from data (NonZero, If, Loop, a Reshape fed by arithmetic on
  // data). output_shapes() then fails; run() still works when the caller's buffers fit the result,
  // and run_owned() always does.
  bool outputs_depend_on_data(const TensorRef* inputs, size_t input_count);
  bool outputs_depend_on_data(const std::vector<Shape>& input_shapes);

  // Computes outputs from inputs, both in the model's declared order. Output buffers are the caller's:
  // their dtype and shape must be those output_shapes() gives. Validates every count, dtype, shape
  // and byte length before touching memory. No heap allocation at an already-planned shape.
  void run(const TensorRef* inputs, size_t input_count, const TensorRef* outputs, size_t output_count);

  // Computes and returns the outputs in memory this session owns, valid until its next run: for
  // models whose output sizes are known only after a run (see outputs_depend_on_data). At an
  // already-seen shape and data-dependent sizes no larger than before, no heap allocation.
  const std::vector<Tensor>& run_owned(const TensorRef* inputs, size_t input_count);

  // Reports each computed node's time to `observer` (not owned; nullptr stops it).
  void set_step_observer(StepObserver* observer);

  // Number of native runs so far (tests count computed batches with it).
  uint64_t run_count() const;

 private:
  void check_inputs(const TensorRef* inputs, size_t input_count) const;

  std::shared_ptr<const Model> model_;
  std::unique_ptr<SessionImpl> impl_;
};

}  // namespace inferd
