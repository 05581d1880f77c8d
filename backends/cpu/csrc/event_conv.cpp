// Event-driven 2-D convolution for spike frames (snnc CPU simulator; Python side: backends/cpu/event_conv.py).
//
// y[f] = conv2d(x[f], W, b, stride, pad, dilation, groups) computed from the active (non-zero) inputs only:
//
//   y[f, co, oy, ox] = b[co] + Σ_{(ky, kx) ascending} Σ_{c active at (iy, ix), ascending} x[f, c, iy, ix] · W[co, c, ky, kx]
//   with iy = oy·s − p + ky·d, ix = ox·s − p + kx·d inside the frame (and c in co's group).
//
// That summation order is fixed by the shapes and the data alone, and every frame is computed by one thread:
// results are bit-identical run to run and for any thread count. Binary frames (all active values 1) add the
// weight itself (no multiply); other frames add x · W (a rounded product; exact for integer values).
//
// Pass 1 (per frame) lists the active inputs channel by channel (AVX2: 8 inputs per compare, branch-free
// left-pack). If more than max_density of all inputs are active, an undefined tensor is returned at once (the
// caller runs a dense convolution). Pass 2 (per frame) sorts the events by input position (counting sort,
// channels stay ascending) and walks the taps: output channels go in blocks of B whose weight slab of one tap,
// [C_in/groups, B], stays in L1, and whose partial sums buf [positions, B] start at the bias. For each tap and
// output position the B sums are loaded (AVX2, float32, B = 8·NREG: into NREG registers), the weight rows of
// the active channels at the tapped input are added, and the sums are stored back; at the end the block is
// transposed into the NCHW output. On the AVX2 path with NREG ≤ 8 the channels of one (position, tap) go
// into two partial sums (even / odd entries of the ascending channel list, added at the end) to halve the
// add-latency chain; that order is equally fixed.

#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cstdint>
#include <type_traits>
#include <vector>
#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace {

struct Link {
  int32_t o;  // output coordinate
  int32_t i;  // input coordinate
};

// links[k] = the (output, input) coordinate pairs tap k joins along one axis: i = o·s − p + k·d in [0, in).
std::vector<std::vector<Link>> links_per_tap(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, int64_t d) {
  std::vector<std::vector<Link>> links(k);
  for (int64_t kk = 0; kk < k; ++kk) {
    for (int64_t o = 0; o < out; ++o) {
      const int64_t i = o * s - p + kk * d;
      if (i >= 0 && i < in) links[kk].push_back({static_cast<int32_t>(o), static_cast<int32_t>(i)});
    }
  }
  return links;
}

struct FrameEvents {
  std::vector<int32_t> pos;       // input positions iy·W + ix of the active inputs, channel by channel
  std::vector<int32_t> ch_start;  // events of channel c: pos[ch_start[c] : ch_start[c + 1]]
  bool binary = true;             // every active value is 1
};

#ifdef __AVX2__
// left_pack[m] = the indices of the set bits of m (8-bit mask), packed to the front.
const std::array<std::array<int32_t, 8>, 256>& left_pack_table() {
  static const auto table = [] {
    std::array<std::array<int32_t, 8>, 256> t{};
    for (int m = 0; m < 256; ++m) {
      int n = 0;
      for (int b = 0; b < 8; ++b)
        if (m & (1 << b)) t[m][n++] = b;
    }
    return t;
  }();
  return table;
}
#endif

// Pass 1 for one frame x [C, plane]; scratch has room for plane + 8 entries.
template <typename T>
void list_events(const T* __restrict__ x, int64_t channels, int64_t plane, std::vector<int32_t>& scratch,
                 FrameEvents& ev) {
  ev.pos.clear();
  ev.ch_start.assign(channels + 1, 0);
  ev.binary = true;
  int32_t* out = scratch.data();
  for (int64_t c = 0; c < channels; ++c) {
    const T* xc = x + c * plane;
    int64_t count = 0, i = 0;
#ifdef __AVX2__
    if constexpr (std::is_same_v<T, float>) {
      const auto& lut = left_pack_table();
      const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
      unsigned not_one = 0;
      for (; i + 8 <= plane; i += 8) {
        const __m256 v = _mm256_loadu_ps(xc + i);
        const unsigned m = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_NEQ_UQ)));
        not_one |= m & static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v, one, _CMP_NEQ_UQ)));
        const __m256i idx = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(i)),
                                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lut[m].data())));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + count), idx);
        count += __builtin_popcount(m);
      }
      if (not_one) ev.binary = false;
    }
