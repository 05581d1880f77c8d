// Fused LIF / IF / LI loop over all T steps (snnc CPU simulator; Python side: backends/cpu/lif_loop.py).
//
// z [N, T, M] (M = neurons per sample, contiguous) is a population's input current. Starting from v = 0, per
// step t and neuron, exactly the float operations of FloatNeuron.step (backends/cpu/neurons.py), in its order:
//
//   d = g · x                  (g = 1 when the neuron has no gain: 1 · x == x exactly)
//   v = β · v;  v = v + d      (IF: β = 1, and v·1 + d == d + v exactly: IEEE addition is commutative)
//   v = v + leak               (only when the neuron has a leak: v + 0 would turn −0 into +0)
//   s = v ≥ θ  (">=")  or  v > θ  (">")
//   reset "zero": v = v_reset where s;  "subtract": v = v − θ where s
//   spikes[n, t] = s ? 1 : 0;  volts[n, t] = v (after the reset)
//
// Each operation is one IEEE-rounded float (or double) operation; the build uses -ffp-contract=off (no fused
// multiply-add) and no -ffast-math, so the results are bit-identical to torch's elementwise ops. Every neuron
// is independent: the work is split over (sample, block of neurons) with at::parallel_for, and any thread
// count gives the same bits. A block's state v stays in L1 over the T steps. Spikes may be written into z
// itself (in place): step t reads z[n, t, block] completely before its spikes are stored there.

#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace {

constexpr int64_t BLOCK = 512;  // neurons per work item (state + parameters stay in L1)

template <typename T>
struct Params {
  const T* beta;  // each: 1 entry (all neurons equal) or M entries (per neuron)
  const T* gain;
  const T* leak;  // nullptr: no leak
  const T* th;    // nullptr: not spiking (LI)
  const T* vr;
  bool beta_all, gain_all, leak_all, th_all, vr_all;  // true: per-neuron arrays
};

template <typename T>
void fill_block(T* dst, const T* src, bool per_neuron, int64_t m0, int64_t len) {
  if (per_neuron) {
    std::memcpy(dst, src + m0, sizeof(T) * len);
  } else {
    std::fill(dst, dst + len, src[0]);
  }
}

// One step of one block: x (the step's input currents), v (state, updated), s (spikes 0/1 out).
template <typename T, bool LEAK, bool SPIKING, bool GE, bool SUBTRACT>
void step_block(const T* __restrict__ x, T* __restrict__ v, T* __restrict__ s, const T* __restrict__ b,
                const T* __restrict__ g, const T* __restrict__ l, const T* __restrict__ th,
                const T* __restrict__ vr, int64_t len) {
  for (int64_t i = 0; i < len; ++i) {
    const T d = g[i] * x[i];
    T u = v[i] * b[i];
    u = u + d;
    if constexpr (LEAK) u = u + l[i];
    if constexpr (SPIKING) {
      const bool fire = GE ? (u >= th[i]) : (u > th[i]);
      if constexpr (SUBTRACT) {
        u = fire ? static_cast<T>(u - th[i]) : u;
      } else {
        u = fire ? vr[i] : u;
      }
      s[i] = fire ? T(1) : T(0);
    }
    v[i] = u;
  }
}

template <typename T, bool LEAK, bool SPIKING, bool GE, bool SUBTRACT>
void run_typed(const T* zp, T* outp, T* voltp, int64_t N, int64_t steps, int64_t M, const Params<T>& P) {
  const int64_t nblocks = (M + BLOCK - 1) / BLOCK;
  at::parallel_for(0, N * nblocks, 1, [&](int64_t begin, int64_t end) {
    alignas(64) T v[BLOCK], s[BLOCK], b[BLOCK], g[BLOCK], l[BLOCK], th[BLOCK], vr[BLOCK];
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n = item / nblocks, m0 = (item % nblocks) * BLOCK, len = std::min(BLOCK, M - m0);
      fill_block(b, P.beta, P.beta_all, m0, len);
      fill_block(g, P.gain, P.gain_all, m0, len);
      if (LEAK) fill_block(l, P.leak, P.leak_all, m0, len);
      if (SPIKING) {
        fill_block(th, P.th, P.th_all, m0, len);
        fill_block(vr, P.vr, P.vr_all, m0, len);
      }
      std::fill(v, v + len, T(0));
      for (int64_t t = 0; t < steps; ++t) {
        const int64_t row = (n * steps + t) * M + m0;
        step_block<T, LEAK, SPIKING, GE, SUBTRACT>(zp + row, v, s, b, g, l, th, vr, len);
        if (SPIKING && outp) std::memcpy(outp + row, s, sizeof(T) * len);
        if (voltp) std::memcpy(voltp + row, v, sizeof(T) * len);
      }
    }
  });
}

