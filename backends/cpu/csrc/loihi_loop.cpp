// Lava's bit-accurate fixed-point LIF over all T steps (snnc CPU simulator; Python side:
// backends/cpu/loihi_loop.py). The spec is snnc.compiler.fixed_point.lif_step, called per step by
// LoihiNeuron.step (backends/cpu/neurons.py); this loop does the same integer operations in the same order:
//
//   a = round_half_even(a_in)                       (torch.round, then int64)
//   u = decay(u, 4096 − (du + 1))                   decay(x, f) = sign(x·f) · (|x·f| >> 12)
//   u = wrap32(u + wrap32(a << 6))
//   u = u − 2^24 if u > 2^23;  u = u + 2^24 if u ≤ −2^23
//   v = decay(v, 4096 − dv)
//   v = wrap32(v + u + bias)                        bias = effective_bias(bias_mant, bias_exp), from Python
//   v = clip(v, −2^23 + 1, 2^23 − 1)
//   s = v > (vth << 6);  v = 0 where s
//
// wrap32 is the two's-complement wrap into int32 (NumPy's int32 overflow); the int64 additions and the shift
// wrap modulo 2^64 as NumPy's int64 do (done in uint64 here, where wrapping is defined). Integers only: the
// results are the same whatever the thread count. Work is split over (sample, block of neurons).
//
// Small blocks in doubles. When a block's rounded inputs satisfy |a| <= 2^18 at every step and its biases
// |bias| < 2^31 - 2^24, no wrap can happen, by induction from u = v = 0: |u| <= 2^23 after the 24-bit step
// (|decay(u)| <= |u| and |a << 6| <= 2^24, so u + (a << 6) lies within ±3·2^23, one correction brings it into
// [-2^23, 2^23]), and |decay(v) + u + bias| < 2^23 + 2^23 + 2^31 - 2^24 = 2^31. Every value is then an integer
// below 2^36 in magnitude, exact in a double: x·f is exact, /4096 is exact, trunc is the shift of the magnitude
// with the sign kept. Such blocks run the same operations four neurons at a time in AVX2 doubles (blocks that
// fail the bounds, and CPUs without AVX2, run the integer loop); signed zeros are normalised (x + 0.0), so the
// stored doubles are the integer loop's bit for bit (tests/backends/cpu/test_cpu_loihi_loop.py).

#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace {

constexpr int64_t BLOCK = 512;
constexpr int64_t UV_MAX = int64_t(1) << 23;

inline int64_t wrap_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

inline int64_t wrap32(int64_t x) {
  return static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(x))));
}

inline int64_t decay(int64_t x, int64_t factor) {
  const int64_t p = x * factor;  // |x| < 2^31 after wrap32, factor ≤ 4096: no overflow
  const int64_t mag = (p < 0 ? -p : p) >> 12;
  return p < 0 ? -mag : mag;
}

constexpr double SMALL_A = double(int64_t(1) << 18);
constexpr double SMALL_BIAS = double((int64_t(1) << 31) - (int64_t(1) << 24));

