// Every CUDA kernel against the CPU kernel of the same op, as ggml's test-backend-ops does: random
// inputs of odd and broadcasting shapes, the CPU result as the reference, a per-op error budget.
// GEMM-based ops run twice, through cuBLAS (when the machine has it) and through inferd's own tiled
// kernel. Then whole models through the CUDA executor (an MLP; a model with an op that has no CUDA
// kernel, which runs on the CPU in the middle) against a CPU session.
// Exits 77 (skipped) in a build without CUDA or on a machine without a GPU.
#include <cstdio>

#ifndef INFERD_HAS_CUDA
int main() {
  std::printf("cuda_ops_test: this build has no CUDA backend; skipped\n");
  return 77;
}
#else

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/model_impl.h"
#include "core/optimizer/fused_ops.h"
#include "core/plan.h"
#include "core/thread_pool.h"
#include "cuda/blas.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_executor.h"
#include "cuda/cuda_kernel.h"
#include "cuda/device.h"
#include "inferd/model.h"
#include "inferd/session.h"
#include "support/check.h"
#include "support/onnx_writer.h"
#include "support/op_harness.h"

namespace {

using namespace inferd;
using namespace inferd::test;

// Error budget: |gpu - cpu| <= atol + rtol * |cpu| for every element.
struct Budget {
  double atol = 1e-5, rtol = 1e-5;
};
constexpr Budget kExact{0, 0};
constexpr Budget kArith{1e-6, 1e-6};
constexpr Budget kTranscendental{1e-5, 1e-4};
constexpr Budget kReduction{1e-4, 1e-4};
constexpr Budget kProduct{2e-4, 2e-4};  // FP32 sums of up to a few hundred products, in another order

std::mt19937 rng(1234);

enum class Values { signed_unit, positive, away_from_zero };

Tensor random_f32(Shape shape, Values values = Values::signed_unit) {
  Tensor t = Tensor::allocate(DType::f32, std::move(shape));
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.size(); ++i) {
    float v = d(rng);
    if (values == Values::positive) v = std::fabs(v) + 0.05f;
    if (values == Values::away_from_zero) v = (v < 0 ? -0.5f : 0.5f) + v;
    t.data_as<float>()[i] = v;
  }
  return t;
}

Tensor random_i64(Shape shape, int64_t lo, int64_t hi) {
  Tensor t = Tensor::allocate(DType::i64, std::move(shape));
  std::uniform_int_distribution<int64_t> d(lo, hi);
  for (int64_t i = 0; i < t.size(); ++i) t.data_as<int64_t>()[i] = d(rng);
  return t;
}

Tensor ints(std::vector<int64_t> v) { return tensor<int64_t>({static_cast<int64_t>(v.size())}, v); }

// Device copies that free themselves.
struct DeviceTensors {
  std::vector<std::shared_ptr<gpu::DeviceBuffer>> buffers;
  std::vector<Tensor> tensors;
  Tensor* add(const Tensor& host, bool copy) {
    buffers.push_back(std::make_shared<gpu::DeviceBuffer>(host.nbytes() == 0 ? 1 : host.nbytes()));
    if (copy && host.nbytes() > 0)
      INFERD_CUDA_CHECK(cudaMemcpy(buffers.back()->data(), host.data, host.nbytes(), cudaMemcpyHostToDevice));
    else if (host.nbytes() > 0)
      INFERD_CUDA_CHECK(cudaMemset(buffers.back()->data(), 0x5a, host.nbytes()));  // poison, as the CPU harness does
    tensors.push_back(Tensor::view(host.dtype, host.shape, buffers.back()->data()));
    return &tensors.back();
  }
};

