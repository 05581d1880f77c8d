// The two conversions around a fixed-point conv computed in float32 (Python side: backends/cpu/fixed_conv.py),
// each one pass instead of torch's four (aminmax, trunc, equal, to) and three (to, max, min):
//
//   narrow: out = float32(x) for x float64, and the premise of the float32 conv checked on the way: every x a
//           finite integer. Returns max |x|, or -1 when some x is not a finite integer (out is then garbage and
//           the caller runs the float64 conv). float32(x) is exact for |x| <= 2^24, which the caller's bound
//           B = max|x| · max_co Σ|W| + max|b| < 2^24 implies wherever a weight is non-zero.
//   widen:  out = float64(y) for y float32 (exact), and (min y, max y) for the 24-bit wrap check.
//
// Both are element-wise, and max / min are exact in any order: the results do not depend on the thread count.

#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <tuple>

namespace {

constexpr int64_t GRAIN = 1 << 16;

void check_pair(const torch::Tensor& in, const torch::Tensor& out, c10::ScalarType from, c10::ScalarType to,
                const char* name) {
  TORCH_CHECK(in.is_contiguous() && out.is_contiguous() && in.scalar_type() == from && out.scalar_type() == to &&
                  in.numel() == out.numel(),
              "fixed_cast.", name, ": contiguous input and output of the expected dtypes and sizes");
}

}  // namespace

double narrow(const torch::Tensor& x, const torch::Tensor& out) {
  check_pair(x, out, torch::kFloat64, torch::kFloat32, "narrow");
  const double* xp = x.data_ptr<double>();
  float* op = out.data_ptr<float>();
  return at::parallel_reduce(
      int64_t(0), x.numel(), GRAIN, 0.0,
      [&](int64_t begin, int64_t end, double peak) {
        bool ok = true;
        for (int64_t i = begin; i < end; ++i) {
          const double v = xp[i], a = std::fabs(v);
          ok &= (v == std::trunc(v)) & (a <= DBL_MAX);  // NaN fails both, ±inf the second
          peak = std::max(peak, a);
          op[i] = static_cast<float>(v);
        }
        return ok ? peak : -1.0;
      },
      [](double a, double b) { return (a < 0.0 || b < 0.0) ? -1.0 : std::max(a, b); });
}

std::tuple<double, double> widen(const torch::Tensor& y, const torch::Tensor& out) {
  check_pair(y, out, torch::kFloat32, torch::kFloat64, "widen");
  TORCH_CHECK(y.numel() > 0, "fixed_cast.widen: empty input");
  const float* yp = y.data_ptr<float>();
  double* op = out.data_ptr<double>();
  using Range = std::pair<float, float>;
  const Range r = at::parallel_reduce(
      int64_t(0), y.numel(), GRAIN, Range(yp[0], yp[0]),
      [&](int64_t begin, int64_t end, Range acc) {
        float lo = acc.first, hi = acc.second;
        for (int64_t i = begin; i < end; ++i) {
          const float v = yp[i];
          lo = std::min(lo, v);
          hi = std::max(hi, v);
          op[i] = static_cast<double>(v);
        }
        return Range(lo, hi);
      },
      [](Range a, Range b) { return Range(std::min(a.first, b.first), std::max(a.second, b.second)); });
  return {static_cast<double>(r.first), static_cast<double>(r.second)};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("narrow", &narrow, "float32 copy of a float64 tensor; max |x|, or -1 if not all finite integers");
  m.def("widen", &widen, "float64 copy of a float32 tensor; (min, max)");
}
