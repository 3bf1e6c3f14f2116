// The ONNX backend conformance suite: every case under $INFERD_ONNX_TESTS_DIR (node/<case>/model.onnx
// with test_data_set_*/input_N.pb and output_N.pb) is loaded, run, and compared with the expected
// outputs as onnx's own runner does (|actual - expected| <= 1e-7 + 1e-3·|expected| for floats, NaN
// equal to NaN; exact for integers and bools; shapes and types must match).
//
// Every case must pass, except:
//   - cases listed in conformance_expectations.txt (each with its reason) — these must NOT pass, so
//     a fixed case fails the run until its line is removed;
//   - cases of an op the engine does not implement yet, which fail to load as unsupported; they are
//     counted as "not implemented" in the table.
// Prints a per-op table. Exits 77 (skipped) when the data is absent, unless CI is set.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/onnx_loader.h"
#include "core/op_schema.h"
#include "inferd/model.h"
#include "inferd/session.h"

namespace fs = std::filesystem;
using namespace inferd;

namespace {

enum class Outcome { pass, fail, not_implemented };

struct CaseResult {
  std::string name, op;
  Outcome outcome = Outcome::fail;
  std::string detail;
};

std::map<std::string, std::string> read_expectations(const fs::path& file) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const size_t hash = line.find('#');
    if (hash == 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(std::remove_if(name.begin(), name.end(), ::isspace), name.end());
    if (!name.empty()) out[name] = line.substr(colon + 1);
  }
  return out;
}

// The op a case is about: its single node's op (an `_expanded` case is about its base case's op).
std::string primary_op(const fs::path& case_dir, const fs::path& root) {
  std::string name = case_dir.filename().string();
  for (const char* suffix : {"_expanded_ver18", "_expanded"}) {
    const size_t at = name.rfind(suffix);
    if (at != std::string::npos && at + std::strlen(suffix) == name.size()) {
      const fs::path base = root / name.substr(0, at);
      if (fs::exists(base / "model.onnx")) return primary_op(base, root);
    }
  }
  try {
    const OnnxModel m = load_onnx_file((case_dir / "model.onnx").string());
    // A Constant node becomes a constant at load, leaving no node behind.
    return m.graph.nodes.empty() ? "Constant" : m.graph.nodes.front().op_type;
  } catch (const Error&) {
    // The model itself does not load (e.g. a float8 input): name the op from the case, as the
    // longest registered op whose lower-case name prefixes it ("test_cast_FLOAT_to_FLOAT8…" → Cast).
    std::string lower = name.substr(5);
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    std::string best = "?";
    for (const OpSchema& schema : SchemaRegistry::instance().all()) {
      std::string op = schema.op_type;
      std::transform(op.begin(), op.end(), op.begin(), ::tolower);
      if ((lower == op || lower.rfind(op + "_", 0) == 0) && (best == "?" || op.size() > best.size()))
        best = schema.op_type;
    }
    return best;
  }
}

double as_double(const Tensor& t, int64_t i) {
  switch (t.dtype) {
    case DType::f32: return t.data_as<float>()[i];
    case DType::f64: return t.data_as<double>()[i];
    case DType::f16: return half_to_float(t.data_as<uint16_t>()[i]);
    case DType::bf16: return bf16_to_float(t.data_as<uint16_t>()[i]);
    default: return 0;
  }
}

bool is_float(DType t) { return t == DType::f32 || t == DType::f64 || t == DType::f16 || t == DType::bf16; }