#if defined(__AVX2__)
// One block of len neurons over all steps in doubles (see the header); false, touching nothing, when the
// block's inputs or biases exceed the bounds.
bool small_block(const double* ap, double* outp, double* voltp, const int64_t* b, int64_t len, int64_t steps,
                 int64_t M, int64_t row0, int64_t fu, int64_t fv, int64_t theta) {
  if (len % 4 != 0 || theta >= (int64_t(1) << 52) || theta <= -(int64_t(1) << 52)) return false;
  for (int64_t i = 0; i < len; ++i) {
    if (!(std::fabs(static_cast<double>(b[i])) < SMALL_BIAS)) return false;
  }
  const __m256d limit = _mm256_set1_pd(SMALL_A);
  const __m256d sign = _mm256_set1_pd(-0.0);
  for (int64_t t = 0; t < steps; ++t) {
    const double* row = ap + row0 + t * M;
    for (int64_t i = 0; i < len; i += 4) {
      const __m256d a = _mm256_round_pd(_mm256_loadu_pd(row + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      // |a| <= 2^18, false for NaN
      if (_mm256_movemask_pd(_mm256_cmp_pd(_mm256_andnot_pd(sign, a), limit, _CMP_LE_OQ)) != 0xF) return false;
    }
  }
  alignas(32) double u[BLOCK], v[BLOCK], bd[BLOCK];
  for (int64_t i = 0; i < len; ++i) {
    u[i] = 0.0;
    v[i] = 0.0;
    bd[i] = static_cast<double>(b[i]);
  }
  const __m256d vfu = _mm256_set1_pd(static_cast<double>(fu)), vfv = _mm256_set1_pd(static_cast<double>(fv));
  const __m256d inv = _mm256_set1_pd(1.0 / 4096.0), sixty4 = _mm256_set1_pd(64.0);
  const __m256d uv = _mm256_set1_pd(static_cast<double>(UV_MAX)), neg_uv = _mm256_set1_pd(-static_cast<double>(UV_MAX));
  const __m256d two24 = _mm256_set1_pd(static_cast<double>(2 * UV_MAX));
  const __m256d vlo = _mm256_set1_pd(static_cast<double>(-UV_MAX + 1)), vhi = _mm256_set1_pd(static_cast<double>(UV_MAX - 1));
  const __m256d th = _mm256_set1_pd(static_cast<double>(theta)), one = _mm256_set1_pd(1.0), zero = _mm256_setzero_pd();
  constexpr int TRUNC = _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC;
  for (int64_t t = 0; t < steps; ++t) {
    const int64_t row = row0 + t * M;
    for (int64_t i = 0; i < len; i += 4) {
      const __m256d a = _mm256_round_pd(_mm256_loadu_pd(ap + row + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      __m256d uu = _mm256_round_pd(_mm256_mul_pd(_mm256_mul_pd(_mm256_load_pd(u + i), vfu), inv), TRUNC);
      uu = _mm256_add_pd(uu, _mm256_mul_pd(a, sixty4));
      uu = _mm256_blendv_pd(uu, _mm256_sub_pd(uu, two24), _mm256_cmp_pd(uu, uv, _CMP_GT_OQ));
      uu = _mm256_blendv_pd(uu, _mm256_add_pd(uu, two24), _mm256_cmp_pd(uu, neg_uv, _CMP_LE_OQ));
      uu = _mm256_add_pd(uu, zero);  // -0 -> +0
      __m256d vv = _mm256_round_pd(_mm256_mul_pd(_mm256_mul_pd(_mm256_load_pd(v + i), vfv), inv), TRUNC);
      vv = _mm256_add_pd(_mm256_add_pd(vv, uu), _mm256_load_pd(bd + i));
      vv = _mm256_min_pd(_mm256_max_pd(vv, vlo), vhi);
      const __m256d fire = _mm256_cmp_pd(vv, th, _CMP_GT_OQ);
      vv = _mm256_add_pd(_mm256_andnot_pd(fire, vv), zero);
      _mm256_store_pd(u + i, uu);
      _mm256_store_pd(v + i, vv);
      if (outp) _mm256_storeu_pd(outp + row + i, _mm256_and_pd(fire, one));
      if (voltp) _mm256_storeu_pd(voltp + row + i, vv);
    }
  }
  return true;
}
#endif

}  // namespace

// a_in [N, T, M] contiguous float64 (integer-valued input currents); out (spikes 0/1) and volts (v after
// the reset) [N, T, M] float64 or empty (not written); bias: int64, 1 or M entries. du, dv, vth: Lava's
// integer parameters. u and v start at 0.
int64_t loihi_loop(const torch::Tensor& a_in, const torch::Tensor& out, const torch::Tensor& volts,
                const torch::Tensor& bias, int64_t du, int64_t dv, int64_t vth) {
  TORCH_CHECK(a_in.dim() == 3 && a_in.is_contiguous() && a_in.scalar_type() == torch::kFloat64,
              "loihi_loop: a_in must be a contiguous float64 [N, T, M] tensor");
  for (const torch::Tensor* o : {&out, &volts}) {
    TORCH_CHECK(o->numel() == 0 || (o->sizes() == a_in.sizes() && o->is_contiguous() &&
                                    o->scalar_type() == torch::kFloat64),
                "loihi_loop: out / volts must be empty or contiguous float64 like a_in");
  }
  const int64_t N = a_in.size(0), steps = a_in.size(1), M = a_in.size(2);
  TORCH_CHECK(bias.scalar_type() == torch::kInt64 && bias.is_contiguous() && (bias.numel() == 1 || bias.numel() == M),
              "loihi_loop: bias must be 1 or M contiguous int64 entries");
  if (a_in.numel() == 0) return 0;
  const double* ap = a_in.data_ptr<double>();
  double* outp = out.numel() ? out.data_ptr<double>() : nullptr;
  double* voltp = volts.numel() ? volts.data_ptr<double>() : nullptr;
  const int64_t* bp = bias.data_ptr<int64_t>();
  const bool per_neuron = bias.numel() != 1 || M == 1;
  const int64_t fu = 4096 - (du + 1), fv = 4096 - dv;
  const int64_t theta = static_cast<int64_t>(static_cast<uint64_t>(vth) << 6);
  const int64_t nblocks = (M + BLOCK - 1) / BLOCK;
  std::atomic<int64_t> small{0};
  at::parallel_for(0, N * nblocks, 1, [&](int64_t begin, int64_t end) {
    int64_t u[BLOCK], v[BLOCK], b[BLOCK];
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n = item / nblocks, m0 = (item % nblocks) * BLOCK, len = std::min(BLOCK, M - m0);
      for (int64_t i = 0; i < len; ++i) b[i] = per_neuron ? bp[m0 + i] : bp[0];
#if defined(__AVX2__)
      if (small_block(ap, outp, voltp, b, len, steps, M, n * steps * M + m0, fu, fv, theta)) {
        small.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
#endif
      std::fill(u, u + len, int64_t(0));
      std::fill(v, v + len, int64_t(0));
      for (int64_t t = 0; t < steps; ++t) {
        const int64_t row = (n * steps + t) * M + m0;
        for (int64_t i = 0; i < len; ++i) {
          const int64_t a = static_cast<int64_t>(std::nearbyint(ap[row + i]));
          int64_t uu = decay(u[i], fu);
          uu = wrap32(uu + wrap32(static_cast<int64_t>(static_cast<uint64_t>(a) << 6)));
          if (uu > UV_MAX) uu -= 2 * UV_MAX;
          if (uu <= -UV_MAX) uu += 2 * UV_MAX;
          int64_t vv = decay(v[i], fv);
          vv = wrap32(wrap_add(wrap_add(vv, uu), b[i]));
          vv = std::clamp(vv, -UV_MAX + 1, UV_MAX - 1);
          const bool fire = vv > theta;
          if (fire) vv = 0;
          u[i] = uu;
          v[i] = vv;
          if (outp) outp[row + i] = fire ? 1.0 : 0.0;
          if (voltp) voltp[row + i] = static_cast<double>(vv);
        }
      }
    }
  });
  return small.load();
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("loihi_loop", &loihi_loop,
        "Lava's fixed-point LIF over all T steps; returns how many blocks ran in doubles; see loihi_loop.cpp");
}
