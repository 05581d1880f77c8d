// Event-driven weight gradient of a conv2d whose input is mostly zero (spikes) (Python side:
// models/spike_conv.py).
//
// For y = conv2d(x, W) (groups 1, no bias here) and the output gradient g = dL/dy,
//
//   dW[co, ci, ky, kx] = Σ_f Σ_{(iy, ix): x[f, ci, iy, ix] ≠ 0} x[f, ci, iy, ix] · g[f, co, oy, ox],
//   oy = (iy + p_y − ky·d_y) / s_y,  ox = (ix + p_x − kx·d_x) / s_x  (integers inside the output),
//
// which is dense conv2d_weight's sum with the zero inputs left out: density × its work. Binary frames (every
// active value 1) add g itself, other frames add x · g (one rounded product, then the add).
//
// Pass 1 (parallel over frames) lists each frame's active inputs channel by channel, positions ascending. If
// more than max_density of all inputs are active it returns an undefined tensor at once (the caller runs the
// dense gradient). Pass 2 splits the frames into CHUNKS consecutive ranges (a number fixed by the frame count,
// never by the thread count); each chunk sums into its own partial P[ky·kx, ci, co]. Per frame and block of
// 64 output channels, g[f, block] is transposed into gT[position, 64] (256 KB at 32×32: stays in L2), and
// for every input channel and tap the 64 sums are held in 8 AVX registers while the channel's events add
// their gT rows. The chunks' partials are then added in chunk order. So every dW entry is a sum in an order
// fixed by the shapes and the data (frames ascending, positions ascending within a frame, chunks in order):
// bit-identical run to run and for any thread count. It is another order than mkldnn's dense sum, so dW
// agrees with autograd's to float32 rounding (tests/models/test_spike_conv_grad.py states the tolerance).

#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>
#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace {

constexpr int64_t CO_BLOCK = 64;  // output channels per pass over a frame's events: 8 AVX registers
constexpr int64_t CHUNKS = 16;    // frame ranges summed separately, then in order (not tied to threads)

struct Events {
  std::vector<int32_t> pos;       // input positions iy·W + ix, channel by channel, ascending
  std::vector<float> val;         // their values (empty when the frame is binary)
  std::vector<int32_t> ch_start;  // events of channel c: pos[ch_start[c] : ch_start[c + 1]]
};

void list_events(const float* x, int64_t channels, int64_t plane, Events& ev) {
  ev.pos.clear();
  ev.val.clear();
  ev.ch_start.assign(channels + 1, 0);
  bool binary = true;
  for (int64_t c = 0; c < channels; ++c) {
    const float* xc = x + c * plane;
    for (int64_t i = 0; i < plane; ++i) {
      const float v = xc[i];
      if (v != 0.0f) {
        ev.pos.push_back(static_cast<int32_t>(i));
        ev.val.push_back(v);
        binary = binary && v == 1.0f;
      }
    }
    ev.ch_start[c + 1] = static_cast<int32_t>(ev.pos.size());
  }
  if (binary) ev.val.clear();
}

struct Geometry {
  int64_t c_in, h, w, c_out, h_out, w_out, kh, kw, sy, sx, py, px, dy, dx;
};

// rows[ky·H + iy] (cols[kx·W + ix]): the output row (column) tap ky (kx) joins input row iy (column ix) to, or
// -1 when it falls between strides or outside the output.
std::vector<int32_t> axis_map(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, int64_t d) {
  std::vector<int32_t> map(k * in, -1);
  for (int64_t kk = 0; kk < k; ++kk) {
    for (int64_t o = 0; o < out; ++o) {
      const int64_t i = o * s - p + kk * d;
      if (i >= 0 && i < in) map[kk * in + i] = static_cast<int32_t>(o);
    }
  }
  return map;
}

