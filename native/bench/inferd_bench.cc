// inferd-bench: loads an ONNX model with the native engine alone (no Node.js) and times runs on
// random inputs of the right shapes, or on inputs read from files; also measures the machine's FMA
// peak and sweeps SGEMM sizes, so GEMM figures can be read as a fraction of what the cores can do.
//
//   inferd-bench <model.onnx> [--batch N] [--threads T] [--iters K] [--warmup W] [--dim name=value]
//                             [--inputs DIR] [--provider NAME] [--no-optimize] [--profile] [--peak]
//                             [--json path]
//   inferd-bench --peak [--threads T] [--json path]
//   inferd-bench --sgemm MxNxK[,MxNxK…] [--threads T] [--json path]
//
// Prints p50/p90/p99/max/min latency, items/s, GFLOP/s of the GEMM-like ops (Gemm, MatMul, Conv and the
// optimizer's fused forms) and the heap allocations per steady-state run (counted by replacing
// operator new in this program).
//   --inputs DIR   reads DIR/input_0.pb, input_1.pb … (ONNX TensorProto, in the model's input order,
//                  the layout of ONNX test data sets): the Node benchmark writes the tensors it feeds
//                  onnxruntime-node there, so both engines compute on identical data. Shapes come
//                  from the files (--batch and --dim are ignored).
//   --profile      after the timed runs, runs --iters more with a step observer and prints the time
//                  per op type and per node (the median over runs, share of the total), slowest
//                  first, with each node's shapes, and names any node that allocates on the heap.
//   --provider     ModelOptions::provider: cpu (default), cuda or auto.
//   --peak         measures the FMA peak at --threads and reports GEMM GFLOP/s as a fraction of it.
//   --sgemm        times C = A·B (random, row-major) at each size, on a fresh B every call and on a
//                  B pre-packed once (as model weights are), in GFLOP/s and as a fraction of the peak
//                  (bench/sgemm_sweep.h); a bare N means N×N×N.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <stdexcept>
#include <random>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "bench/fma_peak.h"
#include "bench/sgemm_sweep.h"
#include "core/model_impl.h"
#include "core/onnx_loader.h"
#include "core/plan.h"
#include "core/thread_pool.h"
#include "cpu/kernels/sgemm.h"
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
  std::string inputs_dir;
  std::string provider = "cpu";
  bool optimize = true;
  bool profile = false;
  bool peak = false;
  std::vector<inferd::SgemmShape> sgemm;
  std::string json;
};

const char* const kUsage =
    "usage: inferd-bench <model.onnx> [--batch N] [--threads T] [--iters K] [--warmup W] [--dim name=value]\n"
    "                    [--inputs DIR] [--provider cpu|cuda|auto] [--no-optimize] [--profile] [--peak] [--json path]\n"
    "       inferd-bench --peak [--threads T] [--json path]\n"
    "       inferd-bench --sgemm MxNxK[,MxNxK...] [--threads T] [--json path]\n";

[[noreturn]] void usage(const std::string& message) {
  std::fprintf(stderr, "inferd-bench: %s\n%s", message.c_str(), kUsage);
  std::exit(2);
}

int64_t parse_count(const std::string& option, const std::string& text) {
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') usage(option + " takes an integer, got '" + text + "'");
  return v;
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value for " + arg);
      return argv[++i];
    };
    if (arg == "--batch") o.batch = parse_count(arg, next());
    else if (arg == "--threads") o.threads = static_cast<int>(parse_count(arg, next()));
    else if (arg == "--iters") o.iters = static_cast<int>(parse_count(arg, next()));
    else if (arg == "--warmup") o.warmup = static_cast<int>(parse_count(arg, next()));
    else if (arg == "--json") o.json = next();
    else if (arg == "--inputs") o.inputs_dir = next();
    else if (arg == "--provider") o.provider = next();
    else if (arg == "--no-optimize") o.optimize = false;
    else if (arg == "--profile") o.profile = true;
    else if (arg == "--peak") o.peak = true;
    else if (arg == "--sgemm") {
      try {
        o.sgemm = inferd::parse_sgemm_shapes(next());
      } catch (const std::invalid_argument& e) {
        usage(std::string("--sgemm: ") + e.what());
      }
    }
    else if (arg == "--dim") {
      const std::string v = next();
      const size_t eq = v.find('=');
      if (eq == std::string::npos) usage("--dim takes name=value");
      o.dims[v.substr(0, eq)] = parse_count("--dim", v.substr(eq + 1));
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (!arg.empty() && arg[0] == '-') usage("unknown option " + arg);
    else o.model = arg;
  }
  if (o.model.empty() && !o.peak && o.sgemm.empty()) usage("no model given");
  if (!o.model.empty() && !o.sgemm.empty()) usage("--sgemm runs without a model");
  if (o.batch < 1 || o.threads < 1 || o.iters < 1 || o.warmup < 0) usage("counts must be positive");
  return o;
}