// Empty when equal, else what differs.
std::string compare(const Tensor& actual, const Tensor& expected) {
  if (actual.dtype != expected.dtype)
    return std::string("type ") + dtype_name(actual.dtype) + ", expected " + dtype_name(expected.dtype);
  if (actual.shape != expected.shape)
    return "shape " + shape_to_string(actual.shape) + ", expected " + shape_to_string(expected.shape);
  const int64_t n = expected.size();
  if (!is_float(expected.dtype))
    return std::memcmp(actual.data, expected.data, expected.nbytes()) == 0 ? "" : "integer values differ";
  for (int64_t i = 0; i < n; ++i) {
    const double a = as_double(actual, i), e = as_double(expected, i);
    if (std::isnan(a) && std::isnan(e)) continue;
    if (std::isinf(e) && a == e) continue;
    if (!(std::fabs(a - e) <= 1e-7 + 1e-3 * std::fabs(e)))
      return "element " + std::to_string(i) + " is " + std::to_string(a) + ", expected " + std::to_string(e);
  }
  return "";
}

std::vector<fs::path> numbered(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  for (int i = 0;; ++i) {
    const fs::path p = dir / (prefix + std::to_string(i) + ".pb");
    if (!fs::exists(p)) break;
    files.push_back(p);
  }
  return files;
}