template <typename T, bool LEAK>
void dispatch_reset(const T* zp, T* outp, T* voltp, int64_t N, int64_t steps, int64_t M, const Params<T>& P,
                    bool ge, bool subtract) {
  if (!P.th) return run_typed<T, LEAK, false, false, false>(zp, outp, voltp, N, steps, M, P);
  if (ge && subtract) return run_typed<T, LEAK, true, true, true>(zp, outp, voltp, N, steps, M, P);
  if (ge) return run_typed<T, LEAK, true, true, false>(zp, outp, voltp, N, steps, M, P);
  if (subtract) return run_typed<T, LEAK, true, false, true>(zp, outp, voltp, N, steps, M, P);
  return run_typed<T, LEAK, true, false, false>(zp, outp, voltp, N, steps, M, P);
}

const void* param_ptr(const torch::Tensor& p, const torch::Tensor& z, int64_t M, bool* per_neuron, const char* what) {
  if (!p.defined() || p.numel() == 0) return nullptr;
  TORCH_CHECK(p.scalar_type() == z.scalar_type() && p.is_contiguous() && (p.numel() == 1 || p.numel() == M),
              "lif_loop: ", what, " must be 1 or M contiguous entries of z's dtype");
  *per_neuron = p.numel() != 1 || M == 1;
  return p.data_ptr();
}

}  // namespace

// z [N, T, M] contiguous float32/float64; out (spikes, may be z itself) and volts: [N, T, M] of z's dtype or
// empty (not written). beta, gain: 1 or M entries; leak: empty (none) or 1 or M; v_th, v_reset: empty for a
// non-spiking population (LI), else 1 or M. ge: threshold ">=" (else ">"); subtract: reset "subtract" (else
// "zero", to v_reset).
void lif_loop(const torch::Tensor& z, const torch::Tensor& out, const torch::Tensor& volts, const torch::Tensor& beta,
              const torch::Tensor& gain, const torch::Tensor& leak, const torch::Tensor& v_th,
              const torch::Tensor& v_reset, bool ge, bool subtract) {
  TORCH_CHECK(z.dim() == 3 && z.is_contiguous(), "lif_loop: z must be a contiguous [N, T, M] tensor");
  TORCH_CHECK(z.scalar_type() == torch::kFloat32 || z.scalar_type() == torch::kFloat64,
              "lif_loop: float32 or float64 only");
  const int64_t N = z.size(0), steps = z.size(1), M = z.size(2);
  for (const torch::Tensor* o : {&out, &volts}) {
    TORCH_CHECK(o->numel() == 0 || (o->sizes() == z.sizes() && o->is_contiguous() && o->scalar_type() == z.scalar_type()),
                "lif_loop: out / volts must be empty or contiguous like z");
  }
  TORCH_CHECK(beta.numel() >= 1 && gain.numel() >= 1, "lif_loop: beta and gain are required");
  TORCH_CHECK((v_th.numel() == 0) == (v_reset.numel() == 0), "lif_loop: give both v_th and v_reset or neither");
  if (z.numel() == 0) return;
  AT_DISPATCH_FLOATING_TYPES(z.scalar_type(), "lif_loop", [&] {
    Params<scalar_t> P{};
    P.beta = static_cast<const scalar_t*>(param_ptr(beta, z, M, &P.beta_all, "beta"));
    P.gain = static_cast<const scalar_t*>(param_ptr(gain, z, M, &P.gain_all, "gain"));
    P.leak = static_cast<const scalar_t*>(param_ptr(leak, z, M, &P.leak_all, "leak"));
    P.th = static_cast<const scalar_t*>(param_ptr(v_th, z, M, &P.th_all, "v_th"));
    P.vr = static_cast<const scalar_t*>(param_ptr(v_reset, z, M, &P.vr_all, "v_reset"));
    const scalar_t* zp = z.data_ptr<scalar_t>();
    scalar_t* outp = out.numel() ? out.data_ptr<scalar_t>() : nullptr;
    scalar_t* voltp = volts.numel() ? volts.data_ptr<scalar_t>() : nullptr;
    if (P.leak) {
      dispatch_reset<scalar_t, true>(zp, outp, voltp, N, steps, M, P, ge, subtract);
    } else {
      dispatch_reset<scalar_t, false>(zp, outp, voltp, N, steps, M, P, ge, subtract);
    }
  });
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("lif_loop", &lif_loop, "fused LIF/IF/LI loop over all T steps; see lif_loop.cpp");
}
