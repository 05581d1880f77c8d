// Fused LIF forward and backward over all T steps for training (Python side: models/fused_lif.py).
//
// x [N, T, M] float32 (M = neurons per sample) is a layer's input current. Per neuron, from v = 0, the forward
// does exactly the float32 operations of models/lif.py's LIF.forward, in its order:
//
//   u_t = beta * v_{t-1};  u_t = u_t + (gain * x_t  or  x_t when there is no gain)
//   s_t = u_t >= v_th ? 1 : 0;   v_t = u_t * (1 - s_t)
//
// and keeps u_t (the pre-reset voltage) for the backward. The backward is the chain rule of that loop with the
// rectangular surrogate dS/dU = [|U - v_th| < a] / (2a), written as the same float32 operations autograd runs
// on the step-by-step graph (torch's MulBackward0, RsubBackward1, RectSpike.backward, AddBackward0):
//
//   t = T-1 (v_{T-1} is not used):  gS = gs_t
//   t <  T-1:                       gS = gs_t + (-(gv' * u_t))          gv' = grad of v_t (from step t+1)
//   gU  = (gS * [|u_t - v_th| < a]) / (2a)
//   gv  = gU  (t = T-1),  or  gv' * (1 - s_t) + gU  (t < T-1)
//   gx_t = gv (no gain)  or  gv * gain;      gv' <- gv * beta  (for step t-1)
//   gx_t = gx_t + 0   (T > 1: autograd sums the gradients of the T selections x[:, t], each zero outside its
//                      step; adding +0 only turns -0 into +0, as that sum does)
//
// Each line is one IEEE-rounded float32 operation (built with -ffp-contract=off, no fast math); sums of two
// terms are exact whatever autograd's accumulation order (IEEE addition is commutative), so the gradients are
// bit-identical to autograd's (tested in tests/models/test_fused_lif_grad.py). Every neuron is independent: the
// work is split over (sample, block of neurons) with at::parallel_for, so any thread count gives the same bits.

#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace {

constexpr int64_t BLOCK = 512;  // neurons per work item: a block's state stays in L1 over the T steps

struct Coeffs {
  float beta, gain, th, a, two_a;
  bool has_gain;
  bool sum_zeros;  // T > 1: gx_t = gx_t + 0 (turns -0 into +0; identity otherwise)
};

template <bool GAIN, bool KEEP>
void forward_block(const float* __restrict__ x, float* __restrict__ s, float* __restrict__ u_out,
                   float* __restrict__ v, const Coeffs& c, int64_t len) {
  for (int64_t i = 0; i < len; ++i) {
    float u = c.beta * v[i];
    const float d = GAIN ? c.gain * x[i] : x[i];
    u = u + d;
    const float spike = u >= c.th ? 1.0f : 0.0f;
    s[i] = spike;
    if (KEEP) u_out[i] = u;
    const float keep = 1.0f - spike;
    v[i] = u * keep;
  }
}

template <bool GAIN, bool LAST>
void backward_block(const float* __restrict__ gs, const float* __restrict__ u, const float* __restrict__ s,
                    float* __restrict__ gx, float* __restrict__ gvp, const Coeffs& c, int64_t len) {
  for (int64_t i = 0; i < len; ++i) {
    float g_spike = gs[i];
    if (!LAST) {
      const float g_keep = gvp[i] * u[i];
      g_spike = g_spike + (-g_keep);
    }
    const float window = std::fabs(u[i] - c.th) < c.a ? 1.0f : 0.0f;
    const float g_u = (g_spike * window) / c.two_a;
    float g_v = g_u;
    if (!LAST) {
      const float keep = 1.0f - s[i];
      g_v = gvp[i] * keep + g_u;
    }
    const float g_x = GAIN ? g_v * c.gain : g_v;
    gx[i] = c.sum_zeros ? g_x + 0.0f : g_x;  // autograd adds the +0 of the other steps' x[:, t] gradients
    gvp[i] = g_v * c.beta;
  }
}

// Calls step(n, m0, len, state) for every sample n and block of len <= BLOCK neurons from m0, with state[0, len)
// zeroed first: the per-neuron carry (v forward, gv' backward) lives in a per-thread buffer.
template <class Step>
void over_blocks(int64_t N, int64_t M, const Step& step) {
  const int64_t nblocks = (M + BLOCK - 1) / BLOCK;
  at::parallel_for(0, N * nblocks, 1, [&](int64_t begin, int64_t end) {
    alignas(64) float state[BLOCK];
    for (int64_t item = begin; item < end; ++item) {
      const int64_t n = item / nblocks, m0 = (item % nblocks) * BLOCK, len = std::min(BLOCK, M - m0);
      std::fill(state, state + len, 0.0f);
      step(n, m0, len, state);
    }
  });
}

