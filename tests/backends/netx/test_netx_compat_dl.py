"""``snnc.backends.lava.compat_dl``: lava-dl 0.6.0's netx imports on Python 3.11 beside the CPU torch, with
slayer's ``object_detection`` (torchvision, cv2) kept out by a placeholder that fails loudly on use."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.lava

CHECK = """
import sys
from snnc.backends.lava import compat_dl
compat_dl.install()
compat_dl.install()  # idempotent
assert sum(type(f).__name__ == "ObjectDetectionBlocker" for f in sys.meta_path) == 1
from lava.lib.dl import netx
import lava.lib.dl.slayer as slayer
assert "torchvision" not in sys.modules and "cv2" not in sys.modules, "object_detection was imported"
assert hasattr(netx.hdf5, "Network")
try:
    slayer.obd.bbox
except ImportError as e:
    assert "torchvision" in str(e) and "compat_dl" in str(e), e
else:
    raise AssertionError("the placeholder must fail on use")
try:
    import lava.lib.dl.slayer.object_detection.boundingbox
except ImportError:
    pass
else:
    raise AssertionError("submodules of the placeholder must not import")
"""


def test_netx_imports_with_object_detection_blocked():
    proc = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