bool compare(const char* what, const Tensor& cpu, const Tensor& gpu_host, Budget budget) {
  if (cpu.dtype != gpu_host.dtype || cpu.shape != gpu_host.shape) {
    std::fprintf(stderr, "%s: dtype/shape differ\n", what);
    return false;
  }
  double worst = 0;
  int64_t worst_at = -1;
  for (int64_t i = 0; i < cpu.size(); ++i) {
    double a = 0, b = 0;
    switch (cpu.dtype) {
      case DType::f32: a = cpu.data_as<float>()[i], b = gpu_host.data_as<float>()[i]; break;
      case DType::i64: a = static_cast<double>(cpu.data_as<int64_t>()[i]), b = static_cast<double>(gpu_host.data_as<int64_t>()[i]); break;
      case DType::i32: a = cpu.data_as<int32_t>()[i], b = gpu_host.data_as<int32_t>()[i]; break;
      default:
        if (std::memcmp(cpu.data, gpu_host.data, cpu.nbytes()) != 0) {
          std::fprintf(stderr, "%s: bytes differ\n", what);
          return false;
        }
        return true;
    }
    const double excess = std::fabs(a - b) - (budget.atol + budget.rtol * std::fabs(a));
    if (!(excess <= 0) && (worst_at < 0 || !(excess <= worst))) worst = excess, worst_at = i;
  }
  if (worst_at >= 0) {
    std::fprintf(stderr, "%s: element %lld over budget by %g\n", what, static_cast<long long>(worst_at), worst);
    return false;
  }
  return true;
}

int g_cases = 0;

// Runs `node` on the CPU (reference) and on CUDA (with and without cuBLAS when `gemm`), compares
// every output.
void check_op(const std::string& what, Node node, int opset, const std::vector<Input>& inputs, Budget budget,
              size_t output_count = 1, const std::string& domain = "", bool gemm = false) {
  ++g_cases;
  node.domain = domain;
  Result cpu;
  try {
    cpu = run(node, opset, inputs, 1, output_count, domain);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: CPU reference failed: %s\n", what.c_str(), e.what());
    ++failure_count();
    return;
  }
  const KernelDef* def = KernelRegistry::instance().find("cuda", domain, node.op_type, opset);
  if (!def) {
    std::fprintf(stderr, "%s: no CUDA kernel for %s at opset %d\n", what.c_str(), node.op_type.c_str(), opset);
    ++failure_count();
    return;
  }
  for (int pass = 0; pass < (gemm ? 2 : 1); ++pass) {
    const std::string label = what + (gemm ? (pass == 0 ? " [cuBLAS]" : " [tiled]") : "");
    try {
      KernelInit init{node, opset, {}, {}};
      for (const Input& in : inputs) init.constant_inputs.push_back(in.known ? &in.tensor : nullptr);
      std::unique_ptr<Kernel> kernel = def->make(init);
      const auto* cuda_kernel = gpu::as_cuda_kernel(kernel.get());
      if (!cuda_kernel) throw Error(ErrorKind::runtime, "the CUDA factory made a non-CUDA kernel");
      DeviceTensors device;
      device.tensors.reserve(inputs.size() + output_count);
      std::vector<const Tensor*> in_ptrs, host_known;
      for (const Input& in : inputs) {
        const bool given = in.tensor.dtype != DType::undefined;
        in_ptrs.push_back(given ? device.add(in.tensor, true) : nullptr);
        host_known.push_back(given && in.known ? &in.tensor : nullptr);
      }
      std::vector<Tensor*> out_ptrs;
      for (size_t i = 0; i < output_count; ++i) out_ptrs.push_back(device.add(cpu.outputs[i], false));
      cudaStream_t stream = nullptr;
      INFERD_CUDA_CHECK(cudaStreamCreate(&stream));
      gpu::BlasHandle blas(stream);
      gpu::CudaContext ctx;
      ctx.inputs = in_ptrs.data();
      ctx.host_inputs = host_known.data();
      ctx.input_count = in_ptrs.size();
      ctx.outputs = out_ptrs.data();
      ctx.output_count = out_ptrs.size();
      ctx.stream = stream;
      ctx.blas = pass == 0 ? &blas : nullptr;
      cuda_kernel->run_on(ctx);
      INFERD_CUDA_CHECK(cudaGetLastError());
      INFERD_CUDA_CHECK(cudaStreamSynchronize(stream));
      cudaStreamDestroy(stream);
      for (size_t i = 0; i < output_count; ++i) {
        Tensor back = Tensor::allocate(cpu.outputs[i].dtype, cpu.outputs[i].shape);
        if (back.nbytes() > 0)
          INFERD_CUDA_CHECK(cudaMemcpy(back.data, out_ptrs[i]->data, back.nbytes(), cudaMemcpyDeviceToHost));
        const std::string name = label + " output " + std::to_string(i);
        if (!compare(name.c_str(), cpu.outputs[i], back, budget)) ++failure_count();
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: CUDA failed: %s\n", label.c_str(), e.what());
      ++failure_count();
    }
  }
}

void elementwise_ops() {
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    const Values v = std::string(op) == "Div" ? Values::away_from_zero : Values::signed_unit;
    check_op(std::string(op) + " same shape", make_node(op), 14, {random_f32({7, 13}), random_f32({7, 13}, v)}, kArith);
    check_op(std::string(op) + " broadcast", make_node(op), 14, {random_f32({3, 1, 5}), random_f32({4, 1}, v)}, kArith);
    check_op(std::string(op) + " scalar", make_node(op), 14, {random_f32({2, 3, 4, 5}), random_f32({}, v)}, kArith);
    check_op(std::string(op) + " scalar first", make_node(op), 14, {random_f32({1}), random_f32({33}, v)}, kArith);
    check_op(std::string(op) + " int64", make_node(op), 14, {random_i64({5, 6}, -50, 50), random_i64({6}, 1, 9)}, kExact);
  }
  check_op("Pow", make_node("Pow"), 15, {random_f32({4, 9}, Values::positive), random_f32({9})}, kTranscendental);
}

