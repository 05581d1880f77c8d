"""The snnc IR: a ``nir.NIRGraph`` of standard NIR nodes plus the extension nodes in
:mod:`snnc.compiler.ir.nodes` (BatchNorm, ASA, MultiDimAttention, TimeGain, MaxPool2d, LoihiLIF).

Utilities: :func:`copy_graph`, :func:`topological_order` (tolerates recurrent cycles),
:func:`infer_shapes`, :func:`verify`, :func:`read_graph` / :func:`write_graph`,
:func:`export_standard`.
"""

from snnc.compiler.ir.nodes import (  # noqa: F401
    ASA,
    MultiDimAttention,
    EXTENSION_NODES,
    BatchNorm,
    LoihiLIF,
    MaxPool2d,
    TimeGain,
)
from snnc.compiler.ir.graph_utils import (  # noqa: F401
    copy_graph,
    make_graph,
    node_kind,
    predecessors,
    successors,
    topological_order,
)
from snnc.compiler.ir.shapes import infer_shapes, shape_of  # noqa: F401
from snnc.compiler.ir.kinds import DELAYING_KINDS  # noqa: F401
from snnc.compiler.ir.verify import (  # noqa: F401
    SUPPORTED_KINDS,
    check_supported,
    timegain_depth,
    verify,
)
from snnc.compiler.ir.serialize import export_standard, read_graph, write_graph  # noqa: F401