#endif
    for (; i < plane; ++i) {
      const T v = xc[i];
      if (v != T(0)) {
        out[count++] = static_cast<int32_t>(i);
        if (v != T(1)) ev.binary = false;
      }
    }
    ev.pos.insert(ev.pos.end(), out, out + count);
    ev.ch_start[c + 1] = static_cast<int32_t>(ev.pos.size());
  }
}

// One tap, generic: buf[o, :B] += Σ_c x · wslab[c, :B] over the linked positions.
template <typename T, bool BINARY>
void tap_generic(const T* __restrict__ slab, int64_t B, const T* __restrict__ xf, const int32_t* __restrict__ chans,
                 const int32_t* __restrict__ pos_start, const std::vector<Link>& lrow, const std::vector<Link>& lcol,
                 int64_t w, int64_t w_out, int64_t plane, int64_t c_lo, int64_t c_hi, T* __restrict__ buf) {
  for (const Link& ry : lrow) {
    for (const Link& rx : lcol) {
      const int64_t pos = static_cast<int64_t>(ry.i) * w + rx.i;
      const int32_t* c0 = std::lower_bound(chans + pos_start[pos], chans + pos_start[pos + 1], static_cast<int32_t>(c_lo));
      const int32_t* c1 = std::lower_bound(c0, chans + pos_start[pos + 1], static_cast<int32_t>(c_hi));
      T* __restrict__ out = buf + (static_cast<int64_t>(ry.o) * w_out + rx.o) * B;
      for (const int32_t* c = c0; c != c1; ++c) {
        const T* __restrict__ col = slab + (static_cast<int64_t>(*c) - c_lo) * B;
        if constexpr (BINARY) {
          for (int64_t j = 0; j < B; ++j) out[j] += col[j];
        } else {
          const T v = xf[static_cast<int64_t>(*c) * plane + pos];
          for (int64_t j = 0; j < B; ++j) out[j] += v * col[j];
        }
      }
    }
  }
}

#ifdef __AVX2__
// One tap, float32, B = 8·NREG: the B sums of a position live in NREG registers while the channels are added.
template <int NREG, bool BINARY>
void tap_avx2(const float* __restrict__ slab, const float* __restrict__ xf, const int32_t* __restrict__ chans,
              const int32_t* __restrict__ pos_start, const std::vector<Link>& lrow, const std::vector<Link>& lcol,
              int64_t w, int64_t w_out, int64_t plane, int64_t c_lo, int64_t c_hi, float* __restrict__ buf) {
  constexpr int64_t B = 8 * NREG;
  const bool grouped = c_lo > 0 || c_hi < INT32_MAX;
  for (const Link& ry : lrow) {
    for (const Link& rx : lcol) {
      const int64_t pos = static_cast<int64_t>(ry.i) * w + rx.i;
      const int32_t* c0 = chans + pos_start[pos];
      const int32_t* c1 = chans + pos_start[pos + 1];
      if (grouped) {
        c0 = std::lower_bound(c0, c1, static_cast<int32_t>(c_lo));
        c1 = std::lower_bound(c0, c1, static_cast<int32_t>(c_hi));
      }
      if (c0 == c1) continue;
      float* out = buf + (static_cast<int64_t>(ry.o) * w_out + rx.o) * B;
      const float* base = slab - c_lo * B;
      // two partial sums (even / odd entries of the channel list) halve the add-latency chain when NREG ≤ 8:
      // out + (Σ_even) + (Σ_odd), each in list order (a fixed order: still deterministic, exact for integers)
      constexpr int SETS = NREG <= 8 ? 2 : 1;
      __m256 acc[SETS][NREG];
#pragma GCC unroll 16
      for (int j = 0; j < NREG; ++j) {
        acc[0][j] = _mm256_loadu_ps(out + 8 * j);
        if constexpr (SETS == 2) acc[SETS - 1][j] = _mm256_setzero_ps();
      }
      const int32_t* c = c0;
      auto add = [&](int set, const int32_t* ch) {
        const float* col = base + static_cast<int64_t>(*ch) * B;
        if constexpr (BINARY) {
#pragma GCC unroll 16
          for (int j = 0; j < NREG; ++j) acc[set][j] = _mm256_add_ps(acc[set][j], _mm256_loadu_ps(col + 8 * j));
        } else {
          const __m256 v = _mm256_set1_ps(xf[static_cast<int64_t>(*ch) * plane + pos]);
#pragma GCC unroll 16
          for (int j = 0; j < NREG; ++j)
            acc[set][j] = _mm256_add_ps(acc[set][j], _mm256_mul_ps(v, _mm256_loadu_ps(col + 8 * j)));
        }
      };
      if constexpr (SETS == 2) {
        for (; c + 2 <= c1; c += 2) {
          add(0, c);
          add(1, c + 1);
        }
        if (c != c1) add(0, c);
#pragma GCC unroll 16
        for (int j = 0; j < NREG; ++j) acc[0][j] = _mm256_add_ps(acc[0][j], acc[1][j]);
      } else {
        for (; c != c1; ++c) add(0, c);
      }
#pragma GCC unroll 16
      for (int j = 0; j < NREG; ++j) _mm256_storeu_ps(out + 8 * j, acc[0][j]);
    }
  }
}
#endif

