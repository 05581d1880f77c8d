"""snnc.models: the ASA-SNN family in PyTorch (LIF-SNN-3, LIF-SNN-5, Res-SNN-18) and checkpoints.

``build_model(config)`` builds a network; ``snnc.models.checkpoint`` saves and loads them.
Importing this package imports torch (``import snnc`` alone does not).
"""

from snnc.models.registry import MODEL_NAMES, build_model, demo_config

__all__ = ["MODEL_NAMES", "build_model", "demo_config"]
