// The full-size element-wise work of ASA's training step in single passes (Python side: models/fused_asa.py),
// and the per-sample sums of ASA's factor that fuse_asa_gains calibrates from (factor_sums).
//
// Shapes: x, g, y, grads [N, R, P] with R = T*C rows (one per (t, c)) and P = H*W pixels; imp [N, R] the 0/1
// "important" mask I; a1, a2, and the per-pixel terms [N, P]. models/asa.py's asa_factor computes, per element,
//
//   factor = I * a1 + (1 - I) * a2;   y = x * factor
//
// and autograd's backward of that graph is a chain of full-size tensors. Here each output element is the same
// IEEE float32 operations on the same operands (built with -ffp-contract=off, no fast math):
//
//   apply_forward:   f = I ? a1 : a2 (= I*a1 + (1-I)*a2 exactly: 1*a + 0*b = a + (+0) = a for a sigmoid a);
//                    y = x * f
//   apply_backward:  gx = g * f;  gf = g * x;  t1 = gf * I;  t2 = gf * (1 - I)
//                    (MulBackward0 of y = x * factor, then of I * a1 and (1 - I) * a2; torch then sums t1, t2
//                    over the rows, the reduction autograd's sum_to_size runs)
//   factor_sums:     s[r, p] = Σ_n f_n[r, p], q[r, p] = Σ_n f_n[r, p]² in float64, f_n = I[n, r] ? a1[n] : a2[n]
//                    widened to double, added in sample order starting from the first sample (s = f_0,
//                    q = f_0 * f_0), each square rounded before it is added: the sums NumPy's loop in
//                    snnc.compiler.window_attention.sample_sums forms from the materialised factor
//   reduce_backward: for the branch b in {I, 1 - I}: xb = b * x, mask = [xb == max_b], and the gradient of the
//                    branch's mean and amax over the rows: gb = s_b + q_b * mask (MeanBackward's (g/lam)/R and
//                    AmaxBackward's (g/count) * mask, accumulated), then gx = gI * I + gS * (1 - I)
//
// The two terms of every sum that autograd accumulates are added once each, and IEEE addition is commutative,
// so every value equals autograd's (only the sign of an exact zero may differ where autograd adds a -0 in
// another order; no weight update can see it). Work is split over (sample, row) with at::parallel_for: any
// thread count gives the same bits. Tested in tests/models/test_fused_asa_grad.py.

#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <cstdint>
#include <initializer_list>

namespace {

struct Arg {
  const torch::Tensor& t;
  int64_t dims;
  const char* what;
};

// Every argument a contiguous float32 tensor of its number of dimensions.
void check(std::initializer_list<Arg> args) {
  for (const Arg& a : args) {
    TORCH_CHECK(a.t.dim() == a.dims && a.t.is_contiguous() && a.t.scalar_type() == torch::kFloat32,
                "asa_train: ", a.what, " must be a contiguous float32 tensor of ", a.dims, " dimensions");
  }
}

// Calls row(n, r) for every sample n and row r of an [N, R, P] tensor.
template <class Row>
void over_rows(int64_t N, int64_t R, const Row& row) {
  at::parallel_for(0, N * R, 16, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) row(item / R, item % R);
  });
}

}  // namespace

void apply_forward(const torch::Tensor& x, const torch::Tensor& imp, const torch::Tensor& a1,
                   const torch::Tensor& a2, const torch::Tensor& y) {
  check({{x, 3, "x"}, {y, 3, "y"}, {imp, 2, "imp"}, {a1, 2, "a1"}, {a2, 2, "a2"}});
  const int64_t N = x.size(0), R = x.size(1), P = x.size(2);
  const float *xp = x.data_ptr<float>(), *ip = imp.data_ptr<float>();
  const float *a1p = a1.data_ptr<float>(), *a2p = a2.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  over_rows(N, R, [&](int64_t n, int64_t r) {
    const int64_t base = (n * R + r) * P;
    const float* f = ip[n * R + r] != 0.0f ? a1p + n * P : a2p + n * P;
    for (int64_t p = 0; p < P; ++p) yp[base + p] = xp[base + p] * f[p];
  });
}

