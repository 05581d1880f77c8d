"""A tiny accumulator for ONNX nodes, initializers and value infos (built with ``onnx.helper``).

Only plain NumPy arrays become initializers; every intermediate gets a fresh unique name.
"""

from __future__ import annotations

import re

import numpy as np

#: the opset the exporter writes (onnxruntime >= 1.16 runs it)
OPSET = 17
#: the IR version matching OPSET (onnxruntime refuses newer IR versions than it knows)
IR_VERSION = 8


def safe(name: str) -> str:
    """An ONNX-friendly identifier derived from a node name."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


class OnnxBuilder:
    """Collects ``NodeProto``s and initializers; ``op`` returns the name of the (first) output."""

    def __init__(self) -> None:
        import onnx  # noqa: F401 - fail early if missing

        self.nodes: list = []
        self.initializers: list = []
        self._count = 0
        self._consts: dict[tuple, str] = {}

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{safe(hint)}__{self._count}"

    def const(self, value, dtype, hint: str = "c") -> str:
        """An initializer holding ``value`` as ``dtype``; small scalars are shared."""
        from onnx import numpy_helper

        arr = np.asarray(value, dtype=dtype)
        key = None
        if arr.size <= 8:
            key = (arr.dtype.str, arr.shape, arr.tobytes())
            if key in self._consts:
                return self._consts[key]
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(arr), name=name))
        if key is not None:
            self._consts[key] = name
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, outputs: list[str] | None = None,
           **attrs) -> str:
        """Append one node; returns its first output name."""
        from onnx import helper

        outs = outputs or [self.fresh(hint or op_type.lower())]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=self.fresh(f"n_{op_type}"), **attrs))
        return outs[0]

    def identity(self, src: str, out: str) -> str:
        return self.op("Identity", [src], outputs=[out])
