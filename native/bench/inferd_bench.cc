// inferd-bench: loads an ONNX model with the native engine alone (no Node.js) and times runs on
// random inputs of the right shapes.
//
//   inferd-bench <model.onnx> [--batch N] [--threads T] [--iters K] [--warmup W] [--dim name=value]
//                             [--json path]
//
// Prints p50/p90/p99/max latency, items/s, GFLOP/s for the GEMM-like ops (Gemm, MatMul), and the
// heap allocations per steady-state run (counted by replacing operator new in this program).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "core/model_impl.h"
#include "core/plan.h"
#include "inferd/error.h"
#include "inferd/model.h"
#include "inferd/session.h"

namespace {

std::atomic<uint64_t> g_allocations{0};

struct Options {
  std::string model;
  int64_t batch = 1;
  int threads = 1;
  int iters = 200;
  int warmup = 20;
  std::map<std::string, int64_t> dims;
  std::string json;
};

[[noreturn]] void usage(const char* message) {
  std::fprintf(stderr, "inferd-bench: %s\nusage: inferd-bench <model.onnx> [--batch N] [--threads T] [--iters K] "
               "[--warmup W] [--dim name=value] [--json path]\n", message);
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
      return argv[++i];
    };
    if (arg == "--batch") o.batch = std::stoll(next());
    else if (arg == "--threads") o.threads = std::stoi(next());
    else if (arg == "--iters") o.iters = std::stoi(next());
    else if (arg == "--warmup") o.warmup = std::stoi(next());
    else if (arg == "--json") o.json = next();
    else if (arg == "--dim") {
      const std::string v = next();
      const size_t eq = v.find('=');
      if (eq == std::string::npos) usage("--dim takes name=value");
      o.dims[v.substr(0, eq)] = std::stoll(v.substr(eq + 1));
    } else if (arg == "-h" || arg == "--help") usage("help");
    else if (!arg.empty() && arg[0] == '-') usage(("unknown option " + arg).c_str());
    else o.model = arg;
  }
  if (o.model.empty()) usage("no model given");
  if (o.batch < 1 || o.threads < 1 || o.iters < 1 || o.warmup < 0) usage("counts must be positive");
  return o;
}

// The first dynamic dimension of each input is the batch; other dynamic dims come from --dim or 1.
inferd::Shape input_shape(const inferd::TensorInfo& info, const Options& o) {
  inferd::Shape shape;
  bool batch_used = false;
  for (size_t d = 0; d < info.dims.size(); ++d) {
    if (info.dims[d] >= 0) { shape.push_back(info.dims[d]); continue; }
    auto named = o.dims.find(info.dim_names[d]);
    if (named != o.dims.end()) shape.push_back(named->second);
    else if (!batch_used) { shape.push_back(o.batch); batch_used = true; }
    else shape.push_back(1);
  }
  return shape;
}

void fill_random(inferd::Tensor& t, std::mt19937& rng) {
  std::uniform_real_distribution<float> real(-1.f, 1.f);
  std::uniform_int_distribution<int> small(0, 9);
  const int64_t n = t.size();
  switch (t.dtype) {
    case inferd::DType::f32: for (int64_t i = 0; i < n; ++i) t.data_as<float>()[i] = real(rng); break;
    case inferd::DType::f64: for (int64_t i = 0; i < n; ++i) t.data_as<double>()[i] = real(rng); break;
    case inferd::DType::i64: for (int64_t i = 0; i < n; ++i) t.data_as<int64_t>()[i] = small(rng); break;
    case inferd::DType::i32: for (int64_t i = 0; i < n; ++i) t.data_as<int32_t>()[i] = small(rng); break;
    case inferd::DType::boolean: for (int64_t i = 0; i < n; ++i) t.data_as<uint8_t>()[i] = 1; break;
    default: break;  // zero-filled by Tensor::allocate
  }
}

