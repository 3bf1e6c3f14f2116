// The sliding-window geometry of Conv, ConvTranspose and the pools over [N, C, D1 … Ds] tensors, and
// the im2col / col2im transforms that turn a convolution into one matrix product.
//
// Output position o (along each spatial dim d) reads input positions
//   i = o·stride[d] − pad[d] + k·dilation[d]      for k in [0, kernel[d])
// where pad[d] is the padding before dim d (the padding after it only shows in the output size, which
// the plan has fixed). Positions outside [0, in[d]) read zeros (im2col) or are skipped (pools).
//
// im2col writes, for `channels` input planes, the matrix col[(c, k1 … ks)][p] whose row (c, k) holds,
// for each output position p, the input element that filter tap k of channel c multiplies:
//   Y[m][p] = Σ_r W[m][r] · col[r][p]
// col2im_add is its adjoint (ConvTranspose): it adds col[(c, k)][p] into the input position that
// element came from.
#pragma once

#include <cstdint>
#include <vector>

#include "core/attributes.h"
#include "core/shape_util.h"
#include "inferd/tensor.h"

namespace inferd {

class ThreadPool;

inline constexpr int kMaxSpatial = kMaxRank - 2;

struct ConvGeometry {
  int spatial = 0;  // s: the number of spatial dims
  int64_t in[kMaxSpatial] = {}, out[kMaxSpatial] = {}, kernel[kMaxSpatial] = {};
  int64_t stride[kMaxSpatial] = {}, dilation[kMaxSpatial] = {}, pad[kMaxSpatial] = {};

  int64_t in_size() const { return product(in); }
  int64_t out_size() const { return product(out); }
  int64_t kernel_size() const { return product(kernel); }

 private:
  int64_t product(const int64_t* dims) const {
    int64_t n = 1;
    for (int d = 0; d < spatial; ++d) n *= dims[d];
    return n;
  }
};

enum class AutoPad { notset, valid, same_upper, same_lower };

// A window op's attributes as its kernel reads them once, at load (the shape function has validated
// them); absent ones are empty and mean ONNX's defaults (strides and dilations 1, pads 0).
struct WindowAttributes {
  explicit WindowAttributes(const Attributes& attributes);
  std::vector<int64_t> strides, dilations, pads;  // pads: s begins, then s ends
  AutoPad auto_pad = AutoPad::notset;

  // The geometry of a forward window op (Conv, the pools) reading x = [N, C, D1 … Ds] with a window
  // of `kernel` (s dims) into y = [N, C', O1 … Os]: SAME_* pads are the split of what O needs.
  ConvGeometry forward(const Shape& x, const int64_t* kernel, const Shape& y) const;
};

// col[r][j] for the output positions p = p_begin + j, j < count, rows r over `channels` planes of x
// (each in_size() long); col's rows are `count` apart. Splits the rows over `pool` when it is given.
void im2col(const ConvGeometry& g, const float* x, int64_t channels, int64_t p_begin, int64_t count, float* col,
            ThreadPool* pool);

// x[c][i] += col[(c, k)][j] for the output positions p = p_begin + j, j < count (col's rows are `count`
// apart), each sum going to the input position i that im2col would have read it from; taps that fall
// in the padding are dropped. Splits the channels over `pool` when it is given.
void col2im_add(const ConvGeometry& g, const float* col, int64_t channels, int64_t p_begin, int64_t count, float* x,
                ThreadPool* pool);

// The plain loops im2col is tested against.
void im2col_reference(const ConvGeometry& g, const float* x, int64_t channels, float* col);

}  // namespace inferd