// A JSON string literal (names of nodes and files may hold quotes or backslashes).
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) { out += ' '; continue; }
    out += c;
  }
  return out + "\"";
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// User + system CPU time of this process so far, all threads.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// --- model runs --------------------------------------------------------------------------------

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

// The inputs a run computes on: DIR/input_<i>.pb when --inputs is given, else random ones shaped by
// --batch and --dim.
std::vector<inferd::Tensor> make_inputs(const inferd::Model& model, const Options& o) {
  std::vector<inferd::Tensor> inputs;
  std::mt19937 rng(42);
  for (size_t i = 0; i < model.inputs().size(); ++i) {
    const inferd::TensorInfo& info = model.inputs()[i];
    if (o.inputs_dir.empty()) {
      inputs.push_back(inferd::Tensor::allocate(info.dtype, input_shape(info, o)));
      fill_random(inputs.back(), rng);
      continue;
    }
    const std::string path = o.inputs_dir + "/input_" + std::to_string(i) + ".pb";
    inputs.push_back(inferd::load_tensor_proto_file(path));
    if (inputs.back().dtype != info.dtype)
      inferd::fail(inferd::ErrorKind::invalid_argument, path, ": input '", info.name, "' is ",
                   inferd::dtype_name(info.dtype), " but the file holds ", inferd::dtype_name(inputs.back().dtype));
  }
  return inputs;
}

// A plan of the model at these shapes made apart from the session's, for what the harness reports
// about the steps (FLOPs, shapes): without input values, which would fold a graph of known inputs
// away. Null when the model cannot be planned from shapes alone.
std::unique_ptr<inferd::Plan> plan_for_shapes(const inferd::Model& model, const std::vector<inferd::Shape>& shapes) {
  try {
    return inferd::make_plan(model.impl(), shapes);
  } catch (const inferd::Error&) {
    return nullptr;
  }
}

std::string shape_text(const inferd::Shape& s) {
  std::string t;
  for (size_t i = 0; i < s.size(); ++i) t += (i ? "x" : "") + std::to_string(s[i]);
  return t.empty() ? "scalar" : t;
}

// Node name → "first input's shape -> first output's shape", for the profile.
std::map<std::string, std::string> step_shapes(const inferd::Plan* plan) {
  std::map<std::string, std::string> shapes;
  if (!plan) return shapes;
  for (const inferd::Step& step : plan->steps) {
    const inferd::Tensor* in = step.input_count > 0 ? plan->step_inputs[step.first_input] : nullptr;
    const inferd::Tensor* out = step.output_count > 0 ? plan->step_outputs[step.first_output] : nullptr;
    shapes[step.node->name] = (in ? shape_text(in->shape) : "-") + " -> " + (out ? shape_text(out->shape) : "-");
  }
  return shapes;
}