void activation_ops() {
  struct Case { const char* op; int opset; Values values; };
  for (const Case& c : std::vector<Case>{{"Relu", 14, Values::signed_unit}, {"Sigmoid", 13, Values::signed_unit},
                                         {"Tanh", 13, Values::signed_unit}, {"Exp", 13, Values::signed_unit},
                                         {"Log", 13, Values::positive}, {"Sqrt", 13, Values::positive},
                                         {"Neg", 13, Values::signed_unit}, {"Abs", 13, Values::signed_unit},
                                         {"Erf", 13, Values::signed_unit}, {"Reciprocal", 13, Values::away_from_zero},
                                         {"Softplus", 1, Values::signed_unit}})
    check_op(c.op, make_node(c.op), c.opset, {random_f32({3, 5, 67}, c.values)}, kTranscendental);
  check_op("LeakyRelu", make_node("LeakyRelu", {attr_float("alpha", 0.2f)}), 16, {random_f32({1000})}, kArith);
  check_op("Clip 6", make_node("Clip", {attr_float("min", -0.3f), attr_float("max", 0.4f)}), 6, {random_f32({100})}, kExact);
  check_op("Clip 13", make_node("Clip"), 13,
           {random_f32({10, 10}), constant(tensor<float>({}, {-0.5f})), constant(tensor<float>({}, {0.25f}))}, kExact);
  check_op("Clip 13 max only", make_node("Clip"), 13, {random_f32({10, 10}), omitted(), constant(tensor<float>({}, {0.25f}))}, kExact);
  check_op("Gelu", make_node("Gelu"), 20, {random_f32({4, 257})}, kTranscendental);
  check_op("Gelu tanh", make_node("Gelu", {attr_string("approximate", "tanh")}), 20, {random_f32({4, 257})}, kTranscendental);
  check_op("com.inferd Gelu", make_node("Gelu"), 17, {random_f32({2, 130})}, kTranscendental, 1, kInternalDomain);
}

