"""Extension nodes: the few node kinds NIR 1.0.8 lacks.

Each is a small ``@dataclass(eq=False)`` subclass of ``nir.NIRNode``, like NIR's own
primitives, so it can live inside a ``nir.NIRGraph``. ``input_type``/``output_type`` follow NIR's
convention: ``{"input": np.array(shape)}`` / ``{"output": np.array(shape)}`` with the shape of
one sample at one timestep (no batch, no time axis), e.g. ``(C, H, W)``.

Signals are indexed ``x[t, c, h, w]`` below. Lowerings to standard NIR, where one exists, are
given in each docstring (see ``docs/design.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from nir.ir.node import NIRNode


def _shape(a) -> np.ndarray:
    return np.asarray(a, dtype=np.int64).reshape(-1)


def _same_io_shape(node) -> None:
    """Type ``node``'s one input and one output with its ``shape`` (None when the shape is not known)."""
    t = node.shape if node.shape.size else None
    node.input_type = {"input": t}
    node.output_type = {"output": t}


@dataclass(eq=False)
class BatchNorm(NIRNode):
    r"""Inference-mode batch normalisation over axis 0 (channels) of the signal.

    .. math:: y[t, c, \ldots] = \gamma_c \frac{x[t, c, \ldots] - \mu_c}{\sqrt{\sigma^2_c + \epsilon}} + \beta_c

    Lowering: folded into the preceding ``Conv2d``/``Affine`` by ``fold_batchnorm``
    (W' = W·γ/σ, b' = (b − μ)·γ/σ + β); otherwise a per-channel ``Scale`` + bias, which NIR cannot
    express on its own (NIR ``Scale`` has no bias), so an unfolded BatchNorm has no standard form.
    """

    running_mean: np.ndarray
    running_var: np.ndarray
    weight: np.ndarray  # gamma
    bias: np.ndarray  # beta
    eps: float = 1e-5
    shape: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))

    def __post_init__(self):
        c = np.asarray(self.running_mean).shape
        for name in ("running_var", "weight", "bias"):
            if np.asarray(getattr(self, name)).shape != c:
                raise ValueError(f"BatchNorm.{name} has shape {np.asarray(getattr(self, name)).shape}, expected {c}")
        self.shape = _shape(self.shape)
        _same_io_shape(self)