// Multiply-adds ×2 of the steps that are matrix products: Gemm, MatMul, Conv and the fused forms;
// each node's share goes into `by_node` (by name) when it is given.
double gemm_flops(const inferd::Plan* planned, std::map<std::string, double>* by_node = nullptr) {
  if (!planned) return 0;
  const inferd::Plan& plan = *planned;
  double flops = 0;
  for (const inferd::Step& step : plan.steps) {
    const std::string& op = step.node->op_type;
    const inferd::Tensor* a = plan.step_inputs[step.first_input];
    const inferd::Tensor& y = *plan.step_outputs[step.first_output];
    if (!a || a->shape.empty()) continue;
    double k = 0;
    if (op == "Gemm" || op == "FusedGemm") {
      k = static_cast<double>(step.node->attributes.get_int("transA", 0) ? a->shape[0] : a->shape.back());
    } else if (op == "MatMul" || op == "FusedMatMul") {
      k = static_cast<double>(a->shape.back());
    } else if ((op == "Conv" || op == "FusedConv") && step.input_count > 1 && plan.step_inputs[step.first_input + 1]) {
      const inferd::Tensor& w = *plan.step_inputs[step.first_input + 1];
      k = static_cast<double>(w.size() / std::max<int64_t>(w.shape[0], 1));  // C/group · kernel taps
    }
    flops += 2.0 * static_cast<double>(y.size()) * k;
    if (by_node && k > 0) (*by_node)[step.node->name] += 2.0 * static_cast<double>(y.size()) * k;
  }
  return flops;
}

// Each step's time per run, by node; summarized as the median over runs (a shared machine preempts
// some runs, and a mean would charge that to whichever node was running), and by op type as the sum
// of its nodes' medians.
class Profiler final : public inferd::StepObserver {
 public:
  struct Entry {
    std::string op, name;
    double seconds = 0;  // median per run (per op type: summed over its nodes)
    int64_t nodes = 1;
    uint64_t allocations = 0;  // heap allocations during the node's runs, all runs together
  };

  explicit Profiler(int runs) : runs_(runs) {}

  void on_step(const std::string& op_type, const std::string& node_name, double seconds) override {
    // Heap allocations since the previous step (or the run's start) are this step's.
    const uint64_t allocated = g_allocations.load() - allocations_mark_;
    // Steps arrive in plan order; a node's index in that order is its identity (names may repeat or
    // be empty).
    if (step_ == samples_.size()) {
      nodes_.push_back({op_type, node_name});
      samples_.emplace_back();
      samples_.back().reserve(static_cast<size_t>(runs_));
    }
    nodes_[step_].allocations += allocated;
    samples_[step_++].push_back(seconds);
    allocations_mark_ = g_allocations.load();
  }
  void begin_run() {
    step_ = 0;
    allocations_mark_ = g_allocations.load();
  }

  std::vector<Entry> nodes() const {
    std::vector<Entry> out = nodes_;
    for (size_t i = 0; i < out.size(); ++i) out[i].seconds = percentile(samples_[i], 0.5);
    return out;
  }
  std::vector<Entry> by_op() const {
    std::map<std::string, Entry> ops;
    for (const Entry& n : nodes()) {
      Entry& e = ops[n.op];
      if (e.op.empty()) e = {n.op, "", 0, 0};
      e.seconds += n.seconds;
      e.nodes += 1;
    }
    std::vector<Entry> out;
    for (auto& [op, e] : ops) out.push_back(e);
    return out;
  }
  double total_seconds() const {
    double total = 0;
    for (const Entry& n : nodes()) total += n.seconds;
    return total;
  }

 private:
  int runs_;
  uint64_t allocations_mark_ = 0;
  std::vector<Entry> nodes_;
  std::vector<std::vector<double>> samples_;
  size_t step_ = 0;
};

void sort_slowest_first(std::vector<Profiler::Entry>& v) {
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.seconds > b.seconds; });
}

std::string profile_json(const Profiler& p, int runs) {
  const double total_us = p.total_seconds() * 1e6;
  auto entries = [&](std::vector<Profiler::Entry> v, bool nodes) {
    sort_slowest_first(v);
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) {
      const double us = v[i].seconds * 1e6;
      char buf[96];
      std::snprintf(buf, sizeof buf, ",\"us\":%.3f,\"share\":%.4f", us, total_us > 0 ? us / total_us : 0);
      s += (i ? "," : "") + std::string("{\"op\":") + json_string(v[i].op) +
           (nodes ? ",\"name\":" + json_string(v[i].name) : ",\"nodes\":" + std::to_string(v[i].nodes)) + buf + "}";
    }
    return s + "]";
  };
  char total[64];
  std::snprintf(total, sizeof total, "{\"runs\":%d,\"nodes_us\":%.3f,", runs, total_us);
  return total + std::string("\"ops\":") + entries(p.by_op(), false) + ",\"nodes\":" + entries(p.nodes(), true) + "}";
}

