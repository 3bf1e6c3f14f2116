// Choosing where a model computes (ModelOptions::provider), on whatever machine runs the test:
// "cpu" always works; "cuda" fails with a message that says why when this build has no CUDA backend
// or no GPU is visible, and computes on CUDA when one is; "auto" is CUDA exactly when a GPU is
// visible, CPU otherwise; an unknown name is refused. The GPU-free functions of inferd/cuda.h are
// no-ops that report "nothing there".
#include <string>
#include <vector>

#include "inferd/cuda.h"
#include "inferd/model.h"
#include "inferd/session.h"
#include "support/check.h"
#include "support/onnx_writer.h"

namespace {

using inferd::ErrorKind;
using inferd::Model;
using inferd::ModelOptions;
using inferd::test::ModelWriter;

constexpr int kFloat = 1;

std::string relu_model() {
  ModelWriter w(13);
  w.input("x", kFloat, {-1, 4});
  w.output("y", kFloat, {-1, 4});
  w.node("Relu", {"x"}, {"y"});
  return w.bytes();
}

std::shared_ptr<const Model> load(const std::string& bytes, const std::string& provider) {
  ModelOptions options;
  options.provider = provider;
  return Model::load_bytes(bytes.data(), bytes.size(), options);
}

}  // namespace

int main() {
  const std::string bytes = relu_model();
  std::string why;
  const bool gpu = inferd::cuda_available(&why);
  std::printf("cuda_available: %s%s%s\n", gpu ? "yes" : "no", gpu ? "" : " — ", why.c_str());

  CHECK(std::string(load(bytes, "cpu")->provider()) == "cpu");
  CHECK(std::string(load(bytes, "")->provider()) == "cpu");
  CHECK_THROWS(load(bytes, "tpu"), ErrorKind::invalid_argument, "unknown provider 'tpu'");

  if (gpu) {
    CHECK(std::string(load(bytes, "cuda")->provider()) == "cuda");
    CHECK(std::string(load(bytes, "auto")->provider()) == "cuda");
  } else {
    CHECK(!why.empty());
#ifdef INFERD_HAS_CUDA
    CHECK_THROWS(load(bytes, "cuda"), ErrorKind::invalid_argument, "provider 'cuda': no CUDA GPU is visible");
#else
    CHECK_THROWS(load(bytes, "cuda"), ErrorKind::invalid_argument, "this build of inferd has no CUDA backend");
#endif
    // "auto" falls back to the CPU, and the model computes there.
    auto model = load(bytes, "auto");
    CHECK(std::string(model->provider()) == "cpu");
    inferd::Session session(model);
    std::vector<float> x = {-1, 2, -3, 4}, y(4, 0.0f);
    const int64_t dims[2] = {1, 4};
    inferd::TensorRef in{inferd::DType::f32, dims, 2, x.data(), 16};
    inferd::TensorRef out{inferd::DType::f32, dims, 2, y.data(), 16};
    session.run(&in, 1, &out, 1);
    CHECK(y == (std::vector<float>{0, 2, 0, 4}));

    // Without a GPU the host-memory and metrics functions change nothing and say so.
    std::vector<char> slot(4096);
    CHECK(!inferd::register_host_memory(slot.data(), slot.size()));
    inferd::unregister_host_memory(slot.data());
    inferd::GpuStats stats;
    CHECK(!inferd::read_gpu_stats(&stats));
  }
  return inferd::test::failures();
}