void gemm_ops() {
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      const int64_t M = 37, K = 29, N = 53;
      Shape a = ta ? Shape{K, M} : Shape{M, K}, b = tb ? Shape{N, K} : Shape{K, N};
      const std::string what = "Gemm transA=" + std::to_string(ta) + " transB=" + std::to_string(tb);
      Node node = make_node("Gemm", {attr_int("transA", ta), attr_int("transB", tb), attr_float("alpha", 0.5f),
                                     attr_float("beta", 2.0f)});
      check_op(what + " C[N]", node, 13, {random_f32(a), constant(random_f32(b)), constant(random_f32({N}))}, kProduct,
               1, "", true);
      check_op(what + " C[M,N]", node, 13, {random_f32(a), random_f32(b), random_f32({M, N})}, kProduct, 1, "", true);
      check_op(what + " no C", node, 13, {random_f32(a), random_f32(b)}, kProduct, 1, "", true);
    }
  check_op("Gemm C[M,1]", make_node("Gemm"), 11, {random_f32({64, 128}), random_f32({128, 65}), random_f32({64, 1})},
           kProduct, 1, "", true);
  struct Mm { Shape a, b; };
  for (const Mm& m : std::vector<Mm>{{{5, 7}, {7, 3}},
                                     {{2, 3, 5, 7}, {7, 4}},
                                     {{2, 3, 5, 7}, {2, 3, 7, 4}},
                                     {{5, 7}, {2, 7, 4}},
                                     {{2, 1, 5, 7}, {1, 3, 7, 4}},
                                     {{7}, {7, 4}},
                                     {{3, 5, 7}, {7}},
                                     {{130, 200}, {200, 70}}})
    check_op("MatMul " + shape_to_string(m.a) + " x " + shape_to_string(m.b), make_node("MatMul"), 13,
             {random_f32(m.a), random_f32(m.b)}, kProduct, 1, "", true);
  for (const char* act : {"", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Gelu", "Clip"}) {
    std::vector<Attribute> attrs = {attr_string("activation", act), attr_int("transB", 1)};
    if (std::string(act) == "Clip") attrs.push_back(attr_float("activation_alpha", -0.2f)), attrs.push_back(attr_float("activation_beta", 0.3f));
    check_op(std::string("FusedGemm ") + act, make_node("FusedGemm", attrs), 13,
             {random_f32({33, 40}), constant(random_f32({21, 40})), constant(random_f32({21}))}, kProduct, 1,
             kInternalDomain, true);
    check_op(std::string("FusedMatMul ") + act, make_node("FusedMatMul", {attr_string("activation", act)}), 13,
             {random_f32({2, 9, 40}), constant(random_f32({40, 23})), constant(random_f32({23}))}, kProduct, 1,
             kInternalDomain, true);
  }
  // A residual of the product's shape (the epilogue), broadcast into it, and enlarging it.
  for (const Shape& residual : std::vector<Shape>{{2, 9, 23}, {23}, {9, 1}, {3, 2, 9, 23}}) {
    check_op("FusedMatMul + residual " + shape_to_string(residual),
             make_node("FusedMatMul", {attr_string("activation", "Relu")}), 13,
             {random_f32({2, 9, 40}), constant(random_f32({40, 23})), constant(random_f32({23})), random_f32(residual)},
             kProduct, 1, kInternalDomain, true);
    if (residual.size() <= 2 || residual[0] == 3)
      check_op("FusedGemm + residual " + shape_to_string(residual), make_node("FusedGemm", {attr_int("transB", 1)}), 13,
               {random_f32({9, 40}), constant(random_f32({23, 40})), constant(random_f32({23})),
                random_f32(residual.size() == 4 ? Shape{3, 9, 23} : residual)},
               kProduct, 1, kInternalDomain, true);
  }
}

void normalization_ops() {
  check_op("Softmax 13 last", make_node("Softmax"), 13, {random_f32({3, 4, 300})}, kTranscendental);
  check_op("Softmax 13 axis 1", make_node("Softmax", {attr_int("axis", 1)}), 13, {random_f32({3, 4, 5})}, kTranscendental);
  check_op("Softmax 11 axis 1", make_node("Softmax", {attr_int("axis", 1)}), 11, {random_f32({3, 4, 5})}, kTranscendental);
  check_op("LogSoftmax 13", make_node("LogSoftmax"), 13, {random_f32({6, 77})}, kTranscendental);
  check_op("LogSoftmax 13 axis 0", make_node("LogSoftmax", {attr_int("axis", 0)}), 13, {random_f32({6, 7})}, kTranscendental);
  check_op("LayerNormalization last", make_node("LayerNormalization"), 17,
           {random_f32({4, 6, 33}), constant(random_f32({33})), constant(random_f32({33}))}, kReduction, 3);
  check_op("LayerNormalization axis 1", make_node("LayerNormalization", {attr_int("axis", 1), attr_float("epsilon", 1e-3f)}),
           17, {random_f32({4, 6, 5}), random_f32({6, 5}), omitted()}, kReduction, 1);
  check_op("com.inferd LayerNormalization", make_node("LayerNormalization"), 13,
           {random_f32({8, 768}), constant(random_f32({768})), constant(random_f32({768}))}, kReduction, 1, kInternalDomain);
  check_op("BatchNormalization", make_node("BatchNormalization"), 15,
           {random_f32({2, 3, 5, 7}), random_f32({3}), random_f32({3}), random_f32({3}), random_f32({3}, Values::positive)},
           kReduction);
}