@dataclass(eq=False)
class ASA(NIRNode):
    r"""The ASA module of ASA-SNN (Yao et al., ICCV 2023) over a whole window of T steps.

    For one sample, with x of shape (T, C, H, W) (conv + BN + pool currents of the layer):

    1. F_avg, F_max = mean, max of x over (H, W)                        -> (T, C)
    2. M' = 0.5 (F_avg + F_max) + alpha F_avg + gamma F_max
    3. M = fc(M') along T, shared over channels (fc1: T -> T/r, ReLU, fc2: T/r -> T; r = 1: fc1 only)
    4. I_c = top-k_c channels of M[t, :] per t; I_t = top-k_t steps of M[:, c] per c; I = I_c XOR I_t
       (ties: higher score first, then lower index)
    5. A1 = sigmoid(conv1([mean_{tc}(I x)/lam, max_{tc}(I x)])),
       A2 = sigmoid(conv2([mean_{tc}((1-I) x)/(1-lam), max_{tc}((1-I) x)]))     each (H, W)
    6. y[t, c, h, w] = x[t, c, h, w] (I[t, c] A1[h, w] + (1 - I[t, c]) A2[h, w])

    Masks are computed per sample (the released code couples the samples of a batch).
    Not causal in time; no standard-NIR lowering. ``fuse_asa_gains`` replaces it by a
    :class:`TimeGain` calibrated on data.

    Ablations (supplement Tables S7, S8; ``snnc.models.asa_scores``): ``squeeze`` s5 (step 2 above),
    s7 (M' = F_avg) or s8 (M' = ½(F_avg + F_max)), alpha and gamma empty for s7/s8; ``excitation`` mlp
    (step 3), eca (M = conv1d(M') along T with kernel ``eca`` (k,), fc1/fc2 empty) or simam
    (parameter-free, fc1/fc2 empty).
    """

    alpha: np.ndarray  # (1,), or (0,) unless squeeze == "s5"
    gamma: np.ndarray  # (1,)
    fc1: np.ndarray  # (T//r, T), or (T, T) when r == 1; (0, 0) unless excitation == "mlp"
    fc2: np.ndarray  # (T, T//r), or shape (0, 0) when r == 1
    conv1: np.ndarray  # (1, 2, 3, 3), no bias, padding 1
    conv2: np.ndarray  # (1, 2, 3, 3)
    T: int
    reduction: int = 1
    lam: float = 0.5
    k_c: int = 0  # int(C * lam)
    k_t: int = 0  # int(T * lam)
    shape: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))  # (C, H, W)
    squeeze: str = "s5"
    excitation: str = "mlp"
    eca: np.ndarray = field(default_factory=lambda: np.zeros((0,), dtype=np.float32))  # (k,) for eca

    def __post_init__(self):
        self.squeeze, self.excitation = str(self.squeeze), str(self.excitation)
        if self.squeeze not in ("s5", "s7", "s8") or self.excitation not in ("mlp", "eca", "simam"):
            raise ValueError(f"ASA squeeze/excitation {self.squeeze!r}/{self.excitation!r} unknown "
                             "(squeeze: s5, s7, s8; excitation: mlp, eca, simam)")
        n_ag = 1 if self.squeeze == "s5" else 0
        self.alpha = np.asarray(self.alpha, dtype=np.float32).reshape(-1)
        self.gamma = np.asarray(self.gamma, dtype=np.float32).reshape(-1)
        if self.alpha.size != n_ag or self.gamma.size != n_ag:
            raise ValueError(f"ASA squeeze {self.squeeze} needs alpha, gamma of size {n_ag}")
        self.fc1 = np.asarray(self.fc1, dtype=np.float32)
        self.fc2 = np.asarray(self.fc2, dtype=np.float32)
        self.eca = np.asarray(self.eca, dtype=np.float32).reshape(-1)
        self.T = int(self.T)
        self.reduction = int(self.reduction)
        self.lam = float(self.lam)
        self.k_c = int(self.k_c)
        self.k_t = int(self.k_t)
        self.shape = _shape(self.shape)
        if self.excitation == "mlp" and (self.fc1.ndim != 2 or self.fc1.shape[1] != self.T):
            raise ValueError(f"ASA.fc1 must have shape (T//r, T) with T={self.T}, got {self.fc1.shape}")
        if self.excitation != "mlp" and (self.fc1.size or self.fc2.size):
            raise ValueError(f"ASA excitation {self.excitation} has no fc1/fc2")
        if (self.excitation == "eca") != bool(self.eca.size) or (self.eca.size and self.eca.size % 2 == 0):
            raise ValueError(f"ASA.eca must be an odd-length kernel exactly when excitation is eca, got {self.eca.shape}")
        for name in ("conv1", "conv2"):
            if np.asarray(getattr(self, name)).shape != (1, 2, 3, 3):
                raise ValueError(f"ASA.{name} must have shape (1, 2, 3, 3), got {np.asarray(getattr(self, name)).shape}")
        _same_io_shape(self)