void apply_backward(const torch::Tensor& g, const torch::Tensor& x, const torch::Tensor& imp,
                    const torch::Tensor& a1, const torch::Tensor& a2, const torch::Tensor& gx,
                    const torch::Tensor& t1, const torch::Tensor& t2) {
  check({{g, 3, "g"}, {x, 3, "x"}, {gx, 3, "gx"}, {t1, 3, "t1"}, {t2, 3, "t2"}, {imp, 2, "imp"}, {a1, 2, "a1"},
         {a2, 2, "a2"}});
  const int64_t N = x.size(0), R = x.size(1), P = x.size(2);
  const float *gp = g.data_ptr<float>(), *xp = x.data_ptr<float>(), *ip = imp.data_ptr<float>();
  const float *a1p = a1.data_ptr<float>(), *a2p = a2.data_ptr<float>();
  float *gxp = gx.data_ptr<float>(), *t1p = t1.data_ptr<float>(), *t2p = t2.data_ptr<float>();
  over_rows(N, R, [&](int64_t n, int64_t r) {
    const int64_t base = (n * R + r) * P;
    const float i = ip[n * R + r], s = 1.0f - i;
    const float* f = i != 0.0f ? a1p + n * P : a2p + n * P;
    for (int64_t p = 0; p < P; ++p) {
      const int64_t e = base + p;
      gxp[e] = gp[e] * f[p];
      const float gf = gp[e] * xp[e];
      t1p[e] = gf * i;
      t2p[e] = gf * s;
    }
  });
}

// top [N, 2, P] (out): the max over the rows of I x and of (1 - I) x per pixel; count [N, 2, P] (out): how many
// rows reach it (AmaxBackward's mask.sum, an exact integer). A max is exact in any order (only the sign of a
// zero maximum may differ from torch.amax's, which neither the comparison below nor sigmoid(conv) can see).
void max_count(const torch::Tensor& x, const torch::Tensor& imp, const torch::Tensor& top,
               const torch::Tensor& count) {
  check({{x, 3, "x"}, {imp, 2, "imp"}, {top, 3, "top"}, {count, 3, "count"}});
  const int64_t N = x.size(0), R = x.size(1), P = x.size(2);
  TORCH_CHECK(R > 0 && top.size(0) == N && top.size(1) == 2 && top.size(2) == P && count.sizes() == top.sizes(),
              "asa_train: top and count must be [N, 2, P] and x must have rows");
  const float *xp = x.data_ptr<float>(), *ip = imp.data_ptr<float>();
  float *tp = top.data_ptr<float>(), *cp = count.data_ptr<float>();
  at::parallel_for(0, N, 1, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      float *ti = tp + (n * 2) * P, *ts = tp + (n * 2 + 1) * P, *ci = cp + (n * 2) * P, *cs = cp + (n * 2 + 1) * P;
      for (int64_t r = 0; r < R; ++r) {
        const float i = ip[n * R + r], s = 1.0f - i;
        const float* row = xp + (n * R + r) * P;
        for (int64_t p = 0; p < P; ++p) {
          const float xi = i * row[p], xs = s * row[p];
          if (r == 0 || xi > ti[p]) { ti[p] = xi; ci[p] = 1.0f; } else if (xi == ti[p]) { ci[p] += 1.0f; }
          if (r == 0 || xs > ts[p]) { ts[p] = xs; cs[p] = 1.0f; } else if (xs == ts[p]) { cs[p] += 1.0f; }
        }
      }
    }
  });
}