void reduce_ops() {
  check_op("ReduceMean last keepdims", make_node("ReduceMean", {attr_ints("axes", {-1})}), 13, {random_f32({4, 5, 300})}, kReduction);
  check_op("ReduceMean middle", make_node("ReduceMean", {attr_ints("axes", {1}), attr_int("keepdims", 0)}), 13,
           {random_f32({4, 5, 6})}, kReduction);
  check_op("ReduceSum input axes", make_node("ReduceSum"), 13, {random_f32({4, 5, 6}), constant(ints({0, 2}))}, kReduction);
  check_op("ReduceSum all", make_node("ReduceSum", {attr_int("keepdims", 0)}), 13, {random_f32({3, 1000})}, kReduction);
  check_op("ReduceMax 18", make_node("ReduceMax"), 18, {random_f32({4, 5, 6}), constant(ints({1}))}, kExact);
  check_op("ReduceMin 13", make_node("ReduceMin", {attr_ints("axes", {0, 1})}), 13, {random_f32({4, 5, 6})}, kExact);
}

void conv_pool_ops() {
  check_op("Conv 3x3 stride 2 pad 1 bias", make_node("Conv", {attr_ints("pads", {1, 1, 1, 1}), attr_ints("strides", {2, 2})}), 11,
           {random_f32({2, 3, 11, 9}), constant(random_f32({8, 3, 3, 3})), constant(random_f32({8}))}, kProduct, 1, "", true);
  check_op("Conv group 3 dilation 2", make_node("Conv", {attr_int("group", 3), attr_ints("dilations", {2, 2})}), 11,
           {random_f32({1, 6, 12, 10}), constant(random_f32({9, 2, 3, 3}))}, kProduct, 1, "", true);
  check_op("Conv depthwise SAME_UPPER", make_node("Conv", {attr_int("group", 4), attr_string("auto_pad", "SAME_UPPER"),
                                                           attr_ints("strides", {2, 2})}), 11,
           {random_f32({2, 4, 9, 9}), constant(random_f32({4, 1, 4, 4}))}, kProduct, 1, "", true);
  check_op("Conv 1-D", make_node("Conv", {attr_ints("pads", {2, 1})}), 11,
           {random_f32({2, 5, 31}), constant(random_f32({7, 5, 5})), constant(random_f32({7}))}, kProduct, 1, "", true);
  check_op("Conv 1x1 wide", make_node("Conv"), 11, {random_f32({1, 64, 14, 14}), constant(random_f32({96, 64, 1, 1}))},
           kProduct, 1, "", true);
  // FusedConv: the residual and activation in the conv's store, against the CPU kernel's epilogue.
  for (const char* act : {"", "Relu", "Clip", "HardSigmoid", "HardSwish"}) {
    std::vector<Attribute> attrs = {attr_ints("pads", {1, 1, 1, 1}), attr_string("activation", act)};
    if (std::string(act) == "Clip") attrs.push_back(attr_float("activation_alpha", 0.f)), attrs.push_back(attr_float("activation_beta", 6.f));
    check_op(std::string("FusedConv residual ") + act, make_node("FusedConv", attrs), 9,
             {random_f32({2, 8, 9, 11}), constant(random_f32({8, 8, 3, 3})), constant(random_f32({8})),
              random_f32({2, 8, 9, 11})},
             kProduct, 1, kInternalDomain, true);
  }
  check_op("FusedConv depthwise, no bias, no residual", make_node("FusedConv", {attr_int("group", 4), attr_string("activation", "Relu")}),
           13, {random_f32({1, 4, 7, 7}), constant(random_f32({4, 1, 3, 3}))}, kProduct, 1, kInternalDomain, true);
  check_op("MaxPool 3x3 s2 p1", make_node("MaxPool", {attr_ints("kernel_shape", {3, 3}), attr_ints("strides", {2, 2}),
                                                      attr_ints("pads", {1, 1, 1, 1})}), 12, {random_f32({2, 3, 11, 9})}, kExact);
  check_op("MaxPool ceil dilation", make_node("MaxPool", {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2}),
                                                          attr_int("ceil_mode", 1), attr_ints("dilations", {2, 1})}), 12,
           {random_f32({1, 2, 9, 7})}, kExact);
  check_op("AveragePool exclude pad", make_node("AveragePool", {attr_ints("kernel_shape", {3, 3}), attr_ints("pads", {1, 1, 1, 1})}),
           11, {random_f32({2, 3, 8, 7})}, kArith);
  check_op("AveragePool include pad", make_node("AveragePool", {attr_ints("kernel_shape", {3, 3}), attr_ints("pads", {1, 0, 2, 1}),
                                                                attr_int("count_include_pad", 1)}), 11,
           {random_f32({2, 3, 8, 7})}, kArith);
  check_op("AveragePool 1-D", make_node("AveragePool", {attr_ints("kernel_shape", {4}), attr_ints("strides", {3})}), 11,
           {random_f32({2, 3, 20})}, kArith);
  check_op("GlobalAveragePool", make_node("GlobalAveragePool"), 1, {random_f32({2, 5, 13, 11})}, kReduction);
  check_op("GlobalMaxPool", make_node("GlobalMaxPool"), 1, {random_f32({2, 5, 13, 11})}, kExact);
}