struct Block {
  int64_t g, cb, width, nreg, offset;  // group, first channel in the group, B, AVX registers (0: generic), weight offset
};

struct Geometry {
  int64_t c_in, h, w, plane, c_out, cig, cog, groups, kh, kw, h_out, w_out, positions;
};

template <typename T, bool BINARY>
void run_block(const Geometry& G, const Block& blk, const T* wblk, const T* bp, const T* xf, const int32_t* chans,
               const int32_t* pos_start, const std::vector<std::vector<Link>>& lrows,
               const std::vector<std::vector<Link>>& lcols, T* buf, T* yf) {
  const int64_t B = blk.width, co0 = blk.g * G.cog + blk.cb;
  const int64_t c_lo = G.groups > 1 ? blk.g * G.cig : 0, c_hi = G.groups > 1 ? (blk.g + 1) * G.cig : INT32_MAX;
  for (int64_t p = 0; p < G.positions; ++p) {
    T* out = buf + p * B;
    for (int64_t j = 0; j < B; ++j) out[j] = bp ? bp[co0 + j] : T(0);
  }
  for (int64_t ky = 0; ky < G.kh; ++ky) {
    for (int64_t kx = 0; kx < G.kw; ++kx) {
      const T* slab = wblk + blk.offset + (ky * G.kw + kx) * G.cig * B;
      const auto& lr = lrows[ky];
      const auto& lc = lcols[kx];
#ifdef __AVX2__
      if constexpr (std::is_same_v<T, float>) {
        switch (blk.nreg) {
#define SNNC_CASE(N) \
  case N: tap_avx2<N, BINARY>(slab, xf, chans, pos_start, lr, lc, G.w, G.w_out, G.plane, c_lo, c_hi, buf); continue;
          SNNC_CASE(16) SNNC_CASE(8) SNNC_CASE(4) SNNC_CASE(2) SNNC_CASE(1)
#undef SNNC_CASE
          default: break;
        }
      }
#endif
      tap_generic<T, BINARY>(slab, B, xf, chans, pos_start, lr, lc, G.w, G.w_out, G.plane, c_lo, c_hi, buf);
    }
  }
  for (int64_t p0 = 0; p0 < G.positions; p0 += 32) {  // buf [positions, B] -> y[co0 : co0 + B] (NCHW)
    const int64_t p1 = std::min<int64_t>(G.positions, p0 + 32);
    for (int64_t j = 0; j < B; ++j) {
      T* dst = yf + (co0 + j) * G.positions;
      for (int64_t p = p0; p < p1; ++p) dst[p] = buf[p * B + j];
    }
  }
}

// Output-channel blocks: AVX2 float32 with C_out/groups a multiple of 8 uses B = 8·NREG, the largest block
// whose slab [C_in/groups, B] fits 16 KB (NREG ≤ 16); otherwise one generic block per group.
std::vector<Block> make_blocks(const Geometry& G, bool is_float) {
  int64_t nreg_max = 0;
#ifdef __AVX2__
  if (is_float && G.cog % 8 == 0) {
    nreg_max = 16;
    while (nreg_max > 1 && G.cig * 8 * nreg_max * static_cast<int64_t>(sizeof(float)) > 16 * 1024) nreg_max /= 2;
  }
#endif
  std::vector<Block> blocks;
  int64_t offset = 0;
  for (int64_t g = 0; g < G.groups; ++g) {
    for (int64_t cb = 0; cb < G.cog;) {
      int64_t nreg = nreg_max, width = G.cog - cb;
      if (nreg > 0) {
        while (8 * nreg > G.cog - cb) nreg /= 2;
        width = 8 * nreg;
      }
      blocks.push_back({g, cb, width, nreg, offset});
      offset += G.cig * G.kh * G.kw * width;
      cb += width;
    }
  }
  return blocks;
}

