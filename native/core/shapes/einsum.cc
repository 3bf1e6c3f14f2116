// Shape of Einsum. The equation names each input's axes with letters ("bij,bjk->bik"); spaces are
// ignored. A letter repeated within one input takes its diagonal; letters absent from the output are
// summed over. "..." stands for the axes an input has beyond its letters, broadcast (numpy rules,
// aligned at the right) across the inputs that have it. Without "->" the output is the broadcast
// "..." axes, then the letters that occur once, in alphabetical (ASCII) order; an explicit output
// without "..." sums over those axes.
//
// The CPU kernel parses the equation the same way (cpu/ops/einsum.cc); what this function rejects
// never reaches it.
#include <algorithm>
#include <string>
#include <vector>

#include "core/op_schema.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

constexpr int kLetters = 52;     // 'A'–'Z' are 0–25, 'a'–'z' 26–51
constexpr int kEllipsis = -1;    // where "..." stands in a term

int letter_code(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return 26 + (c - 'a');
  return -2;
}
char letter_of(int code) { return static_cast<char>(code < 26 ? 'A' + code : 'a' + (code - 26)); }

struct Equation {
  std::vector<std::vector<int>> inputs;
  bool explicit_output = false;
  std::vector<int> output;
};

std::vector<int> parse_term(const ShapeContext& ctx, const std::string& term, const std::string& equation) {
  std::vector<int> out;
  bool ellipsis = false;
  for (size_t i = 0; i < term.size(); ++i) {
    if (term.compare(i, 3, "...") == 0) {
      if (ellipsis) ctx.fail("equation '", equation, "' has two '...' in the term '", term, "'");
      ellipsis = true;
      out.push_back(kEllipsis);
      i += 2;
      continue;
    }
    const int code = letter_code(term[i]);
    if (code < 0)
      ctx.fail("equation '", equation, "' has '", term[i], "' in the term '", term, "'; only letters and '...' may name axes");
    out.push_back(code);
  }
  return out;
}

Equation parse(const ShapeContext& ctx, const std::string& text) {
  std::string eq;
  for (char c : text)
    if (c != ' ' && c != '\t' && c != '\n') eq += c;
  Equation e;
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  if (arrow != std::string::npos) {
    e.explicit_output = true;
    const std::string rhs = eq.substr(arrow + 2);
    if (rhs.find("->") != std::string::npos) ctx.fail("equation '", text, "' has more than one '->'");
    e.output = parse_term(ctx, rhs, text);
  }
  size_t begin = 0;
  while (true) {
    const size_t comma = lhs.find(',', begin);
    e.inputs.push_back(parse_term(ctx, lhs.substr(begin, comma - begin), text));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return e;
}

void infer_einsum(ShapeContext& ctx) {
  const size_t n = ctx.input_count();
  if (n == 0) ctx.fail("takes at least one input");
  ctx.expect_inputs(n, n);
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::i32, DType::i64, DType::u32, DType::u64});
  for (size_t i = 1; i < n; ++i) ctx.expect_same_dtype(0, i);
  const std::string text = ctx.attributes().get_string("equation", "");
  if (!ctx.attributes().has("equation")) ctx.fail("attribute 'equation' is required");
  const Equation e = parse(ctx, text);
  if (e.inputs.size() != n)
    ctx.fail("equation '", text, "' has ", e.inputs.size(), " input terms for ", n, " inputs");

  // Letters' sizes, and the broadcast "..." dims (right-aligned).
  std::vector<int64_t> letter_dim(kLetters, -1);
  std::vector<int> letter_count(kLetters, 0);
  Shape ellipsis;
  for (size_t i = 0; i < n; ++i) {
    const Shape& shape = ctx.shape(i);
    if (shape.size() > static_cast<size_t>(kMaxRank))
      fail(ErrorKind::unsupported, ctx.node().label(), ": input ", i, " of rank ", shape.size(),
           " exceeds the supported rank ", kMaxRank);
    const std::vector<int>& term = e.inputs[i];
    const bool has_ellipsis = std::count(term.begin(), term.end(), kEllipsis) > 0;
    const size_t letters = term.size() - (has_ellipsis ? 1 : 0);
    if (has_ellipsis ? shape.size() < letters : shape.size() != letters)
      ctx.fail("equation '", text, "' names ", letters, " axes of input ", i, " (", has_ellipsis ? "and '...'" : "no '...'",
               "), which has shape ", shape_to_string(shape));
    const size_t ellipsis_rank = shape.size() - letters;
    size_t axis = 0;
    for (int code : term) {
      if (code == kEllipsis) {
        const Shape part(shape.begin() + static_cast<std::ptrdiff_t>(axis),
                         shape.begin() + static_cast<std::ptrdiff_t>(axis + ellipsis_rank));
        if (!broadcast_shapes(ellipsis, part, &ellipsis))
          ctx.fail("the '...' dims ", shape_to_string(part), " of input ", i, " do not broadcast with ",
                   shape_to_string(ellipsis));
        axis += ellipsis_rank;
        continue;
      }
      const int64_t d = shape[axis++];
      int64_t& known = letter_dim[static_cast<size_t>(code)];
      if (known >= 0 && known != d)
        ctx.fail("equation '", text, "' gives axis '", letter_of(code), "' sizes ", known, " and ", d,
                 " (input ", i, " has shape ", shape_to_string(shape), ")");
      known = d;
      ++letter_count[static_cast<size_t>(code)];
    }
  }

  Shape out;
  if (e.explicit_output) {
    std::vector<bool> seen(kLetters, false);
    for (int code : e.output) {
      if (code == kEllipsis) {
        out.insert(out.end(), ellipsis.begin(), ellipsis.end());
        continue;
      }
      if (letter_dim[static_cast<size_t>(code)] < 0)
        ctx.fail("equation '", text, "' has output axis '", letter_of(code), "', which no input names");
      if (seen[static_cast<size_t>(code)])
        ctx.fail("equation '", text, "' names output axis '", letter_of(code), "' twice");
      seen[static_cast<size_t>(code)] = true;
      out.push_back(letter_dim[static_cast<size_t>(code)]);
    }
  } else {
    out = ellipsis;
    for (int code = 0; code < kLetters; ++code)
      if (letter_count[static_cast<size_t>(code)] == 1) out.push_back(letter_dim[static_cast<size_t>(code)]);
  }
  if (out.size() > static_cast<size_t>(kMaxRank))
    fail(ErrorKind::unsupported, ctx.node().label(), ": output rank ", out.size(), " exceeds the supported rank ",
         kMaxRank);
  ctx.set_output(0, ctx.dtype(0), std::move(out));
}

}  // namespace

INFERD_SCHEMA("Einsum", 12, kMaxOpset, infer_einsum);

}  // namespace inferd