// terms [N, 6, P]: s_I, q_I, max_I, s_S, q_S, max_S (mean-gradient, amax-gradient, amax of each branch)
void reduce_backward(const torch::Tensor& x, const torch::Tensor& imp, const torch::Tensor& terms,
                     const torch::Tensor& gx) {
  check({{x, 3, "x"}, {gx, 3, "gx"}, {imp, 2, "imp"}, {terms, 3, "terms"}});
  const int64_t N = x.size(0), R = x.size(1), P = x.size(2);
  TORCH_CHECK(terms.size(0) == N && terms.size(1) == 6 && terms.size(2) == P, "asa_train: terms must be [N, 6, P]");
  const float *xp = x.data_ptr<float>(), *ip = imp.data_ptr<float>(), *tp = terms.data_ptr<float>();
  float* gxp = gx.data_ptr<float>();
  over_rows(N, R, [&](int64_t n, int64_t r) {
    const int64_t base = (n * R + r) * P;
    const float i = ip[n * R + r], s = 1.0f - i;
    const float *si = tp + (n * 6 + 0) * P, *qi = tp + (n * 6 + 1) * P, *mi = tp + (n * 6 + 2) * P;
    const float *ss = tp + (n * 6 + 3) * P, *qs = tp + (n * 6 + 4) * P, *ms = tp + (n * 6 + 5) * P;
    for (int64_t p = 0; p < P; ++p) {
      const float v = xp[base + p];
      const float xi = i * v, xs = s * v;
      const float gi = si[p] + qi[p] * (xi == mi[p] ? 1.0f : 0.0f);
      const float gs = ss[p] + qs[p] * (xs == ms[p] ? 1.0f : 0.0f);
      gxp[base + p] = gi * i + gs * s;
    }
  });
}

// s, q [R, P] float64 (out); see the header. Work is split over rows r: every row is summed over all samples by
// one thread, in sample order, so any thread count gives the same bits.
void factor_sums(const torch::Tensor& imp, const torch::Tensor& a1, const torch::Tensor& a2, const torch::Tensor& s,
                 const torch::Tensor& q) {
  check({{imp, 2, "imp"}, {a1, 2, "a1"}, {a2, 2, "a2"}});
  const int64_t N = imp.size(0), R = imp.size(1), P = a1.size(1);
  TORCH_CHECK(N > 0 && a1.size(0) == N && a2.sizes() == a1.sizes(), "asa_train: a1, a2 must be [N, P], N >= 1");
  for (const torch::Tensor* o : {&s, &q}) {
    TORCH_CHECK(o->dim() == 2 && o->size(0) == R && o->size(1) == P && o->is_contiguous() &&
                    o->scalar_type() == torch::kFloat64,
                "asa_train: s and q must be contiguous float64 [R, P]");
  }
  const float *ip = imp.data_ptr<float>(), *a1p = a1.data_ptr<float>(), *a2p = a2.data_ptr<float>();
  double *sp = s.data_ptr<double>(), *qp = q.data_ptr<double>();
  at::parallel_for(0, R, 4, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      double *sr = sp + r * P, *qr = qp + r * P;
      for (int64_t n = 0; n < N; ++n) {
        const float* f = ip[n * R + r] != 0.0f ? a1p + n * P : a2p + n * P;
        if (n == 0) {
          for (int64_t p = 0; p < P; ++p) {
            const double v = f[p];
            sr[p] = v;
            qr[p] = v * v;
          }
        } else {
          for (int64_t p = 0; p < P; ++p) {
            const double v = f[p];
            sr[p] += v;
            qr[p] += v * v;
          }
        }
      }
    }
  });
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("apply_forward", &apply_forward, "y = x * (I ? a1 : a2) (float32)");
  m.def("apply_backward", &apply_backward, "gx = g * factor, t1 = g x I, t2 = g x (1 - I) (float32)");
  m.def("max_count", &max_count, "max over the rows of I x and (1 - I) x and how many rows reach it (float32)");
  m.def("factor_sums", &factor_sums, "sum and sum of squares over samples of I ? a1 : a2 (float64)");
  m.def("reduce_backward", &reduce_backward, "gradient of ASA's masked mean and amax over the rows (float32)");
}
