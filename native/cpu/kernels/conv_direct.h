// The direct 2-D convolution: an ordinary (one group) conv computed straight from its input, without
// im2col, for a filter known at load, on CPUs with AVX-512.
//
// Output positions run along the vector. The input of one image is copied once into a zero-padded
// scratch, split by phase: for strides (SH, SW), padded element (i, j) of channel c goes to plane
// (i mod SH, j mod SW) of that channel at (i div SH, j div SW), each plane Hq × Wq (only the planes
// some filter tap reads are kept). Then, reading a
// plane as one long row, output (oh, ow) is position q = oh·Wq + ow, and filter tap (kh, kw) reads
// position q + offset(kh, kw) of one plane of the channel — the same offset for every output. So 16
// consecutive positions are one unaligned vector load per tap at any stride (stride 1 has a single
// plane, which is the padded input itself), the positions ow ≥ OW of each row (the Wq − OW columns past
// the output) are computed and dropped, and the filter taps of kBlockChannels output channels are
// broadcast from a filter packed once, [C][KH][KW][kBlockChannels] per block of output channels.
//
// A register block is kBlockPositions positions × kBlockChannels channels (24 zmm accumulators); the
// finished block is stored with masked stores straight into NCHW output rows.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>

#include "cpu/kernels/im2col.h"
#include "inferd/tensor.h"

namespace inferd {
namespace conv_direct {

constexpr int64_t kBlockChannels = 8;   // output channels per register block
constexpr int64_t kBlockPositions = 48; // output positions per register block (3 vectors)
constexpr int64_t kMaxTaps = 64;        // KH·KW at most (7×7 is 49)
constexpr int64_t kDepthwisePositions = 96;  // output positions per depthwise step (6 vectors)

// Whether the CPU can run these kernels (AVX-512F), resolved once.
bool available();

// The filter [M, C, KH, KW] as ⌈M/kBlockChannels⌉ blocks of [C][KH][KW][kBlockChannels], channels
// past M zero.
std::unique_ptr<AlignedBuffer> pack_filter(const float* w, int64_t M, int64_t C, int64_t taps);

// One conv's shape, as the kernels read it: fixed per run (from the plan's ConvGeometry).
struct Layout {
  int64_t C, M, H, W;        // input channels, output channels, input rows and columns
  int64_t KH, KW, SH, SW, DH, DW, PH, PW;  // filter, strides, dilations, padding before
  int64_t OH, OW;            // output rows and columns
  int64_t band_rows;         // output rows per band, the unit of work: about 1024 positions
  int64_t Hb, Wq;            // rows and columns of one phase plane of a band: its output rows and
                             // the rows below them its taps reach
  int64_t offsets[kMaxTaps]; // tap (kh, kw)'s input offset from its output position, within a channel

  int64_t phases;             // phase planes kept per channel: those some tap reads
  int64_t phase_of[kMaxTaps]; // plane i holds phase (ph, pw) = (phase_of[i] / SW, phase_of[i] % SW)

  int64_t channel_floats() const { return phases * Hb * Wq; }
  // The scratch prepare_input fills for one band, including the slack the last block reads past.
  int64_t input_floats() const { return C * channel_floats() + std::max(kBlockPositions, kDepthwisePositions); }
  int64_t blocks() const { return (M + kBlockChannels - 1) / kBlockChannels; }
  int64_t bands() const { return (OH + band_rows - 1) / band_rows; }
  // The scratch run_band sums a band's partial sums in (0: it needs none).
  int64_t partial_floats() const;
};
// `band_rows` 0: chosen here (about 1024 output positions a band).
Layout layout(const ConvGeometry& g, int64_t C, int64_t M, int64_t band_rows = 0);

// Copies input channels [c0, c1) of one image x [C][H][W], the rows that the band of output rows
// from oh0 reads, into xq (input_floats() long), padded and split by phase. The slack past the last
// channel is zeroed with channel C − 1.
void prepare_input(const Layout& l, const float* x, int64_t c0, int64_t c1, int64_t oh0, float* xq);

// What run_band applies to each finished block as it stores it, in registers: Z (laid out as the
// output, null: none) added, then the result clamped to [lo, hi] (a Relu is lo = 0; FusedConv's
// other activations are a pass of their own over the band).
struct Finish {
  const float* z = nullptr;
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
};

// Output rows [oh0, oh1) (at most band_rows) of output channels [m0, m0 + kBlockChannels) ∩ [0, M),
// m0 = block · kBlockChannels, of one image, from that band's input in xq: y is the image's output
// [M][OH][OW]; `bias` (kBlockChannels floats, zero-padded) is added, then `finish` applied (its z
// is the image's Z, laid out as y). Input channels are summed a chunk at a time into `partial` (scratch of
// partial_floats() floats, at most band_rows rows), which keeps one chunk's input rows in L1 while the
// band's blocks walk over them, and rounds fewer terms in each running sum.
void run_band(const Layout& l, const float* xq, const float* filter, const float* bias, int64_t block, int64_t oh0,
              int64_t oh1, float* y, float* partial, const Finish& finish = {});

// A depthwise conv's output plane y [OH][OW] from its input channel, prepared as above in xq (by a
// Layout of C = 1 and band_rows = OH, one band), `w` the channel's KH·KW taps.
void depthwise_plane(const Layout& l, const float* xq, const float* w, float bias, float* y);

}  // namespace conv_direct
}  // namespace inferd