void data_ops() {
  check_op("Gather axis 0 int64", make_node("Gather"), 13, {random_f32({10, 7}), constant(tensor<int64_t>({2, 3}, {0, 9, -1, 4, 4, -10}))}, kExact);
  check_op("Gather axis 1 int32", make_node("Gather", {attr_int("axis", 1)}), 13,
           {random_i64({3, 8, 5}, -9, 9), tensor<int32_t>({4}, {7, 0, 3, -2})}, kExact);
  check_op("Gather scalar index", make_node("Gather", {attr_int("axis", 1)}), 13, {random_f32({4, 6}), tensor<int64_t>({}, {2})}, kExact);
  check_op("Transpose perm", make_node("Transpose", {attr_ints("perm", {0, 2, 1, 3})}), 13, {random_f32({2, 3, 5, 7})}, kExact);
  check_op("Transpose default", make_node("Transpose"), 13, {random_i64({4, 3, 5}, 0, 100)}, kExact);
  check_op("Concat axis 1", make_node("Concat", {attr_int("axis", 1)}), 13,
           {random_f32({2, 3, 4}), random_f32({2, 1, 4}), random_f32({2, 5, 4})}, kExact);
  check_op("Concat axis -1 int64", make_node("Concat", {attr_int("axis", -1)}), 13, {random_i64({3, 2}, 0, 9), random_i64({3, 7}, 0, 9)}, kExact);
  check_op("Slice 13", make_node("Slice"), 13,
           {random_f32({6, 7, 8}), constant(ints({1, -1})), constant(ints({5, 0})), constant(ints({0, 2})), constant(ints({2, -3}))}, kExact);
  check_op("Slice 13 defaults", make_node("Slice"), 13, {random_f32({6, 7}), constant(ints({2})), constant(ints({100}))}, kExact);
  check_op("Slice 1", make_node("Slice", {attr_ints("starts", {1}), attr_ints("ends", {-1}), attr_ints("axes", {1})}), 1,
           {random_f32({3, 9})}, kExact);
  check_op("Reshape", make_node("Reshape"), 14, {random_f32({2, 3, 4}), constant(ints({6, -1}))}, kExact);
  check_op("Flatten", make_node("Flatten", {attr_int("axis", 2)}), 13, {random_f32({2, 3, 4, 5})}, kExact);
  check_op("Unsqueeze", make_node("Unsqueeze"), 13, {random_f32({3, 4}), constant(ints({0, 3}))}, kExact);
  check_op("Squeeze", make_node("Squeeze"), 13, {random_f32({3, 1, 4}), constant(ints({1}))}, kExact);
  check_op("Identity", make_node("Identity"), 16, {random_i64({17}, 0, 5)}, kExact);
}

// ---- whole models through the CUDA executor ---------------------------------------------------------

constexpr int kFloat = 1;

std::string mlp_model(bool with_cpu_only_op) {
  ModelWriter w(13);
  w.input("x", kFloat, {-1, 64});
  w.output("y", kFloat, {-1, 10});
  std::uniform_real_distribution<float> d(-0.2f, 0.2f);
  auto weights = [&](size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
  };
  w.initializer_f32("w1", {64, 128}, weights(64 * 128));
  w.initializer_f32("b1", {128}, weights(128));
  w.initializer_f32("w2", {128, 10}, weights(128 * 10));
  w.initializer_f32("b2", {10}, weights(10));
  w.node("MatMul", {"x", "w1"}, {"h1"});
  w.node("Add", {"h1", "b1"}, {"h2"});
  w.node("Relu", {"h2"}, {"h3"});
  // Cos has no CUDA kernel: with it, the executor runs one step on the host in the middle.
  if (with_cpu_only_op) w.node("Cos", {"h3"}, {"h4"});
  w.node("MatMul", {with_cpu_only_op ? "h4" : "h3", "w2"}, {"h5"});
  w.node("Add", {"h5", "b2"}, {"h6"});
  w.node("Softmax", {"h6"}, {"y"});
  return w.bytes();
}

