#include "core/shape_util.h"

#include <algorithm>

namespace inferd {

bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out) {
  const size_t rank = std::max(a.size(), b.size());
  Shape result(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1) result[i] = da;
    else if (da == 1) result[i] = db;
    else return false;
  }
  *out = std::move(result);
  return true;
}

void row_major_strides(const Shape& shape, int64_t* strides) {
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
}

bool broadcast_strides(const Shape& in, const Shape& out, int64_t* strides) {
  if (in.size() > out.size()) return false;
  const size_t offset = out.size() - in.size();
  int64_t s = 1;
  for (size_t i = out.size(); i-- > 0;) {
    if (i < offset) { strides[i] = 0; continue; }
    const int64_t d = in[i - offset];
    if (d == out[i]) strides[i] = d == 1 ? 0 : s;
    else if (d == 1) strides[i] = 0;
    else return false;
    s *= d;
  }
  return true;
}

int64_t dims_product(const Shape& shape, int begin, int end) {
  int64_t p = 1;
  for (int i = begin; i < end; ++i) p *= shape[static_cast<size_t>(i)];
  return p;
}

}  // namespace inferd