// Multiply-adds of the GEMM-like steps, ×2 for FLOPs.
double gemm_flops(const inferd::Plan& plan) {
  double flops = 0;
  for (const inferd::Step& step : plan.steps) {
    const std::string& op = step.node->op_type;
    if (op != "Gemm" && op != "MatMul") continue;
    const inferd::Tensor& a = *plan.step_inputs[step.first_input];
    const inferd::Tensor& y = *plan.step_outputs[step.first_output];
    if (a.shape.empty()) continue;
    int64_t k = op == "Gemm" && step.node->attributes.get_int("transA", 0) ? a.shape[0] : a.shape.back();
    flops += 2.0 * static_cast<double>(y.size()) * static_cast<double>(k);
  }
  return flops;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

int main(int argc, char** argv) {
  const Options o = parse_args(argc, argv);
  try {
    const auto load_start = std::chrono::steady_clock::now();
    std::shared_ptr<const inferd::Model> model = inferd::Model::load_file(o.model);
    const double load_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();
    inferd::SessionOptions session_options;
    session_options.threads = o.threads;
    inferd::Session session(model, session_options);

    std::mt19937 rng(42);
    std::vector<inferd::Shape> shapes;
    std::vector<inferd::Tensor> inputs, outputs;
    for (const inferd::TensorInfo& info : model->inputs()) {
      shapes.push_back(input_shape(info, o));
      inputs.push_back(inferd::Tensor::allocate(info.dtype, shapes.back()));
      fill_random(inputs.back(), rng);
    }
    const std::vector<inferd::Shape> out_shapes = session.output_shapes(shapes);
    const std::unique_ptr<inferd::Plan> plan = inferd::make_plan(model->impl(), shapes);
    for (size_t j = 0; j < out_shapes.size(); ++j) outputs.push_back(inferd::Tensor::allocate(plan->output_dtypes[j], out_shapes[j]));

    auto refs = [](std::vector<inferd::Tensor>& ts) {
      std::vector<inferd::TensorRef> r;
      for (inferd::Tensor& t : ts) r.push_back({t.dtype, t.shape.data(), t.rank(), t.data, t.nbytes()});
      return r;
    };
    const std::vector<inferd::TensorRef> in_refs = refs(inputs), out_refs = refs(outputs);

    for (int i = 0; i < o.warmup; ++i) session.run(in_refs.data(), in_refs.size(), out_refs.data(), out_refs.size());
    std::vector<double> latencies_us;
    latencies_us.reserve(static_cast<size_t>(o.iters));
    const uint64_t allocations_before = g_allocations.load();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < o.iters; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      session.run(in_refs.data(), in_refs.size(), out_refs.data(), out_refs.size());
      latencies_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const uint64_t allocations = g_allocations.load() - allocations_before;

    const double flops = gemm_flops(*plan);
    const double p50 = percentile(latencies_us, 0.5), p90 = percentile(latencies_us, 0.9),
                 p99 = percentile(latencies_us, 0.99), max = percentile(latencies_us, 1.0);
    const double items_per_s = static_cast<double>(o.batch) * o.iters / total_s;
    const double gflops = flops > 0 ? flops * o.iters / total_s / 1e9 : 0;
    std::printf("model       %s\n", o.model.c_str());
    std::printf("load        %.1f ms, %zu nodes, %.1f MB of weights, opset %lld\n", load_ms, model->node_count(),
                static_cast<double>(model->weight_bytes()) / 1e6, static_cast<long long>(model->opset()));
    std::printf("settings    batch %lld, threads %d, %d iterations after %d warm-up\n",
                static_cast<long long>(o.batch), o.threads, o.iters, o.warmup);
    std::printf("latency     p50 %.1f us  p90 %.1f us  p99 %.1f us  max %.1f us\n", p50, p90, p99, max);
    std::printf("throughput  %.0f items/s\n", items_per_s);
    if (flops > 0) std::printf("gemm        %.3f GFLOP per run, %.2f GFLOP/s\n", flops / 1e9, gflops);
    else std::printf("gemm        no Gemm/MatMul steps\n");
    std::printf("allocations %.2f per run (steady state)\n", static_cast<double>(allocations) / o.iters);
    if (!o.json.empty()) {
      if (FILE* f = std::fopen(o.json.c_str(), "w")) {
        std::fprintf(f, "{\"model\":\"%s\",\"batch\":%lld,\"threads\":%d,\"iters\":%d,\"p50_us\":%.3f,\"p90_us\":%.3f,"
                     "\"p99_us\":%.3f,\"max_us\":%.3f,\"items_per_s\":%.3f,\"gflops\":%.3f,\"allocations_per_run\":%.3f}\n",
                     o.model.c_str(), static_cast<long long>(o.batch), o.threads, o.iters, p50, p90, p99, max,
                     items_per_s, gflops, static_cast<double>(allocations) / o.iters);
        std::fclose(f);
      }
    }
  } catch (const inferd::Error& e) {
    std::fprintf(stderr, "inferd-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
