// The shape-manipulation ops (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Shape, Transpose, Concat,
// Gather), each through its shape function and its CPU kernel on small hand-made tensors: results,
// the differences between opsets, and the errors a bad model or bad data gets.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/op_schema.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "support/check.h"
#include "support/op_harness.h"

using namespace inferd;
using namespace inferd::test;

namespace {

// ---- Building nodes and tensors ------------------------------------------------------------------

// Nodes here are named, to check that errors name them.
Node named_node(const std::string& op, const std::string& name, std::vector<Attribute> attributes = {}) {
  return make_node(op, std::move(attributes), name);
}

// 0, 1, 2 … in a tensor of this shape.
template <typename T> Tensor iota(Shape shape) {
  std::vector<T> values(static_cast<size_t>(shape_size(shape)));
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<T>(i);
  return tensor<T>(std::move(shape), values);
}

Tensor shape_tensor(const std::vector<int64_t>& dims) {
  return tensor<int64_t>({static_cast<int64_t>(dims.size())}, dims);
}

// ---- Reshape -------------------------------------------------------------------------------------

void reshape_infers_and_copies() {
  const Node r = named_node("Reshape", "r");
  Result out = run(r, 14, {data(iota<float>({2, 3, 4})), constant(shape_tensor({4, -1}))});
  CHECK(out.shapes[0] == (Shape{4, 6}));
  CHECK(out.dtypes[0] == DType::f32);
  CHECK(values_of<float>(out.outputs[0]) == values_of<float>(iota<float>({4, 6})));

  // 0 copies the input's dim at the same index.
  CHECK(infer(r, 14, {data(iota<float>({2, 3, 4})), constant(shape_tensor({0, -1}))}).shapes[0] == (Shape{2, 12}));
  CHECK(infer(r, 13, {data(iota<float>({2, 3, 4})), constant(shape_tensor({2, 0, 2, -1}))}).shapes[0] ==
        (Shape{2, 3, 2, 2}));
  // int64 data moves as bytes like any other type.
  out = run(r, 14, {data(iota<int64_t>({6})), constant(shape_tensor({3, 2}))});
  CHECK(values_of<int64_t>(out.outputs[0]) == values_of<int64_t>(iota<int64_t>({6})));
}

void reshape_allowzero_from_opset_14() {
  const Node copy = named_node("Reshape", "r");
  const Node literal = named_node("Reshape", "r", {attr_int("allowzero", 1)});
  const Tensor empty = Tensor::allocate(DType::f32, {0, 3, 4});
  // allowzero=1: the 0 is a zero-sized dim (test_reshape_allowzero_reordered).
  CHECK(run(literal, 14, {data(empty), constant(shape_tensor({3, 4, 0}))}).shapes[0] == (Shape{3, 4, 0}));
  // Without it the 0 copies input dim 2 (4), and 0 elements cannot become 48.
  CHECK_THROWS(infer(copy, 14, {data(empty), constant(shape_tensor({3, 4, 0}))}), ErrorKind::invalid_model,
               "cannot reshape [0, 3, 4] (0 elements) to [3, 4, 0]");
  // Before opset 14 the attribute does not exist: 0 always copies.
  CHECK(infer(literal, 13, {data(iota<float>({2, 3})), constant(shape_tensor({0, 3}))}).shapes[0] == (Shape{2, 3}));
  CHECK_THROWS(infer(literal, 14, {data(iota<float>({2, 3})), constant(shape_tensor({0, -1}))}),
               ErrorKind::invalid_model, "has both 0 and -1");
}

void reshape_v1_takes_an_attribute() {
  const Node r = named_node("Reshape", "r", {attr_ints("shape", {3, -1})});
  Result out = run(r, 4, {data(iota<float>({2, 3}))});
  CHECK(out.shapes[0] == (Shape{3, 2}));
  CHECK(values_of<float>(out.outputs[0]) == values_of<float>(iota<float>({6})));
  CHECK_THROWS(infer(named_node("Reshape", "r"), 1, {data(iota<float>({2, 3}))}), ErrorKind::invalid_model,
               "required attribute 'shape' is missing");
}

void reshape_errors_name_the_node_and_values() {
  const Node r = named_node("Reshape", "r");
  const Tensor x = iota<float>({2, 3});
  CHECK_THROWS(infer(r, 14, {data(x), constant(shape_tensor({4, -1}))}), ErrorKind::invalid_model,
               "Reshape node 'r': cannot reshape [2, 3] (6 elements) to [4, -1]");
  CHECK_THROWS(infer(r, 14, {data(x), constant(shape_tensor({4, 2}))}), ErrorKind::invalid_model,
               "cannot reshape [2, 3] (6 elements) to [4, 2]");
  CHECK_THROWS(infer(r, 14, {data(x), constant(shape_tensor({-1, -1}))}), ErrorKind::invalid_model,
               "more than one -1");
  CHECK_THROWS(infer(r, 14, {data(x), constant(shape_tensor({-2, -3}))}), ErrorKind::invalid_model,
               "invalid dim -2 at index 0");
  CHECK_THROWS(infer(r, 14, {data(x), constant(shape_tensor({3, 2, 0}))}), ErrorKind::invalid_model,
               "copies dim 2");
  // A shape computed at run time cannot be planned.
  CHECK_THROWS(infer(r, 14, {data(x), data(shape_tensor({6}))}), ErrorKind::unsupported, "shape");
  CHECK_THROWS(infer(r, 14, {data(x), constant(tensor<float>({1}, {6.0f}))}), ErrorKind::unsupported, "float");
}

// ---- Flatten -------------------------------------------------------------------------------------

void flatten_splits_at_axis() {
  const Tensor x = iota<float>({2, 3, 4, 5});
  auto flat = [&](std::vector<Attribute> attrs) {
    return infer(named_node("Flatten", "f", std::move(attrs)), 13, {data(x)}).shapes[0];
  };
  CHECK(flat({}) == (Shape{2, 60}));
  CHECK(flat({attr_int("axis", 0)}) == (Shape{1, 120}));
  CHECK(flat({attr_int("axis", 2)}) == (Shape{6, 20}));
  CHECK(flat({attr_int("axis", 4)}) == (Shape{120, 1}));
  CHECK(flat({attr_int("axis", -1)}) == (Shape{24, 5}));
  CHECK(flat({attr_int("axis", -4)}) == (Shape{1, 120}));
  CHECK_THROWS(flat({attr_int("axis", 5)}), ErrorKind::invalid_model, "attribute 'axis' 5 is out of range [-4, 4]");
  Result out = run(named_node("Flatten", "f", {attr_int("axis", 3)}), 1, {data(x)});
  CHECK(values_of<float>(out.outputs[0]) == values_of<float>(x));
}

// ---- Squeeze / Unsqueeze -------------------------------------------------------------------------

void squeeze_attribute_then_input() {
  const Tensor x = iota<float>({1, 3, 1, 5});
  // Opsets 1-12: axes is an attribute.
  CHECK(infer(named_node("Squeeze", "s", {attr_ints("axes", {0, 2})}), 11, {data(x)}).shapes[0] == (Shape{3, 5}));
  CHECK(infer(named_node("Squeeze", "s", {attr_ints("axes", {-2})}), 11, {data(x)}).shapes[0] == (Shape{1, 3, 5}));
  CHECK(infer(named_node("Squeeze", "s"), 1, {data(x)}).shapes[0] == (Shape{3, 5}));
  // Opset 13: axes is an optional input, and an attribute is no longer read.
  const Node s13 = named_node("Squeeze", "s", {attr_ints("axes", {0})});
  CHECK(infer(s13, 13, {data(x), constant(shape_tensor({2}))}).shapes[0] == (Shape{1, 3, 5}));
  CHECK(infer(s13, 13, {data(x)}).shapes[0] == (Shape{3, 5}));
  CHECK(infer(s13, 13, {data(x), omitted()}).shapes[0] == (Shape{3, 5}));
  Result out = run(s13, 13, {data(x), constant(shape_tensor({0, -2}))});
  CHECK(out.shapes[0] == (Shape{3, 5}));
  CHECK(values_of<float>(out.outputs[0]) == values_of<float>(x));

  CHECK_THROWS(infer(named_node("Squeeze", "s", {attr_ints("axes", {1})}), 11, {data(x)}), ErrorKind::invalid_model,
               "Squeeze node 's': cannot squeeze axis 1 of input shape [1, 3, 1, 5]: its size is 3, not 1");
  CHECK_THROWS(infer(s13, 13, {data(x), constant(shape_tensor({0, -4}))}), ErrorKind::invalid_model, "twice");
  CHECK_THROWS(infer(s13, 13, {data(x), constant(shape_tensor({4}))}), ErrorKind::invalid_model,
               "axis 4 is out of range for rank 4");
}

void unsqueeze_axes_index_the_output() {
  const Tensor x = iota<float>({3, 4, 5});
  CHECK(infer(named_node("Unsqueeze", "u", {attr_ints("axes", {0, 4})}), 11, {data(x)}).shapes[0] ==
        (Shape{1, 3, 4, 5, 1}));
  CHECK(infer(named_node("Unsqueeze", "u", {attr_ints("axes", {-1})}), 11, {data(x)}).shapes[0] ==
        (Shape{3, 4, 5, 1}));
  const Node u13 = named_node("Unsqueeze", "u");
  // Unsorted axes (test_unsqueeze_unsorted_axes).
  Result out = run(u13, 13, {data(x), constant(shape_tensor({5, 4, 2}))});
  CHECK(out.shapes[0] == (Shape{3, 4, 1, 5, 1, 1}));
  CHECK(values_of<float>(out.outputs[0]) == values_of<float>(x));
  CHECK(infer(u13, 13, {data(tensor<float>({}, {1.0f})), constant(shape_tensor({0}))}).shapes[0] == (Shape{1}));

  CHECK_THROWS(infer(u13, 13, {data(x), constant(shape_tensor({5}))}), ErrorKind::invalid_model,
               "axis 5 is out of range for rank 4");
  CHECK_THROWS(infer(u13, 13, {data(x), constant(shape_tensor({1, 1}))}), ErrorKind::invalid_model, "twice");
  CHECK_THROWS(infer(u13, 13, {data(x)}), ErrorKind::invalid_model, "input 1 is required");
  CHECK_THROWS(infer(named_node("Unsqueeze", "u"), 11, {data(x)}), ErrorKind::invalid_model,
               "required attribute 'axes' is missing");
}

// ---- Identity ------------------------------------------------------------------------------------

void identity_copies_any_type() {
  const Tensor flags = tensor<bool>({2, 2}, {true, false, false, true});
  Result out = run(named_node("Identity", "i"), 21, {data(flags)});
  CHECK(out.dtypes[0] == DType::boolean);
  CHECK(values_of<bool>(out.outputs[0]) == values_of<bool>(flags));
  const Tensor halves = iota<uint16_t>({3});
  Tensor as_f16 = Tensor::view(DType::f16, halves.shape, halves.data);
  as_f16.storage = halves.storage;
  out = run(named_node("Identity", "i"), 1, {data(as_f16)});
  CHECK(out.dtypes[0] == DType::f16 && std::memcmp(out.outputs[0].data, halves.data, 6) == 0);
}

// ---- Shape ---------------------------------------------------------------------------------------

void shape_is_known_at_plan_time() {
  const Tensor x = Tensor::allocate(DType::f32, {2, 3, 4});
  Result out = run(named_node("Shape", "s"), 14, {data(x)});
  CHECK(out.dtypes[0] == DType::i64 && out.shapes[0] == (Shape{3}));
  CHECK(out.values[0].dtype == DType::i64);
  CHECK(values_of<int64_t>(out.values[0]) == (std::vector<int64_t>{2, 3, 4}));
  CHECK(values_of<int64_t>(out.outputs[0]) == (std::vector<int64_t>{2, 3, 4}));

  auto sliced = [&](int opset, std::vector<Attribute> attrs) {
    Result r = run(named_node("Shape", "s", std::move(attrs)), opset, {data(x)});
    CHECK(values_of<int64_t>(r.values[0]) == values_of<int64_t>(r.outputs[0]));
    return values_of<int64_t>(r.values[0]);
  };
  using v = std::vector<int64_t>;
  CHECK(sliced(15, {attr_int("start", 1)}) == (v{3, 4}));
  CHECK(sliced(15, {attr_int("end", 1)}) == (v{2}));
  CHECK(sliced(15, {attr_int("end", -1)}) == (v{2, 3}));
  CHECK(sliced(15, {attr_int("start", -1)}) == (v{4}));
  CHECK(sliced(15, {attr_int("start", 1), attr_int("end", -1)}) == (v{3}));
  CHECK(sliced(15, {attr_int("start", -10)}) == (v{2, 3, 4}));  // clamped
  CHECK(sliced(15, {attr_int("end", 10)}) == (v{2, 3, 4}));
  CHECK(sliced(15, {attr_int("start", 2), attr_int("end", 1)}).empty());
  // Before opset 15 start and end do not exist.
  CHECK(sliced(14, {attr_int("start", 1)}) == (v{2, 3, 4}));
  // A scalar has an empty shape.
  CHECK(run(named_node("Shape", "s"), 13, {data(tensor<float>({}, {1.0f}))}).shapes[0] == (Shape{0}));
}

// ---- Transpose -----------------------------------------------------------------------------------

// The textbook definition, element by element: out[i0..in] = in[i_perm…].
std::vector<int64_t> reference_transpose(const std::vector<int64_t>& in, const Shape& shape, const std::vector<int64_t>& perm) {
  const size_t rank = shape.size();
  Shape out_shape(rank);
  for (size_t i = 0; i < rank; ++i) out_shape[i] = shape[static_cast<size_t>(perm[i])];
  int64_t in_strides[kMaxRank];
  row_major_strides(shape, in_strides);
  std::vector<int64_t> out(in.size());
  std::vector<int64_t> index(rank, 0);
  for (size_t flat = 0; flat < out.size(); ++flat) {
    size_t rest = flat;
    int64_t src = 0;
    for (size_t i = rank; i-- > 0;) {
      index[i] = static_cast<int64_t>(rest % static_cast<size_t>(out_shape[i]));
      rest /= static_cast<size_t>(out_shape[i]);
      src += index[i] * in_strides[perm[i]];
    }
    out[flat] = in[static_cast<size_t>(src)];
  }
  return out;
}

// Checks a transpose of `shape` by `perm` for element types of 1, 2, 4 and 8 bytes.
void check_transpose(const Shape& shape, const std::vector<int64_t>& perm, int threads = 1) {
  const Node t = named_node("Transpose", "t", {attr_ints("perm", perm)});
  const std::vector<int64_t> source = values_of<int64_t>(iota<int64_t>(shape));
  const std::vector<int64_t> expected = reference_transpose(source, shape, perm);
  bool ok = true;
  auto check_type = [&](auto zero) {
    using T = decltype(zero);
    std::vector<T> in(source.begin(), source.end());
    Result out = run(t, 13, {data(tensor<T>(shape, in))}, threads);
    const std::vector<T> got = values_of<T>(out.outputs[0]);
    for (size_t i = 0; i < got.size(); ++i) ok = ok && got[i] == static_cast<T>(expected[i]);
  };
  check_type(uint8_t{});
  check_type(uint16_t{});
  check_type(float{});
  check_type(int64_t{});
  if (!ok) {
    std::fprintf(stderr, "transpose of %s by %s is wrong\n", shape_to_string(shape).c_str(),
                 shape_to_string(perm).c_str());
    CHECK(ok);
  }
}

void transpose_matches_reference() {
  // Default perm reverses the dims (test_transpose_default).
  Result out = run(named_node("Transpose", "t"), 1, {data(iota<float>({2, 3, 4}))});
  CHECK(out.shapes[0] == (Shape{4, 3, 2}));
  std::vector<int64_t> expected = reference_transpose(values_of<int64_t>(iota<int64_t>({2, 3, 4})), {2, 3, 4}, {2, 1, 0});
  std::vector<float> got = values_of<float>(out.outputs[0]);
  CHECK(std::equal(got.begin(), got.end(), expected.begin(), [](float a, int64_t b) { return a == b; }));

  // Every permutation of rank 2 to 4, on shapes that exercise whole tiles (64 bytes a side) with
  // ragged edges, dims of size 1 (dropped) and blocks that stay innermost (folded into the element:
  // sizes 2 to 32 bytes, some with no micro-kernel).
  const std::vector<Shape> shapes = {{37, 70}, {130, 200}, {1, 33, 65}, {3, 70, 129}, {3, 34, 5}, {66, 40, 4},
                                     {2, 1, 3, 1}, {5, 4, 3, 2}, {2, 33, 1, 40}, {7, 3, 31, 2}};
  for (const Shape& shape : shapes) {
    std::vector<int64_t> perm(shape.size());
    std::iota(perm.begin(), perm.end(), 0);
    do check_transpose(shape, perm); while (std::next_permutation(perm.begin(), perm.end()));
  }
  // Rank 6 with a general permutation, and the fast paths split over several threads.
  check_transpose({2, 3, 2, 4, 3, 2}, {5, 2, 0, 4, 1, 3});
  check_transpose({4, 96, 130}, {0, 2, 1}, 3);
  check_transpose({64, 48, 30}, {2, 0, 1}, 3);
  check_transpose({2, 128, 4, 16}, {0, 2, 1, 3}, 3);
  // Zero-sized tensors move nothing.
  CHECK(run(named_node("Transpose", "t"), 13, {data(Tensor::allocate(DType::f32, {0, 3}))}).shapes[0] == (Shape{3, 0}));
}

void transpose_rejects_bad_perms() {
  const Tensor x = iota<float>({2, 3, 4});
  CHECK_THROWS(infer(named_node("Transpose", "t", {attr_ints("perm", {0, 1})}), 13, {data(x)}), ErrorKind::invalid_model,
               "Transpose node 't': attribute 'perm' [0, 1] has 2 entries but the input shape [2, 3, 4] has rank 3");
  CHECK_THROWS(infer(named_node("Transpose", "t", {attr_ints("perm", {0, 1, 1})}), 13, {data(x)}),
               ErrorKind::invalid_model, "is not a permutation of 0..2 (entry 2 is 1)");
  CHECK_THROWS(infer(named_node("Transpose", "t", {attr_ints("perm", {0, 3, 1})}), 13, {data(x)}),
               ErrorKind::invalid_model, "entry 1 is 3");
}

// ---- Concat --------------------------------------------------------------------------------------

void concat_joins_along_axis() {
  const Tensor a = tensor<float>({2, 2}, {1, 2, 3, 4});
  const Tensor b = tensor<float>({2, 3}, {5, 6, 7, 8, 9, 10});
  Result out = run(named_node("Concat", "c", {attr_int("axis", 1)}), 13, {data(a), data(b)});
  CHECK(out.shapes[0] == (Shape{2, 5}));
  CHECK(values_of<float>(out.outputs[0]) == (std::vector<float>{1, 2, 5, 6, 7, 3, 4, 8, 9, 10}));
  // Negative axis; a third input that is empty along the axis.
  out = run(named_node("Concat", "c", {attr_int("axis", -1)}), 13,
            {data(a), data(Tensor::allocate(DType::f32, {2, 0})), data(b)});
  CHECK(values_of<float>(out.outputs[0]) == (std::vector<float>{1, 2, 5, 6, 7, 3, 4, 8, 9, 10}));
  out = run(named_node("Concat", "c", {attr_int("axis", 0)}), 13, {data(a), data(a)});
  CHECK(out.shapes[0] == (Shape{4, 2}));
  CHECK(values_of<float>(out.outputs[0]) == (std::vector<float>{1, 2, 3, 4, 1, 2, 3, 4}));
  // Shape arithmetic: int64 1-D pieces.
  out = run(named_node("Concat", "c", {attr_int("axis", 0)}), 13,
            {data(shape_tensor({1})), data(shape_tensor({-1})), data(shape_tensor({8, 64}))});
  CHECK(values_of<int64_t>(out.outputs[0]) == (std::vector<int64_t>{1, -1, 8, 64}));
  // Before opset 4, axis defaulted to 1.
  CHECK(run(named_node("Concat", "c"), 1, {data(a), data(b)}).shapes[0] == (Shape{2, 5}));
  CHECK_THROWS(infer(named_node("Concat", "c"), 4, {data(a), data(b)}), ErrorKind::invalid_model,
               "required attribute 'axis' is missing");
  // Larger blocks over several threads.
  const Tensor big = iota<int32_t>({300, 70});
  out = run(named_node("Concat", "c", {attr_int("axis", 1)}), 13, {data(big), data(big)}, 3);
  const std::vector<int32_t> got = values_of<int32_t>(out.outputs[0]);
  bool ok = true;
  for (int64_t r = 0; r < 300; ++r)
    for (int64_t c = 0; c < 140; ++c) ok = ok && got[static_cast<size_t>(r * 140 + c)] == r * 70 + c % 70;
  CHECK(ok);
}

void concat_errors_name_the_input_and_dim() {
  const Node c = named_node("Concat", "c", {attr_int("axis", 1)});
  CHECK_THROWS(infer(c, 13, {data(iota<float>({2, 2})), data(iota<float>({3, 2}))}), ErrorKind::invalid_model,
               "Concat node 'c': input 1 has shape [3, 2] but input 0 has [2, 2]: dim 0 differs (3 vs 2)");
  CHECK_THROWS(infer(c, 13, {data(iota<float>({2, 2})), data(iota<float>({2, 2, 1}))}), ErrorKind::invalid_model,
               "ranks differ");
  CHECK_THROWS(infer(c, 13, {data(iota<float>({2, 2})), data(iota<int64_t>({2, 2}))}), ErrorKind::invalid_model,
               "inputs 0 and 1 must have the same type");
  CHECK_THROWS(infer(named_node("Concat", "c", {attr_int("axis", 2)}), 13, {data(iota<float>({2, 2}))}),
               ErrorKind::invalid_model, "attribute 'axis' 2 is out of range for rank 2");
}

// ---- Gather --------------------------------------------------------------------------------------

void gather_selects_rows() {
  const Tensor x = tensor<float>({3, 2}, {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f});
  // The spec's first example: axis 0, indices of shape [2, 2].
  Result out = run(named_node("Gather", "g"), 13, {data(x), data(tensor<int64_t>({2, 2}, {0, 1, 1, 2}))});
  CHECK(out.shapes[0] == (Shape{2, 2, 2}));
  CHECK(values_of<float>(out.outputs[0]) == (std::vector<float>{1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f}));
  // axis 1 with int32 and negative indices: single elements per row.
  out = run(named_node("Gather", "g", {attr_int("axis", 1)}), 13, {data(x), data(tensor<int32_t>({1, 2}, {-1, 0}))});
  CHECK(out.shapes[0] == (Shape{3, 1, 2}));
  CHECK(values_of<float>(out.outputs[0]) == (std::vector<float>{1.2f, 1.0f, 3.4f, 2.3f, 5.7f, 4.5f}));
  // A scalar index drops the axis (Shape -> Gather -> Unsqueeze chains).
  out = run(named_node("Gather", "g"), 13, {data(shape_tensor({8, 3, 224})), data(tensor<int64_t>({}, {-1}))});
  CHECK(out.shapes[0].empty());
  CHECK(values_of<int64_t>(out.outputs[0]) == (std::vector<int64_t>{224}));
  // An embedding lookup: whole rows, over several threads.
  const Tensor table = iota<float>({1000, 24});
  std::vector<int64_t> ids(500);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>((i * 7919) % 1000);
  out = run(named_node("Gather", "g"), 13, {data(table), data(tensor<int64_t>({1, 500}, ids))}, 3);
  CHECK(out.shapes[0] == (Shape{1, 500, 24}));
  const std::vector<float> got = values_of<float>(out.outputs[0]);
  bool ok = true;
  for (size_t i = 0; i < ids.size(); ++i)
    for (size_t k = 0; k < 24; ++k) ok = ok && got[i * 24 + k] == static_cast<float>(ids[i] * 24 + static_cast<int64_t>(k));
  CHECK(ok);
}

void gather_rejects_out_of_range_indices() {
  const Tensor x = iota<float>({3, 2});
  CHECK_THROWS(run(named_node("Gather", "g"), 13, {data(x), data(tensor<int64_t>({2}, {0, 3}))}), ErrorKind::runtime,
               "Gather node 'g': index 3 (indices element 1) is out of range [-3, 2] for axis 0 of data shape [3, 2]");
  CHECK_THROWS(run(named_node("Gather", "g", {attr_int("axis", -1)}), 13, {data(x), data(tensor<int32_t>({1}, {-3}))}),
               ErrorKind::runtime, "index -3 (indices element 0) is out of range [-2, 1] for axis 1");
  CHECK_THROWS(infer(named_node("Gather", "g"), 13, {data(x), data(tensor<float>({1}, {0.0f}))}),
               ErrorKind::unsupported, "input 1 has type float");
  CHECK_THROWS(infer(named_node("Gather", "g", {attr_int("axis", 2)}), 13, {data(x), data(shape_tensor({0}))}),
               ErrorKind::invalid_model, "attribute 'axis' 2 is out of range for rank 2");
}

// ---- Every op, every opset -----------------------------------------------------------------------

void every_opset_has_a_schema_and_kernel() {
  const char* ops[] = {"Reshape", "Flatten", "Identity", "Squeeze", "Unsqueeze", "Shape", "Transpose", "Concat", "Gather"};
  for (const char* op : ops)
    for (int opset = 1; opset <= 24; ++opset) {
      const bool found = SchemaRegistry::instance().find("", op, opset) != nullptr &&
                         KernelRegistry::instance().find("cpu", "", op, opset) != nullptr;
      if (!found) std::fprintf(stderr, "%s has no schema or kernel at opset %d\n", op, opset);
      CHECK(found);
    }
}

}  // namespace

int main() {
  reshape_infers_and_copies();
  reshape_allowzero_from_opset_14();
  reshape_v1_takes_an_attribute();
  reshape_errors_name_the_node_and_values();
  flatten_splits_at_axis();
  squeeze_attribute_then_input();
  unsqueeze_axes_index_the_output();
  identity_copies_any_type();
  shape_is_known_at_plan_time();
  transpose_matches_reference();
  transpose_rejects_bad_perms();
  concat_joins_along_axis();
  concat_errors_name_the_input_and_dim();
  gather_selects_rows();
  gather_rejects_out_of_range_indices();
  every_opset_has_a_schema_and_kernel();
  return test::failures();
}