void print_profile(const Profiler& p, int runs, double run_us, const std::map<std::string, std::string>& shapes,
                   const std::map<std::string, double>& flops) {
  const double total_us = p.total_seconds() * 1e6;
  std::printf("\nprofile     %d runs; median per node, summed: %.1f us; a whole observed run: %.1f us (mean)\n", runs,
              total_us, run_us);
  std::vector<Profiler::Entry> ops = p.by_op();
  sort_slowest_first(ops);
  std::printf("\n  %-24s %6s %12s %7s\n", "op type", "nodes", "us/run", "share");
  for (const auto& e : ops)
    std::printf("  %-24s %6lld %12.1f %6.1f%%\n", e.op.c_str(), static_cast<long long>(e.nodes), e.seconds * 1e6,
                100.0 * e.seconds * 1e6 / total_us);
  std::vector<Profiler::Entry> nodes = p.nodes();
  sort_slowest_first(nodes);
  const size_t shown = std::min<size_t>(nodes.size(), 30);
  std::printf("\n  %-48s %-20s %10s %7s %8s   %s (slowest %zu of %zu nodes)\n", "node", "op type", "us/run", "share",
              "GFLOP/s", "shapes", shown, nodes.size());
  for (size_t i = 0; i < shown; ++i) {
    const auto& e = nodes[i];
    std::string name = e.name.empty() ? "(unnamed)" : e.name;
    if (name.size() > 48) name = "..." + name.substr(name.size() - 45);
    const auto shape = shapes.find(e.name);
    const auto f = flops.find(e.name);
    char rate[16] = "";
    if (f != flops.end() && e.seconds > 0) std::snprintf(rate, sizeof rate, "%.1f", f->second / e.seconds / 1e9);
    std::printf("  %-48s %-20s %10.1f %6.1f%% %8s   %s\n", name.c_str(), e.op.c_str(), e.seconds * 1e6,
                100.0 * e.seconds * 1e6 / total_us, rate, shape == shapes.end() ? "" : shape->second.c_str());
  }
  for (const auto& e : p.nodes())
    if (e.allocations > 0)
      std::printf("  allocates: %s (%s), %.2f heap allocations per run\n", e.name.c_str(), e.op.c_str(),
                  static_cast<double>(e.allocations) / runs);
}