CaseResult run_case(const fs::path& case_dir, const fs::path& root) {
  CaseResult r;
  r.name = case_dir.filename().string();
  r.op = primary_op(case_dir, root);
  std::shared_ptr<const Model> model;
  try {
    model = Model::load_file((case_dir / "model.onnx").string());
  } catch (const Error& e) {
    const auto& schemas = SchemaRegistry::instance().all();
    const bool op_known =
        std::any_of(schemas.begin(), schemas.end(), [&](const OpSchema& s) { return r.op == s.op_type; });
    r.outcome = e.kind() == ErrorKind::unsupported && !op_known ? Outcome::not_implemented : Outcome::fail;
    r.detail = std::string("load: ") + e.what();
    return r;
  }
  try {
    std::vector<fs::path> sets;
    for (const auto& entry : fs::directory_iterator(case_dir))
      if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0)
        sets.push_back(entry.path());
    std::sort(sets.begin(), sets.end());
    Session session(model);
    for (const fs::path& set : sets) {
      std::vector<Tensor> inputs;
      for (const fs::path& p : numbered(set, "input_")) inputs.push_back(load_tensor_proto_file(p.string()));
      std::vector<Tensor> expected;
      for (const fs::path& p : numbered(set, "output_")) expected.push_back(load_tensor_proto_file(p.string()));
      std::vector<TensorRef> in_refs, out_refs;
      for (Tensor& t : inputs) in_refs.push_back({t.dtype, t.shape.data(), t.rank(), t.data, t.nbytes()});
      std::vector<Tensor> actual;
      if (session.outputs_depend_on_data(in_refs.data(), in_refs.size())) {
        // Output sizes follow from computed data (NonZero, Loop…): the session holds the results.
        for (const Tensor& t : session.run_owned(in_refs.data(), in_refs.size())) actual.push_back(t);
      } else {
        const std::vector<Shape> out_shapes = session.output_shapes(in_refs.data(), in_refs.size());
        for (size_t j = 0; j < out_shapes.size(); ++j) {
          // The engine's output type is whatever the plan says; compare() reports a type mismatch.
          const DType declared = model->outputs()[j].dtype != DType::undefined ? model->outputs()[j].dtype
                                 : j < expected.size()                         ? expected[j].dtype
                                                                               : DType::f32;
          actual.push_back(Tensor::allocate(declared, out_shapes[j]));
        }
        for (Tensor& t : actual) out_refs.push_back({t.dtype, t.shape.data(), t.rank(), t.data, t.nbytes()});
        session.run(in_refs.data(), in_refs.size(), out_refs.data(), out_refs.size());
      }
      if (actual.size() != expected.size()) {
        r.detail = "model has " + std::to_string(actual.size()) + " outputs, data set has " +
                   std::to_string(expected.size());
        return r;
      }
      for (size_t j = 0; j < expected.size(); ++j) {
        const std::string diff = compare(actual[j], expected[j]);
        if (!diff.empty()) {
          r.detail = set.filename().string() + " output " + std::to_string(j) + ": " + diff;
          return r;
        }
      }
    }
    r.outcome = Outcome::pass;
  } catch (const Error& e) {
    r.detail = std::string("run: ") + e.what();
  } catch (const std::exception& e) {
    r.detail = std::string("run (non-inferd exception): ") + e.what();
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env_dir = std::getenv("INFERD_ONNX_TESTS_DIR");
  const fs::path root = env_dir ? fs::path(env_dir) : fs::path("../shared/onnx-backend-tests/node");
  const char* env_expect = std::getenv("INFERD_CONFORMANCE_EXPECTATIONS");
  const fs::path expectations_file =
      env_expect ? fs::path(env_expect) : fs::path("native/tests/conformance_expectations.txt");
  const std::string only = argc > 1 ? argv[1] : "";
  if (!fs::is_directory(root)) {
    std::fprintf(stderr, "conformance data not found at %s (set INFERD_ONNX_TESTS_DIR)\n", root.string().c_str());
    return std::getenv("CI") ? 1 : 77;
  }
  const std::map<std::string, std::string> expected_failures = read_expectations(expectations_file);

  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(root))
    if (fs::exists(entry.path() / "model.onnx")) cases.push_back(entry.path());
  std::sort(cases.begin(), cases.end());

  struct Row { int cases = 0, passed = 0, skipped = 0, failed = 0, not_implemented = 0; };
  std::map<std::string, Row> table;
  std::vector<std::string> problems;
  std::set<std::string> seen;
  for (const fs::path& dir : cases) {
    if (!only.empty() && dir.filename().string().find(only) == std::string::npos) continue;
    const CaseResult r = run_case(dir, root);
    seen.insert(r.name);
    Row& row = table[r.op];
    ++row.cases;
    const auto listed = expected_failures.find(r.name);
    if (listed != expected_failures.end()) {
      if (r.outcome == Outcome::pass) {
        ++row.failed;
        problems.push_back(r.name + ": passes but is listed as expected to fail (remove its line)");
      } else {
        ++row.skipped;
      }
    } else if (r.outcome == Outcome::pass) {
      ++row.passed;
    } else if (r.outcome == Outcome::not_implemented) {
      ++row.not_implemented;
    } else {
      ++row.failed;
      problems.push_back(r.name + " [" + r.op + "]: " + r.detail);
    }
  }
  if (only.empty())
    for (const auto& [name, reason] : expected_failures)
      if (!seen.count(name)) problems.push_back(name + ": listed in the expectations but no such case exists");

  std::printf("%-24s %6s %7s %8s %7s %16s\n", "op", "cases", "passed", "expected", "failed", "not implemented");
  Row total;
  for (const auto& [op, row] : table) {
    if (row.passed + row.skipped + row.failed == 0 && row.not_implemented == row.cases) continue;
    std::printf("%-24s %6d %7d %8d %7d %16d\n", op.c_str(), row.cases, row.passed, row.skipped, row.failed,
                row.not_implemented);
  }
  std::vector<std::string> pending;
  for (const auto& [op, row] : table) {
    total.cases += row.cases; total.passed += row.passed; total.skipped += row.skipped;
    total.failed += row.failed; total.not_implemented += row.not_implemented;
    if (row.passed + row.skipped + row.failed == 0 && row.not_implemented == row.cases) pending.push_back(op);
  }
  std::printf("%-24s %6d %7d %8d %7d %16d\n", "total", total.cases, total.passed, total.skipped, total.failed,
              total.not_implemented);
  if (!pending.empty()) {
    std::printf("ops not implemented yet (%zu):", pending.size());
    for (const std::string& op : pending) std::printf(" %s", op.c_str());
    std::printf("\n");
  }
  for (const std::string& p : problems) std::printf("FAIL %s\n", p.c_str());
  std::printf("%d passed, %d failed, %d skipped\n", total.passed, total.failed, total.skipped);
  return problems.empty() ? 0 : 1;
}