// acc[0:B] += (v_e ·) gT[o_e, 0:B] over the events e in [e0, e1) of one channel whose output at this tap is
// o_e ≥ 0; on AVX2 the 64 sums stay in 8 registers (loads only: stores are the scarce port on this CPU).
template <bool BINARY>
void add_rows(const int32_t* __restrict__ outs, const float* __restrict__ vals, int32_t e0, int32_t e1,
              const float* __restrict__ gT, int64_t B, float* __restrict__ acc) {
#ifdef __AVX2__
  if (B == CO_BLOCK) {
    __m256 a[8];
    for (int j = 0; j < 8; ++j) a[j] = _mm256_loadu_ps(acc + 8 * j);
    for (int32_t e = e0; e < e1; ++e) {
      const int32_t o = outs[e];
      if (o < 0) continue;
      const float* row = gT + static_cast<int64_t>(o) * B;
      if constexpr (BINARY) {
        for (int j = 0; j < 8; ++j) a[j] = _mm256_add_ps(a[j], _mm256_loadu_ps(row + 8 * j));
      } else {
        const __m256 v = _mm256_set1_ps(vals[e]);
        for (int j = 0; j < 8; ++j) a[j] = _mm256_add_ps(a[j], _mm256_mul_ps(v, _mm256_loadu_ps(row + 8 * j)));
      }
    }
    for (int j = 0; j < 8; ++j) _mm256_storeu_ps(acc + 8 * j, a[j]);
    return;
  }
#endif
  for (int32_t e = e0; e < e1; ++e) {
    const int32_t o = outs[e];
    if (o < 0) continue;
    const float* row = gT + static_cast<int64_t>(o) * B;
    if constexpr (BINARY) {
      for (int64_t j = 0; j < B; ++j) acc[j] += row[j];
    } else {
      const float v = vals[e];
      for (int64_t j = 0; j < B; ++j) acc[j] += v * row[j];
    }
  }
}

struct Scratch {
  std::vector<float> gT;     // [positions, CO_BLOCK]
  std::vector<int32_t> out;  // [tap, event]: the event's output position at the tap, or -1
};

// One frame into the partial P [kh·kw, c_in, c_out]: per channel and tap, the channel's events in ascending
// position order.
void frame_into(const Geometry& G, const std::vector<int32_t>& rows, const std::vector<int32_t>& cols,
                const Events& ev, const float* gf, Scratch& s, float* P) {
  const int64_t positions = G.h_out * G.w_out, taps = G.kh * G.kw, n = static_cast<int64_t>(ev.pos.size());
  if (n == 0) return;
  s.out.resize(taps * n);
  for (int64_t e = 0; e < n; ++e) {
    const int64_t iy = ev.pos[e] / G.w, ix = ev.pos[e] % G.w;
    for (int64_t ky = 0; ky < G.kh; ++ky) {
      const int32_t oy = rows[ky * G.h + iy];
      for (int64_t kx = 0; kx < G.kw; ++kx) {
        const int32_t ox = cols[kx * G.w + ix];
        s.out[(ky * G.kw + kx) * n + e] = (oy < 0 || ox < 0) ? -1 : static_cast<int32_t>(oy * G.w_out + ox);
      }
    }
  }
  const float* vals = ev.val.empty() ? nullptr : ev.val.data();
  for (int64_t co0 = 0; co0 < G.c_out; co0 += CO_BLOCK) {
    const int64_t B = std::min(CO_BLOCK, G.c_out - co0);
    for (int64_t p0 = 0; p0 < positions; p0 += 16) {  // gT[position, j] = g[f, co0 + j, position]
      const int64_t p1 = std::min(positions, p0 + 16);
      for (int64_t j = 0; j < B; ++j) {
        const float* src = gf + (co0 + j) * positions;
        for (int64_t p = p0; p < p1; ++p) s.gT[p * B + j] = src[p];
      }
    }
    for (int64_t tap = 0; tap < taps; ++tap) {
      const int32_t* outs = s.out.data() + tap * n;
      float* slab = P + tap * G.c_in * G.c_out + co0;
      for (int64_t c = 0; c < G.c_in; ++c) {
        const int32_t e0 = ev.ch_start[c], e1 = ev.ch_start[c + 1];
        if (e0 == e1) continue;
        if (vals == nullptr) {
          add_rows<true>(outs, vals, e0, e1, s.gT.data(), B, slab + c * G.c_out);
        } else {
          add_rows<false>(outs, vals, e0, e1, s.gT.data(), B, slab + c * G.c_out);
        }
      }
    }
  }
}

}  // namespace