Geometry weight_geometry(const torch::Tensor& weight, int64_t groups) {
  Geometry G{};
  G.c_out = weight.size(0), G.groups = groups, G.cig = weight.size(1), G.cog = G.c_out / groups;
  G.kh = weight.size(2), G.kw = weight.size(3), G.c_in = G.cig * groups;
  return G;
}

}  // namespace

// The blocked weights [block][kh, kw, C_in/groups, B] (flat) from W [C_out, C_in/groups, kh, kw]; computed once
// per layer by the Python side and passed to event_conv2d.
torch::Tensor block_weights(const torch::Tensor& weight, int64_t groups) {
  TORCH_CHECK(weight.dim() == 4 && weight.is_contiguous() && groups >= 1 && weight.size(0) % groups == 0,
              "block_weights: weight must be a contiguous [C_out, C_in/groups, kh, kw] tensor");
  const Geometry G = weight_geometry(weight, groups);
  const auto blocks = make_blocks(G, weight.scalar_type() == torch::kFloat32);
  auto out = torch::empty({weight.numel()}, weight.options());
  AT_DISPATCH_FLOATING_TYPES(weight.scalar_type(), "block_weights", [&] {
    const scalar_t* wp = weight.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    const int64_t taps = G.kh * G.kw;
    for (const Block& blk : blocks)
      for (int64_t j = 0; j < blk.width; ++j)
        for (int64_t cl = 0; cl < G.cig; ++cl)
          for (int64_t t = 0; t < taps; ++t)
            op[blk.offset + (t * G.cig + cl) * blk.width + j] = wp[((blk.g * G.cog + blk.cb + j) * G.cig + cl) * taps + t];
  });
  return out;
}

namespace {

template <typename T>
torch::Tensor run(const torch::Tensor& x, Geometry G, const torch::Tensor& wblocked, const torch::Tensor& bias,
                  const std::vector<int64_t>& stride, const std::vector<int64_t>& pad, const std::vector<int64_t>& dil,
                  int64_t h_out, int64_t w_out, double max_density) {
  G.h = x.size(2), G.w = x.size(3), G.plane = G.h * G.w;
  G.h_out = h_out, G.w_out = w_out, G.positions = h_out * w_out;
  const int64_t frames = x.size(0), frame_in = G.c_in * G.plane;
  const T* xp = x.data_ptr<T>();
  const T* bp = bias.numel() ? bias.data_ptr<T>() : nullptr;

  // pass 1: the active inputs of every frame
  std::vector<FrameEvents> events(frames);
  at::parallel_for(0, frames, 1, [&](int64_t begin, int64_t end) {
    std::vector<int32_t> scratch(G.plane + 8);
    for (int64_t f = begin; f < end; ++f) list_events(xp + f * frame_in, G.c_in, G.plane, scratch, events[f]);
  });
  int64_t active = 0;
  for (const auto& e : events) active += static_cast<int64_t>(e.pos.size());
  if (static_cast<double>(active) > max_density * static_cast<double>(frames * frame_in)) return torch::Tensor();

  // pass 2: tap-major gather per frame
  const std::vector<Block> blocks = make_blocks(G, std::is_same_v<T, float>);
  const T* wblk = wblocked.data_ptr<T>();
  int64_t widest = 0;
  for (const Block& b : blocks) widest = std::max(widest, b.width);
  const auto lrows = links_per_tap(G.h, h_out, G.kh, stride[0], pad[0], dil[0]);
  const auto lcols = links_per_tap(G.w, w_out, G.kw, stride[1], pad[1], dil[1]);
  auto y = torch::empty({frames, G.c_out, h_out, w_out}, x.options());
  T* yp = y.data_ptr<T>();
  // frames are handed out one at a time (a shared counter), so a thread that the OS delays on a busy machine
  // does not hold up the others; which thread computes a frame never changes its result
  std::atomic<int64_t> next_frame{0};
  const int64_t workers = std::min<int64_t>(frames, at::get_num_threads());
  at::parallel_for(0, workers, 1, [&](int64_t, int64_t) {
    std::vector<int32_t> pos_start(G.plane + 1), fill(G.plane), chans;
    std::vector<T> buf(G.positions * widest);
    for (int64_t f = next_frame++; f < frames; f = next_frame++) {
      const FrameEvents& ev = events[f];
      // counting sort by input position; channels stay ascending within a position
      std::fill(pos_start.begin(), pos_start.end(), 0);
      for (const int32_t p : ev.pos) ++pos_start[p + 1];
      for (int64_t q = 0; q < G.plane; ++q) pos_start[q + 1] += pos_start[q];
      std::copy(pos_start.begin(), pos_start.end() - 1, fill.begin());
      chans.resize(ev.pos.size());
      for (int64_t c = 0; c < G.c_in; ++c)
        for (int32_t e = ev.ch_start[c]; e < ev.ch_start[c + 1]; ++e) chans[fill[ev.pos[e]]++] = static_cast<int32_t>(c);
      const T* xf = xp + f * frame_in;
      T* yf = yp + f * G.c_out * G.positions;
      for (const Block& blk : blocks) {
        if (ev.binary) {
          run_block<T, true>(G, blk, wblk, bp, xf, chans.data(), pos_start.data(), lrows, lcols, buf.data(), yf);
        } else {
          run_block<T, false>(G, blk, wblk, bp, xf, chans.data(), pos_start.data(), lrows, lcols, buf.data(), yf);
        }
      }
    }
  });
  return y;
}

}  // namespace