int run_model(const Options& o, double peak_gflops) {
  inferd::ModelOptions model_options;
  model_options.provider = o.provider;
  model_options.optimize = o.optimize;
  const auto load_start = std::chrono::steady_clock::now();
  std::shared_ptr<const inferd::Model> model = inferd::Model::load_file(o.model, model_options);
  const double load_ms = seconds_since(load_start) * 1e3;
  inferd::SessionOptions session_options;
  session_options.threads = o.threads;
  inferd::Session session(model, session_options);

  std::vector<inferd::Tensor> inputs = make_inputs(*model, o), outputs;
  std::vector<inferd::Shape> shapes;
  for (const inferd::Tensor& t : inputs) shapes.push_back(t.shape);
  auto refs = [](std::vector<inferd::Tensor>& ts) {
    std::vector<inferd::TensorRef> r;
    for (inferd::Tensor& t : ts) r.push_back({t.dtype, t.shape.data(), t.rank(), t.data, t.nbytes()});
    return r;
  };
  const std::vector<inferd::TensorRef> in_refs = refs(inputs);
  const std::vector<inferd::Shape> out_shapes = session.output_shapes(in_refs.data(), in_refs.size());
  for (size_t j = 0; j < out_shapes.size(); ++j)
    outputs.push_back(inferd::Tensor::allocate(model->outputs()[j].dtype, out_shapes[j]));
  const std::vector<inferd::TensorRef> out_refs = refs(outputs);
  auto run_once = [&] { session.run(in_refs.data(), in_refs.size(), out_refs.data(), out_refs.size()); };

  for (int i = 0; i < o.warmup; ++i) run_once();
  std::vector<double> latencies_us;
  latencies_us.reserve(static_cast<size_t>(o.iters));
  const uint64_t allocations_before = g_allocations.load();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < o.iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run_once();
    latencies_us.push_back(seconds_since(t0) * 1e6);
  }
  const double total_s = seconds_since(start);
  const uint64_t allocations = g_allocations.load() - allocations_before;

  const std::unique_ptr<inferd::Plan> shape_plan = plan_for_shapes(*model, shapes);
  const double flops = gemm_flops(shape_plan.get());
  const double p50 = percentile(latencies_us, 0.5), p90 = percentile(latencies_us, 0.9),
               p99 = percentile(latencies_us, 0.99), max = percentile(latencies_us, 1.0),
               min = percentile(latencies_us, 0.0);
  const int64_t batch = o.inputs_dir.empty() ? o.batch : (shapes.empty() || shapes[0].empty() ? 1 : shapes[0][0]);
  const double items_per_s = static_cast<double>(batch) * o.iters / total_s;
  const double gflops = flops > 0 ? flops * o.iters / total_s / 1e9 : 0;
  std::string input_text;
  for (size_t i = 0; i < shapes.size(); ++i) input_text += (i ? ", " : "") + model->inputs()[i].name + " " + shape_text(shapes[i]);

  std::printf("model       %s\n", o.model.c_str());
  std::printf("load        %.1f ms, %zu nodes, %.1f MB of weights, opset %lld, provider %s\n", load_ms,
              model->node_count(), static_cast<double>(model->weight_bytes()) / 1e6,
              static_cast<long long>(model->opset()), model->provider());
  std::printf("settings    batch %lld, threads %d, %d iterations after %d warm-up, %s inputs\n",
              static_cast<long long>(batch), o.threads, o.iters, o.warmup, o.inputs_dir.empty() ? "random" : "file");
  std::printf("inputs      %s\n", input_text.c_str());
  // The fastest run too: on a shared machine it moves least with other programs' load, so A/B
  // comparisons of a change read it beside the p50.
  std::printf("latency     p50 %.1f us  p90 %.1f us  p99 %.1f us  max %.1f us  min %.1f us\n", p50, p90, p99, max,
              min);
  std::printf("throughput  %.0f items/s\n", items_per_s);
  if (flops > 0) {
    std::printf("gemm        %.3f GFLOP per run (Gemm, MatMul, Conv), %.2f GFLOP/s", flops / 1e9, gflops);
    if (peak_gflops > 0) std::printf(" = %.1f%% of the FMA peak", 100.0 * gflops / peak_gflops);
    std::printf("\n");
  } else {
    std::printf("gemm        no Gemm/MatMul/Conv steps\n");
  }
  std::printf("allocations %.2f per run (steady state)\n", static_cast<double>(allocations) / o.iters);

  std::string profile;
  if (o.profile) {
    Profiler profiler(o.iters);
    session.set_step_observer(&profiler);
    const auto profile_start = std::chrono::steady_clock::now();
    for (int i = 0; i < o.iters; ++i) {
      profiler.begin_run();
      run_once();
    }
    const double run_us = seconds_since(profile_start) * 1e6 / o.iters;
    session.set_step_observer(nullptr);
    std::map<std::string, double> node_flops;
    gemm_flops(shape_plan.get(), &node_flops);
    print_profile(profiler, o.iters, run_us, step_shapes(shape_plan.get()), node_flops);
    profile = profile_json(profiler, o.iters);
  }

  if (!o.json.empty()) {
    if (FILE* f = std::fopen(o.json.c_str(), "w")) {
      std::fprintf(f, "{\"model\":%s,\"batch\":%lld,\"threads\":%d,\"iters\":%d,\"p50_us\":%.3f,\"p90_us\":%.3f,"
                   "\"p99_us\":%.3f,\"max_us\":%.3f,\"min_us\":%.3f,\"items_per_s\":%.3f,\"gflops\":%.3f,\"allocations_per_run\":%.3f",
                   json_string(o.model).c_str(), static_cast<long long>(batch), o.threads, o.iters, p50, p90, p99,
                   max, min, items_per_s, gflops, static_cast<double>(allocations) / o.iters);
      if (peak_gflops > 0) std::fprintf(f, ",\"peak_gflops\":%.3f,\"peak_fraction\":%.4f", peak_gflops, gflops / peak_gflops);
      if (!profile.empty()) std::fprintf(f, ",\"profile\":%s", profile.c_str());
      std::fprintf(f, "}\n");
      std::fclose(f);
    }
  }
  return 0;
}

