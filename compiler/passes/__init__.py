"""Compiler passes: one file per pass, each a function ``graph -> (new graph, PassRecord)``.

Importing this package registers every pass in :data:`snnc.compiler.passes.base.PASSES`.
"""

from snnc.compiler.passes.base import (  # noqa: F401
    PASSES, PassError, PassRecord, PipelineContext, pass_options, register_pass)
from snnc.compiler.passes.fold_batchnorm import fold_batchnorm  # noqa: F401
from snnc.compiler.passes.fold_lif_r import fold_lif_r  # noqa: F401
from snnc.compiler.passes.fold_static_gains import fold_static_gains  # noqa: F401
from snnc.compiler.passes.fuse_asa_gains import fuse_asa_gains  # noqa: F401
from snnc.compiler.passes.fuse_pooling import fuse_pooling, lower_pooling  # noqa: F401
from snnc.compiler.passes.quantize import quantize  # noqa: F401
