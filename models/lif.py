"""Multi-step LIF and PLIF neurons in snnc's canonical float32 form (docs/design.md §3.3).

For inputs x of shape (N, T, ...), per neuron, with v'_{-1} = 0:

    v_t  = beta * v'_{t-1} + gain * x_t        (gain == 1: beta * v'_{t-1} + x_t, no multiply)
    s_t  = [v_t >= v_th]                       (the released ASA-SNN code fires at >=)
    v'_t = v_t * (1 - s_t)                     (hard reset to v_reset = 0, before the next decay)

i.e. U_t = beta U_{t-1} (1 - S_{t-1}) + X_t, the released ``IFCell``. The reset path is not
detached. The surrogate gradient is rectangular: dS/dU = 1/(2a) for |U - V_th| < a, a = 0.25.

PLIF (LIF-SNN-5, spikingjelly ``ParametricLIFNode``: V <- V + (X - V) k, k = sigmoid(w)) is
written canonically as beta = 1 - k, gain = k, with a learnable w initialised so that k = 0.5.
"""

from __future__ import annotations

import torch
from torch import nn

from snnc.models import fused_lif

SURROGATE_WIDTH = 0.25


class RectSpike(torch.autograd.Function):
    """Heaviside spike s = [v >= v_th] with the rectangular surrogate of half-width a."""

    @staticmethod
    def forward(ctx, v: torch.Tensor, v_th: torch.Tensor, a: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(v, v_th)
        ctx.a = a
        return (v >= v_th).to(v.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        v, v_th = ctx.saved_tensors
        window = ((v - v_th).abs() < ctx.a).to(grad.dtype)
        return grad * window / (2 * ctx.a), None, None


def _f32(value: float) -> torch.Tensor:
    return torch.tensor(value, dtype=torch.float32)


class LIF(nn.Module):
    """Multi-step LIF over (N, T, ...) with fixed float32 ``beta``, ``gain``, ``v_th``, ``v_reset``.

    ``beta``, ``gain``, ``v_th`` and ``v_reset`` are Python floats holding exactly the float32
    values the forward pass uses (read them for export).
    """

    #: constant beta, gain and v_th: the fused kernel applies
    _constant = True

    def __init__(self, beta: float, v_th: float, gain: float = 1.0, v_reset: float = 0.0,
                 surrogate_width: float = SURROGATE_WIDTH) -> None:
        super().__init__()
        if v_reset != 0.0:
            raise ValueError("snnc models reset to v_reset = 0")
        self._beta, self._gain, self._v_th = float(_f32(beta)), float(_f32(gain)), float(_f32(v_th))
        self.v_reset = 0.0
        self.surrogate_width = float(surrogate_width)

    @property
    def beta(self) -> float:
        return self._beta

    @property
    def gain(self) -> float:
        return self._gain

    @property
    def v_th(self) -> float:
        return self._v_th

    def _coefficients(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        beta = _f32(self._beta).to(like.device)
        gain = None if self._gain == 1.0 else _f32(self._gain).to(like.device)
        return beta, gain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Spikes (N, T, ...) as float32 0/1 from input currents x (N, T, ...): the fused kernel
        (:mod:`snnc.models.fused_lif`, bit-identical) when it applies, else :meth:`reference_forward`."""
        if self._constant:
            spikes = fused_lif.lif(x, self._beta, self._gain, self._v_th, self.surrogate_width)
            if spikes is not None:
                return spikes
        return self.reference_forward(x)

    def reference_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The step-by-step loop, differentiated by autograd (the reference of the fused kernel)."""
        beta, gain = self._coefficients(x)
        v_th = _f32(self.v_th).to(x.device)
        v = torch.zeros_like(x[:, 0])
        spikes = []
        for t in range(x.shape[1]):
            v = beta * v + (x[:, t] if gain is None else gain * x[:, t])
            s = RectSpike.apply(v, v_th, self.surrogate_width)
            spikes.append(s)
            v = v * (1.0 - s)
        return torch.stack(spikes, dim=1)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, gain={self.gain}, v_th={self.v_th}, v_reset={self.v_reset}"


class PLIF(LIF):
    """Parametric LIF: learnable w, k = sigmoid(w) (0.5 at init); beta = 1 - k, gain = k (float32).
    Always the autograd loop (the fused kernel has no gradient for beta and gain)."""

    _constant = False

    def __init__(self, v_th: float = 1.0, init_k: float = 0.5, surrogate_width: float = SURROGATE_WIDTH) -> None:
        super().__init__(beta=1.0 - init_k, v_th=v_th, gain=init_k, surrogate_width=surrogate_width)
        self.w = nn.Parameter(torch.logit(_f32(init_k)).reshape(1))

    def _k(self) -> torch.Tensor:
        return torch.sigmoid(self.w).reshape(())

    @property
    def beta(self) -> float:
        with torch.no_grad():
            return float(1.0 - self._k())

    @property
    def gain(self) -> float:
        with torch.no_grad():
            return float(self._k())

    def _coefficients(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        k = self._k().to(like.device)
        return 1.0 - k, k
