// make-bench-models: writes the models scripts/gpu-check.sh times, so that a machine with CMake and
// a compiler but no Node.js (a GPU box) can make them:
//   mlp.onnx   x [batch, 784] → 1024 → 1024 → 10: MatMul + Add + Relu layers, then Softmax
//   bert.onnx  input_ids [batch, 128] (int64) → a 2-layer BERT-style encoder (hidden 256, 4 heads,
//              FFN 1024, GELU written with Erf as exporters do) → [batch, 128, 256]
// Weights are random (fixed seed) and small, so activations stay in range.
//   make-bench-models <output dir>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tests/support/onnx_writer.h"

namespace {

using inferd::test::AttrSpec;
using inferd::test::ModelWriter;

constexpr int kFloat = 1, kInt64 = 7;

std::mt19937 rng(7);

std::vector<float> weights(size_t n, float scale) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// y = x · W + b, W [in, out] (the layout exporters write for nn.Linear after folding its transpose).
void linear(ModelWriter& w, const std::string& x, const std::string& y, const std::string& name, int64_t in,
            int64_t out) {
  w.initializer_f32(name + ".weight", {in, out}, weights(static_cast<size_t>(in * out), 1.0f / std::sqrt(float(in))));
  w.initializer_f32(name + ".bias", {out}, weights(static_cast<size_t>(out), 0.02f));
  w.node("MatMul", {x, name + ".weight"}, {name + ".mm"});
  w.node("Add", {name + ".mm", name + ".bias"}, {y});
}

void layer_norm(ModelWriter& w, const std::string& x, const std::string& y, const std::string& name, int64_t hidden) {
  w.initializer_f32(name + ".gamma", {hidden}, std::vector<float>(static_cast<size_t>(hidden), 1.0f));
  w.initializer_f32(name + ".beta", {hidden}, std::vector<float>(static_cast<size_t>(hidden), 0.0f));
  w.node("LayerNormalization", {x, name + ".gamma", name + ".beta"}, {y}, {AttrSpec::integer("axis", -1)});
}

std::string mlp() {
  ModelWriter w(17);
  w.input("x", kFloat, {-1, 784});
  w.output("y", kFloat, {-1, 10});
  linear(w, "x", "h1", "fc1", 784, 1024);
  w.node("Relu", {"h1"}, {"a1"});
  linear(w, "a1", "h2", "fc2", 1024, 1024);
  w.node("Relu", {"h2"}, {"a2"});
  linear(w, "a2", "logits", "fc3", 1024, 10);
  w.node("Softmax", {"logits"}, {"y"}, {AttrSpec::integer("axis", -1)});
  return w.bytes();
}

std::string bert() {
  constexpr int64_t kSeq = 128, kHidden = 256, kHeads = 4, kHeadDim = kHidden / kHeads, kFfn = 1024, kVocab = 1000;
  constexpr int kLayers = 2;
  ModelWriter w(17);
  w.input("input_ids", kInt64, {-1, kSeq});
  w.output("hidden", kFloat, {-1, kSeq, kHidden});
  w.initializer_f32("word_embeddings", {kVocab, kHidden}, weights(kVocab * kHidden, 0.02f));
  w.initializer_f32("position_embeddings", {kSeq, kHidden}, weights(kSeq * kHidden, 0.02f));
  w.initializer_i64("heads_shape", {4}, {0, 0, kHeads, kHeadDim});
  w.initializer_i64("hidden_shape", {3}, {0, 0, kHidden});
  w.initializer_f32("scale", {}, {1.0f / std::sqrt(float(kHeadDim))});
  w.initializer_f32("half", {}, {0.5f});
  w.initializer_f32("one", {}, {1.0f});
  w.initializer_f32("sqrt2", {}, {std::sqrt(2.0f)});
  w.node("Gather", {"word_embeddings", "input_ids"}, {"tokens"}, {AttrSpec::integer("axis", 0)});
  w.node("Add", {"tokens", "position_embeddings"}, {"embedded"});
  layer_norm(w, "embedded", "l0.in", "embeddings.norm", kHidden);
  for (int l = 0; l < kLayers; ++l) {
    const std::string p = "l" + std::to_string(l) + ".", x = p + "in";
    auto heads = [&](const std::string& name, const std::vector<int64_t>& perm) {
      linear(w, x, p + name, p + name + ".proj", kHidden, kHidden);
      w.node("Reshape", {p + name, "heads_shape"}, {p + name + ".split"});
      w.node("Transpose", {p + name + ".split"}, {p + name + ".heads"}, {AttrSpec::list("perm", perm)});
    };
    heads("q", {0, 2, 1, 3});
    heads("k", {0, 2, 3, 1});  // Kᵀ per head
    heads("v", {0, 2, 1, 3});
    w.node("MatMul", {p + "q.heads", p + "k.heads"}, {p + "scores"});
    w.node("Mul", {p + "scores", "scale"}, {p + "scaled"});
    w.node("Softmax", {p + "scaled"}, {p + "probs"}, {AttrSpec::integer("axis", -1)});
    w.node("MatMul", {p + "probs", p + "v.heads"}, {p + "context"});
    w.node("Transpose", {p + "context"}, {p + "context.t"}, {AttrSpec::list("perm", {0, 2, 1, 3})});
    w.node("Reshape", {p + "context.t", "hidden_shape"}, {p + "context.flat"});
    linear(w, p + "context.flat", p + "attn", p + "attn.out", kHidden, kHidden);
    w.node("Add", {x, p + "attn"}, {p + "res1"});
    layer_norm(w, p + "res1", p + "norm1", p + "norm1", kHidden);
    linear(w, p + "norm1", p + "ffn.up", p + "ffn.up", kHidden, kFfn);
    // GELU as exporters write it: x · 0.5 · (1 + erf(x / √2)); the optimizer fuses it.
    w.node("Div", {p + "ffn.up", "sqrt2"}, {p + "gelu.div"});
    w.node("Erf", {p + "gelu.div"}, {p + "gelu.erf"});
    w.node("Add", {p + "gelu.erf", "one"}, {p + "gelu.add"});
    w.node("Mul", {p + "ffn.up", p + "gelu.add"}, {p + "gelu.mul"});
    w.node("Mul", {p + "gelu.mul", "half"}, {p + "gelu"});
    linear(w, p + "gelu", p + "ffn.down", p + "ffn.down", kFfn, kHidden);
    w.node("Add", {p + "norm1", p + "ffn.down"}, {p + "res2"});
    layer_norm(w, p + "res2", l + 1 < kLayers ? "l" + std::to_string(l + 1) + ".in" : "hidden", p + "norm2", kHidden);
  }
  return w.bytes();
}

bool write(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "make-bench-models: cannot write %s\n", path.c_str());
    return false;
  }
  std::printf("wrote %s (%zu bytes)\n", path.c_str(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make-bench-models <output dir>\n");
    return 2;
  }
  const std::string dir = argv[1];
  return write(dir + "/mlp.onnx", mlp()) && write(dir + "/bert.onnx", bert()) ? 0 : 1;
}