// x [F, C_in, H, W] contiguous; weight [C_out, C_in/groups, kh, kw] (shape and dtype only) and wblocked =
// block_weights(weight, groups); bias [C_out] or empty; one dtype (float32 or float64). Returns y [F, C_out,
// h_out, w_out] (NCHW), or an undefined tensor (None in Python) when more than max_density of x's entries are
// non-zero. pad = leading padding per axis (h_out, w_out fix the trailing one).
torch::Tensor event_conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& wblocked,
                           const torch::Tensor& bias, std::vector<int64_t> stride, std::vector<int64_t> pad,
                           std::vector<int64_t> dil, int64_t groups, int64_t h_out, int64_t w_out, double max_density) {
  TORCH_CHECK(x.dim() == 4 && x.is_contiguous(), "event_conv2d: x must be a contiguous [F, C, H, W] tensor");
  TORCH_CHECK(weight.dim() == 4 && weight.scalar_type() == x.scalar_type(),
              "event_conv2d: weight must be a [C_out, C_in/groups, kh, kw] tensor of x's dtype");
  TORCH_CHECK(groups >= 1 && weight.size(0) % groups == 0 && weight.size(1) * groups == x.size(1),
              "event_conv2d: channel counts do not match groups");
  TORCH_CHECK(wblocked.dim() == 1 && wblocked.numel() == weight.numel() && wblocked.is_contiguous() &&
                  wblocked.scalar_type() == x.scalar_type(),
              "event_conv2d: wblocked must be block_weights(weight, groups)");
  TORCH_CHECK(bias.numel() == 0 || (bias.numel() == weight.size(0) && bias.scalar_type() == x.scalar_type() &&
                                    bias.is_contiguous()),
              "event_conv2d: bias must be empty or C_out contiguous entries of x's dtype");
  TORCH_CHECK(stride.size() == 2 && pad.size() == 2 && dil.size() == 2, "event_conv2d: stride/pad/dil need 2 values");
  TORCH_CHECK(h_out >= 0 && w_out >= 0 && x.size(2) * x.size(3) < (int64_t(1) << 31), "event_conv2d: bad sizes");
  const Geometry G = weight_geometry(weight, groups);
  if (x.scalar_type() == torch::kFloat64) {
    return run<double>(x, G, wblocked, bias, stride, pad, dil, h_out, w_out, max_density);
  }
  TORCH_CHECK(x.scalar_type() == torch::kFloat32, "event_conv2d: float32 or float64 only");
  return run<float>(x, G, wblocked, bias, stride, pad, dil, h_out, w_out, max_density);
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("event_conv2d", &event_conv2d, "event-driven conv2d over sparse (spike) frames; see event_conv.cpp");
  m.def("block_weights", &block_weights, "weights laid out for event_conv2d");
}