template <bool GAIN>
void run_forward(const float* xp, float* sp, float* up, int64_t N, int64_t T, int64_t M, const Coeffs& c) {
  over_blocks(N, M, [&](int64_t n, int64_t m0, int64_t len, float* v) {
    for (int64_t t = 0; t < T; ++t) {
      const int64_t row = (n * T + t) * M + m0;
      if (up) {
        forward_block<GAIN, true>(xp + row, sp + row, up + row, v, c, len);
      } else {
        forward_block<GAIN, false>(xp + row, sp + row, nullptr, v, c, len);
      }
    }
  });
}

template <bool GAIN>
void run_backward(const float* gp, const float* up, const float* sp, float* gxp, int64_t N, int64_t T, int64_t M,
                  const Coeffs& c) {
  over_blocks(N, M, [&](int64_t n, int64_t m0, int64_t len, float* gvp) {
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t row = (n * T + t) * M + m0;
      if (t == T - 1) {
        backward_block<GAIN, true>(gp + row, up + row, sp + row, gxp + row, gvp, c, len);
      } else {
        backward_block<GAIN, false>(gp + row, up + row, sp + row, gxp + row, gvp, c, len);
      }
    }
  });
}

void check3(const torch::Tensor& t, const char* what) {
  TORCH_CHECK(t.dim() == 3 && t.is_contiguous() && t.scalar_type() == torch::kFloat32,
              "lif_train: ", what, " must be a contiguous float32 [N, T, M] tensor");
}

Coeffs coeffs(double beta, double gain, bool has_gain, double v_th, double a) {
  return Coeffs{static_cast<float>(beta), static_cast<float>(gain), static_cast<float>(v_th), static_cast<float>(a),
                static_cast<float>(2.0 * a), has_gain, false};
}

}  // namespace

// x, spikes (out), u (out, pre-reset voltages; may be empty: not kept): contiguous float32 [N, T, M].
void lif_forward(const torch::Tensor& x, const torch::Tensor& spikes, const torch::Tensor& u, double beta,
                 double gain, bool has_gain, double v_th) {
  check3(x, "x");
  check3(spikes, "spikes");
  TORCH_CHECK(spikes.sizes() == x.sizes(), "lif_train: spikes must have x's shape");
  const bool keep = u.numel() != 0;
  if (keep) {
    check3(u, "u");
    TORCH_CHECK(u.sizes() == x.sizes(), "lif_train: u must have x's shape");
  }
  if (x.numel() == 0) return;
  const Coeffs c = coeffs(beta, gain, has_gain, v_th, 0.0);
  float* up = keep ? u.data_ptr<float>() : nullptr;
  if (has_gain) {
    run_forward<true>(x.data_ptr<float>(), spikes.data_ptr<float>(), up, x.size(0), x.size(1), x.size(2), c);
  } else {
    run_forward<false>(x.data_ptr<float>(), spikes.data_ptr<float>(), up, x.size(0), x.size(1), x.size(2), c);
  }
}

// grad (of the spikes), u, spikes, grad_x (out): contiguous float32 [N, T, M]; a: surrogate half-width.
void lif_backward(const torch::Tensor& grad, const torch::Tensor& u, const torch::Tensor& spikes,
                  const torch::Tensor& grad_x, double beta, double gain, bool has_gain, double v_th, double a) {
  for (const auto* t : {&grad, &u, &spikes, &grad_x}) {
    check3(*t, "grad, u, spikes and grad_x");
    TORCH_CHECK(t->sizes() == grad.sizes(), "lif_train: grad, u, spikes and grad_x must have one shape");
  }
  if (grad.numel() == 0) return;
  const int64_t N = grad.size(0), T = grad.size(1), M = grad.size(2);
  Coeffs c = coeffs(beta, gain, has_gain, v_th, a);
  c.sum_zeros = T > 1;
  if (has_gain) {
    run_backward<true>(grad.data_ptr<float>(), u.data_ptr<float>(), spikes.data_ptr<float>(),
                       grad_x.data_ptr<float>(), N, T, M, c);
  } else {
    run_backward<false>(grad.data_ptr<float>(), u.data_ptr<float>(), spikes.data_ptr<float>(),
                        grad_x.data_ptr<float>(), N, T, M, c);
  }
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("lif_forward", &lif_forward, "fused LIF forward over all T steps (float32)");
  m.def("lif_backward", &lif_backward, "fused LIF backward over all T steps, rectangular surrogate (float32)");
}