@dataclass(eq=False)
class MultiDimAttention(NIRNode):
    r"""MA-SNN's multi-dimensional attention over a whole window: TA (dims "t"), CA ("c"), SA ("s") or
    TCSA ("tcs"); ``snnc.models.ma_attention``. For one sample x of shape (T, C, H, W), in the order t, c, s:

    - t: a_t = σ(W_t2 relu(W_t1 avg_{chw} x) + W_t2 relu(W_t1 max_{chw} x)) ∈ (0, 1)^T; x ← a_t x
    - c: a_c = σ(W_c2 relu(W_c1 avg_{thw} x) + W_c2 relu(W_c1 max_{thw} x)) ∈ (0, 1)^C; x ← a_c x
    - s: a_s = σ(conv_k([mean_{tc} x, max_{tc} x])) ∈ (0, 1)^{H×W}
    - y[t, c, h, w] = x[t, c, h, w] · a_t[t] a_c[c] a_s[h, w] · [x[t, c, h, w] > 0]   (the final ReLU)

    Absent dimensions have empty weights. Not causal in time; no standard-NIR lowering;
    ``fuse_asa_gains`` replaces it by a calibrated :class:`TimeGain`, like ASA.
    """

    dims: str
    time_fc1: np.ndarray  # (T//r_t, T) or (0, 0)
    time_fc2: np.ndarray  # (T, T//r_t) or (0, 0)
    channel_fc1: np.ndarray  # (C//r_c, C) or (0, 0)
    channel_fc2: np.ndarray  # (C, C//r_c) or (0, 0)
    spatial: np.ndarray  # (1, 2, k, k) or (0, 0, 0, 0)
    T: int
    shape: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))  # (C, H, W)

    def __post_init__(self):
        self.dims, self.T = str(self.dims), int(self.T)
        if self.dims not in ("t", "c", "s", "tcs"):
            raise ValueError(f"MultiDimAttention dims must be t, c, s or tcs, got {self.dims!r}")
        for name in ("time_fc1", "time_fc2", "channel_fc1", "channel_fc2", "spatial"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=np.float32))
        self.shape = _shape(self.shape)
        checks = (("t", self.time_fc1, 2), ("t", self.time_fc2, 2), ("c", self.channel_fc1, 2),
                  ("c", self.channel_fc2, 2), ("s", self.spatial, 4))
        for dim, w, ndim in checks:
            if (dim in self.dims) != bool(w.size) or (w.size and w.ndim != ndim):
                raise ValueError(f"MultiDimAttention(dims={self.dims!r}): weights of dimension {dim!r} must be "
                                 f"present ({ndim}-d) exactly when the dimension is")
        if "t" in self.dims and (self.time_fc1.shape[1] != self.T or self.time_fc2.shape != self.time_fc1.shape[::-1]):
            raise ValueError(f"MultiDimAttention time MLP must be (h, T), (T, h) with T={self.T}")
        if "c" in self.dims and self.channel_fc2.shape != self.channel_fc1.shape[::-1]:
            raise ValueError("MultiDimAttention channel MLP must be (h, C), (C, h)")
        if "s" in self.dims and (self.spatial.shape[:2] != (1, 2) or self.spatial.shape[2] != self.spatial.shape[3]
                                 or self.spatial.shape[2] % 2 == 0):
            raise ValueError(f"MultiDimAttention.spatial must be (1, 2, k, k) with k odd, got {self.spatial.shape}")
        _same_io_shape(self)


@dataclass(eq=False)
class TimeGain(NIRNode):
    r"""Per-timestep gain on the input current of the following neuron population.

    .. math:: y[t, \ldots] = g[s(t), \ldots] \odot x[t, \ldots]

    ``gain`` has shape (T, *g) where g broadcasts against the signal shape: per t ``(T, 1, 1, 1)``,
    per (t, c) ``(T, C, 1, 1)``, per (t, c, h, w) ``(T, C, H, W)``. s(t) is the *source step*: the
    step at which the current was produced at the graph input; under snnc timing s(t) = t, under Lava
    timing s(t) = max(0, t − d), d = number of delaying nodes on the path from the input
    (see docs/design.md). ``x`` includes the preceding bias, so the gain scales the bias too.

    Fixed point (after ``quantize``): ``gain_mant`` (int, same shape as ``gain``) and ``gain_shift``;
    y = (x · gain_mant[s(t)]) >> gain_shift (arithmetic shift, i.e. floor). ``gain_mant`` of size 0
    means "not quantized".

    ``rectify``: y = g[s(t)] ⊙ max(x[t], 0), the ReLU on the currents that ends MA-SNN's attention
    (TA/CA/SA/TCSA), kept when their factor is frozen (float graphs on cpu/onnx only: Loihi's LIF, which
    holds the synapse bias in the neuron, has no input rectification).

    Lowering: a time-constant gain (all g[t] equal) folds into the preceding weights and bias (exact);
    a time-varying gain has no standard NIR form.
    """

    gain: np.ndarray
    gain_mant: np.ndarray = field(default_factory=lambda: np.zeros((0,), dtype=np.int64))
    gain_shift: int = 0
    shape: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    rectify: bool = False

    def __post_init__(self):
        self.rectify = bool(self.rectify)
        self.gain = np.asarray(self.gain, dtype=np.float32)
        self.gain_mant = np.asarray(self.gain_mant, dtype=np.int64)
        self.gain_shift = int(self.gain_shift)
        self.shape = _shape(self.shape)
        if self.gain.ndim < 1:
            raise ValueError("TimeGain.gain needs a leading time axis")
        if self.gain_mant.size and self.gain_mant.shape != self.gain.shape:
            raise ValueError(f"TimeGain.gain_mant shape {self.gain_mant.shape} != gain shape {self.gain.shape}")
        _same_io_shape(self)

    @property
    def T(self) -> int:
        return int(self.gain.shape[0])


