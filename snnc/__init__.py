"""snnc: a neuromorphic-deployment compiler for spiking neural networks with attention.

Subpackages (each a top-level folder of the repository):

- ``snnc.models``    PyTorch ASA-SNN family (LIF-SNN-3/5, Res-SNN-18), data and training
- ``snnc.frontends`` checkpoints and NIR files -> the snnc IR
- ``snnc.compiler``  the IR (NIR + extension nodes), passes, pipelines, fixed point
- ``snnc.backends``  reference CPU simulator, Lava, ONNX

``import snnc`` is cheap: it imports neither torch nor lava.
"""

__version__ = "0.1.0"