// x [F, C_in, H, W] and g [F, C_out, H_out, W_out], contiguous float32; groups 1. Returns dW [C_out, C_in, kh,
// kw], or an undefined tensor (None in Python) when more than max_density of x's entries are non-zero.
torch::Tensor weight_grad(const torch::Tensor& x, const torch::Tensor& g, int64_t kh, int64_t kw,
                          std::vector<int64_t> stride, std::vector<int64_t> pad, std::vector<int64_t> dil,
                          double max_density) {
  TORCH_CHECK(x.dim() == 4 && x.is_contiguous() && x.scalar_type() == torch::kFloat32,
              "weight_grad: x must be a contiguous float32 [F, C, H, W] tensor");
  TORCH_CHECK(g.dim() == 4 && g.is_contiguous() && g.scalar_type() == torch::kFloat32 && g.size(0) == x.size(0),
              "weight_grad: g must be a contiguous float32 [F, C_out, H_out, W_out] tensor of x's frames");
  TORCH_CHECK(stride.size() == 2 && pad.size() == 2 && dil.size() == 2 && stride[0] > 0 && stride[1] > 0,
              "weight_grad: stride/pad/dil need 2 values, strides positive");
  Geometry G{x.size(1), x.size(2), x.size(3), g.size(1), g.size(2), g.size(3), kh, kw,
             stride[0], stride[1], pad[0], pad[1], dil[0], dil[1]};
  TORCH_CHECK(G.h * G.w < (int64_t(1) << 31), "weight_grad: frame too large");
  const int64_t frames = x.size(0), plane = G.h * G.w, taps = kh * kw, wsize = G.c_in * taps * G.c_out;
  const float* xp = x.data_ptr<float>();
  const float* gp = g.data_ptr<float>();

  std::vector<Events> events(frames);
  at::parallel_for(0, frames, 1, [&](int64_t begin, int64_t end) {
    for (int64_t f = begin; f < end; ++f) list_events(xp + f * G.c_in * plane, G.c_in, plane, events[f]);
  });
  int64_t active = 0;
  for (const auto& e : events) active += static_cast<int64_t>(e.pos.size());
  if (static_cast<double>(active) > max_density * static_cast<double>(frames * G.c_in * plane)) return torch::Tensor();

  const int64_t chunks = std::max<int64_t>(1, std::min(CHUNKS, frames));
  std::vector<float> partial(chunks * wsize, 0.0f);
  const auto rows = axis_map(G.h, G.h_out, kh, G.sy, G.py, G.dy);
  const auto cols = axis_map(G.w, G.w_out, kw, G.sx, G.px, G.dx);
  std::atomic<int64_t> next{0};
  const int64_t workers = std::min<int64_t>(chunks, at::get_num_threads());
  at::parallel_for(0, workers, 1, [&](int64_t, int64_t) {
    Scratch s;
    s.gT.resize(G.h_out * G.w_out * CO_BLOCK);
    for (int64_t k = next++; k < chunks; k = next++) {
      const int64_t f0 = frames * k / chunks, f1 = frames * (k + 1) / chunks;
      for (int64_t f = f0; f < f1; ++f)
        frame_into(G, rows, cols, events[f], gp + f * G.c_out * G.h_out * G.w_out, s, partial.data() + k * wsize);
    }
  });

  // dW[co, ci, tap] = Σ_k partial[k][tap, ci, co], chunks in order
  auto dw = torch::empty({G.c_out, G.c_in, kh, kw}, x.options());
  float* out = dw.data_ptr<float>();
  at::parallel_for(0, taps * G.c_in, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t tap = r / G.c_in, ci = r % G.c_in;
      for (int64_t co = 0; co < G.c_out; ++co) {
        float sum = partial[r * G.c_out + co];
        for (int64_t k = 1; k < chunks; ++k) sum += partial[k * wsize + r * G.c_out + co];
        out[(co * G.c_in + ci) * taps + tap] = sum;
      }
    }
  });
  return dw;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("weight_grad", &weight_grad, "event-driven conv2d weight gradient over sparse (spike) frames");
}