void model_through_executor(const char* what, const std::string& bytes, bool optimize) {
  ++g_cases;
  try {
    ModelOptions cpu_options, cuda_options;
    cpu_options.optimize = cuda_options.optimize = optimize;
    cuda_options.provider = "cuda";
    auto cpu_model = Model::load_bytes(bytes.data(), bytes.size(), cpu_options);
    auto cuda_model = Model::load_bytes(bytes.data(), bytes.size(), cuda_options);
    CHECK(std::string(cuda_model->provider()) == "cuda");
    Session cpu_session(cpu_model);
    gpu::CudaExecutor executor(cuda_model->impl());
    ThreadPool threads(1);
    for (int64_t batch : {1, 5, 300, 5}) {
      const Tensor x = random_f32({batch, 64});
      std::vector<float> want(static_cast<size_t>(batch * 10)), got(want.size(), -1.0f);
      const int64_t in_dims[2] = {batch, 64}, out_dims[2] = {batch, 10};
      TensorRef in{DType::f32, in_dims, 2, x.data, x.nbytes()};
      TensorRef out_cpu{DType::f32, out_dims, 2, want.data(), want.size() * 4};
      TensorRef out_gpu{DType::f32, out_dims, 2, got.data(), got.size() * 4};
      cpu_session.run(&in, 1, &out_cpu, 1);
      // What the session does for a CUDA model: plan, arena from the backend, then the executor.
      std::unique_ptr<Plan> plan = make_plan(cuda_model->impl(), {Shape{batch, 64}});
      void* arena = cuda_model->impl().backend->allocate(plan->arena_bytes);
      executor.run(*plan, arena, &in, &out_gpu, threads, nullptr);
      cuda_model->impl().backend->release(arena);
      const Tensor want_t = Tensor::view(DType::f32, {batch, 10}, want.data());
      const Tensor got_t = Tensor::view(DType::f32, {batch, 10}, got.data());
      const std::string name = std::string(what) + " batch " + std::to_string(batch);
      if (!compare(name.c_str(), want_t, got_t, kProduct)) ++failure_count();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", what, e.what());
    ++failure_count();
  }
}

void strict_provider_refuses_cpu_only_ops() {
  // ModelOptions has no fallback switch yet: the strict CUDA backend is what "fallback off" selects.
  const std::string bytes = mlp_model(true);
  ModelOptions options;
  options.provider = "auto";
  CHECK(std::string(Model::load_bytes(bytes.data(), bytes.size(), options)->provider()) == "cpu");
  const std::string plain = mlp_model(false);
  CHECK(std::string(Model::load_bytes(plain.data(), plain.size(), options)->provider()) == "cuda");
}

}  // namespace

int main() {
  std::string why;
  if (gpu::visible_device_count(&why) == 0) {
    std::printf("cuda_ops_test: no GPU visible (%s); skipped\n", why.c_str());
    return 77;
  }
  const gpu::DeviceInfo& device = gpu::compute_device();
  const char* blas = nullptr;
  std::printf("cuda_ops_test on %s (sm_%d%d, %d SMs), cuBLAS: %s, peak_fp32_gflops=%.0f\n", device.name.c_str(),
              device.compute_major, device.compute_minor, device.multiprocessors,
              gpu::blas_available(&blas) ? blas : "not found (tiled kernel only)", device.peak_fp32_gflops);
  const std::vector<std::pair<const char*, std::function<void()>>> families = {
      {"elementwise", elementwise_ops}, {"activation", activation_ops}, {"gemm", gemm_ops},
      {"softmax/norm", normalization_ops}, {"reduce", reduce_ops}, {"conv/pool", conv_pool_ops}, {"data", data_ops}};
  for (const auto& [name, run_family] : families) {
    const int before = failure_count(), cases = g_cases;
    run_family();
    std::printf("  %-14s %3d cases, %s\n", name, g_cases - cases, failure_count() == before ? "ok" : "FAILED");
  }
  model_through_executor("MLP (optimized)", mlp_model(false), true);
  model_through_executor("MLP (as written)", mlp_model(false), false);
  model_through_executor("MLP with a CPU-only op", mlp_model(true), true);
  strict_provider_refuses_cpu_only_ops();
  std::printf("cuda_ops_test: %d cases, %s\n", g_cases, failures() ? "FAILED" : "all within budget");
  return failures();
}

#endif  // INFERD_HAS_CUDA