@dataclass(eq=False)
class MaxPool2d(NIRNode):
    """2-D max pooling (PyTorch semantics, padding with −inf). On binary spikes it is a logical OR.

    NIR 1.0.8 has no max pooling; no standard lowering (used by LIF-SNN-5 and Res-SNN-18).
    """

    kernel_size: np.ndarray
    stride: np.ndarray
    padding: np.ndarray = field(default_factory=lambda: np.array([0, 0], dtype=np.int64))
    shape: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))  # input (C, H, W)

    def __post_init__(self):
        self.kernel_size = np.broadcast_to(np.asarray(self.kernel_size, dtype=np.int64), (2,)).copy()
        self.stride = np.broadcast_to(np.asarray(self.stride, dtype=np.int64), (2,)).copy()
        self.padding = np.broadcast_to(np.asarray(self.padding, dtype=np.int64), (2,)).copy()
        self.shape = _shape(self.shape)
        if self.shape.size:
            c, h, w = self.shape
            oh = (h + 2 * self.padding[0] - self.kernel_size[0]) // self.stride[0] + 1
            ow = (w + 2 * self.padding[1] - self.kernel_size[1]) // self.stride[1] + 1
            self.input_type = {"input": self.shape}
            self.output_type = {"output": np.array([c, oh, ow], dtype=np.int64)}
        else:
            self.input_type = {"input": None}
            self.output_type = {"output": None}


@dataclass(eq=False)
class LoihiLIF(NIRNode):
    """A Loihi 2 fixed-point LIF population, exactly Lava's ``LIF`` ``fixed_pt`` model.

    All fields are integers (see :mod:`snnc.compiler.fixed_point` for the bit-exact update):
    ``du``, ``dv`` 12-bit decays; ``vth`` threshold mantissa (effective ``vth << 6``);
    ``bias_mant`` (13-bit signed, per neuron) and ``bias_exp`` (per neuron). It replaces
    LIF/IF/CubaLIF after ``quantize``; the incoming synapses then hold integer weights.
    ``source`` records the float node kind it came from (``"LIF"``, ``"IF"``, ``"CubaLIF"``).
    """

    du: int
    dv: int
    vth: int
    bias_mant: np.ndarray
    bias_exp: np.ndarray
    shape: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    source: str = "LIF"

    def __post_init__(self):
        self.du, self.dv, self.vth = int(self.du), int(self.dv), int(self.vth)
        self.shape = _shape(self.shape)
        self.bias_mant = np.asarray(self.bias_mant, dtype=np.int64)
        self.bias_exp = np.asarray(self.bias_exp, dtype=np.int64)
        if not (0 <= self.du <= 4095 and 0 <= self.dv <= 4095):
            raise ValueError(f"LoihiLIF du/dv must be in [0, 4095], got du={self.du}, dv={self.dv}")
        if not 0 <= self.vth <= 131071:
            raise ValueError(f"LoihiLIF vth must be in [0, 131071], got {self.vth}")
        _same_io_shape(self)


#: name -> class, for (de)serialisation of extension nodes.
EXTENSION_NODES: dict[str, type[NIRNode]] = {
    cls.__name__: cls for cls in (BatchNorm, ASA, MultiDimAttention, TimeGain, MaxPool2d, LoihiLIF)
}