// --peak and --sgemm without a model: the FMA peak, and each size timed with a fresh B every call and
// with B pre-packed once (as model weights are), against that peak.
int run_peak_and_sweep(const Options& o, double peak_gflops) {
  struct Row {
    inferd::SgemmSweepResult fresh, packed;
  };
  std::vector<Row> rows;
  for (const inferd::SgemmShape& shape : o.sgemm)
    rows.push_back({inferd::measure_sgemm(shape, o.threads, false, peak_gflops),
                    inferd::measure_sgemm(shape, o.threads, true, peak_gflops)});
  if (!rows.empty()) {
    std::printf("sgemm       %s micro-kernel %dx%d, %d thread(s); C = A·B row-major, median GFLOP/s\n",
                inferd::sgemm_kernel_name(), inferd::sgemm_tile_rows(), inferd::sgemm_tile_cols(), o.threads);
    std::printf("  %-20s %12s %8s %14s %8s\n", "M x N x K", "sgemm", "peak", "packed B", "peak");
    for (const Row& r : rows) {
      const inferd::SgemmShape& s = r.fresh.shape;
      const std::string size = std::to_string(s.M) + "x" + std::to_string(s.N) + "x" + std::to_string(s.K);
      std::printf("  %-20s %12.2f %7.1f%% %14.2f %7.1f%%\n", size.c_str(), r.fresh.gflops, 100.0 * r.fresh.fraction_of_peak,
                  r.packed.gflops, 100.0 * r.packed.fraction_of_peak);
    }
  }
  if (!o.json.empty()) {
    if (FILE* f = std::fopen(o.json.c_str(), "w")) {
      std::fprintf(f, "{\"threads\":%d,\"fma_isa\":\"%s\",\"peak_gflops\":%.3f,\"sgemm_kernel\":\"%s\",\"sgemm\":[", o.threads,
                   inferd::fma_peak_isa(), peak_gflops, inferd::sgemm_kernel_name());
      for (size_t i = 0; i < rows.size(); ++i) {
        const Row& r = rows[i];
        std::fprintf(f, "%s{\"m\":%lld,\"n\":%lld,\"k\":%lld,\"gflops\":%.3f,\"gflops_packed\":%.3f,\"peak_fraction\":%.4f,"
                     "\"peak_fraction_packed\":%.4f}", i ? "," : "", static_cast<long long>(r.fresh.shape.M),
                     static_cast<long long>(r.fresh.shape.N), static_cast<long long>(r.fresh.shape.K), r.fresh.gflops,
                     r.packed.gflops, r.fresh.fraction_of_peak, r.packed.fraction_of_peak);
      }
      std::fprintf(f, "]}\n");
      std::fclose(f);
    }
  }
  return 0;
}

}  // namespace

// The replacement pair is malloc/free on both sides; GCC, seeing free() inlined where a new-expression
// made the pointer, would warn of a mismatch that is not one.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
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
    // The peak is measured before the model loads, on otherwise idle threads.
    double peak = 0;
    if (o.peak || !o.sgemm.empty()) {
      const double cpu_before = process_cpu_seconds();
      const auto wall_start = std::chrono::steady_clock::now();
      peak = inferd::measure_fma_peak_gflops(o.threads);
      // The peak loop is timed by the wall clock: on a busy machine its threads wait for a core part
      // of the time and the peak reads low. Say so, with how much of the cores it had.
      const double share = (process_cpu_seconds() - cpu_before) / (seconds_since(wall_start) * o.threads);
      std::printf("fma peak    %.2f GFLOP/s on %d thread(s) (%s FMA loop, %.2f per thread)\n", peak, o.threads,
                  inferd::fma_peak_isa(), peak / o.threads);
      if (share < 0.9)
        std::printf("            warning: the loop had %.0f%% of %d core(s) (other processes ran): the peak reads low\n",
                    100.0 * share, o.threads);
    }
    if (o.model.empty()) return run_peak_and_sweep(o, peak);
    return run_model(o, peak);
  } catch (const inferd::Error& e) {
    std::fprintf(stderr, "inferd-bench: %s\n", e.what());
    return 1;
  }
}
