"""Tiny configs of every snnc model for the IR tests (a helper module, imported by name)."""

from __future__ import annotations

#: one tiny config per (model, attention); seconds to build and walk.
TINY_CONFIGS = {
    "lif-snn-3": {"T": 4, "in_channels": 2, "input_size": [16, 16], "num_classes": 3, "widths": [4, 8, 8],
                  "fc_hidden": 16, "reduction": 2, "dropout": 0.0},
    "lif-snn-5": {"T": 4, "in_channels": 2, "input_size": [32, 32], "num_classes": 3, "widths": [4, 4, 4, 4, 4],
                  "fc_hidden": 16, "vote": 2, "dropout": 0.0},
    "res-snn-18": {"T": 4, "in_channels": 2, "input_size": [32, 32], "num_classes": 5, "widths": [4, 8, 8, 8]},
}


def tiny_model(name: str, attention: str, seed: int = 0):
    """A tiny snnc model (``attention`` "none", "asa", "ta", ..., or "asa:<squeeze|excitation>") with random (non-default) BN statistics, in eval mode."""
    import torch

    from snnc.models import build_model

    kind, _, option = attention.partition(":")
    extra = {} if not option else ({"squeeze": option} if option.startswith("s") and option != "simam"
                                   else {"excitation": option})
    torch.manual_seed(seed)
    model = build_model({"model": name, "attention": kind, **TINY_CONFIGS[name], **extra})
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
                m.weight.normal_()
                m.bias.normal_()
    return model.eval()
