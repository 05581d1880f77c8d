"""Outputs never touch inputs: every command calls :func:`guard_outputs` before it does any work.

All paths are resolved (``os.path.realpath``; hard links compared with ``samefile``). An output is
refused, with one line and exit 2, when it

* is an input file (``snnc export m.pt -o m.pt``, ``snnc simulate m.pt --json m.pt``);
* lies inside an input directory, or inside the artifact an input file belongs to
  (``snnc simulate ART --plot ART/graph.nir``, ``snnc regress ART --golden ART/g.json --update``);
* would replace a directory holding an input (``snnc compile proj/m.pt --target cpu -o proj``);
* is another output of the same command (``--json x --plot x``).

Then, inside the ``with`` block, every output is locked against a second writer
(:func:`snnc.io.output_lock`, which also removes dead processes' temporaries) and an ``artifact``
output that already exists must be an snnc artifact (:func:`snnc.artifact_manifest.check_replaceable`).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Union

from snnc.errors import SnncError

PathLike = Union[str, os.PathLike]
#: (label, path) or (label, path, kind); kind: "file" (default), "artifact" (a directory replaced as a
#: whole), "folder" (a directory written into). A None path is skipped.
Entry = Union[tuple[str, Union[PathLike, None]], tuple[str, Union[PathLike, None], str]]


@dataclass(frozen=True)
class _Resolved:
    label: str
    given: str
    real: str
    kind: str = "file"

    def show(self) -> str:
        return f"{self.label} {self.given}"


def _resolve(entries: Iterable[Entry]) -> list[_Resolved]:
    out = []
    for entry in entries:
        label, path = entry[0], entry[1]
        if path is None:
            continue
        kind = entry[2] if len(entry) > 2 else "file"
        out.append(_Resolved(label, str(path), os.path.realpath(os.fspath(path)), kind))
    return out


def _with_artifacts(inputs: list[_Resolved]) -> list[_Resolved]:
    """Inputs plus the artifact directory each input file lies in (its other files are inputs too)."""
    from snnc.artifact_manifest import artifact_root

    extra = []
    for i in inputs:
        if os.path.isfile(i.real):
            root = artifact_root(i.real)
            if root is not None:
                extra.append(_Resolved(f"the artifact of {i.label}", str(root), os.path.realpath(root), "folder"))
    return inputs + extra


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    with contextlib.suppress(OSError):
        return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)
    return False


def _inside(child: str, parent: str) -> bool:
    return child.startswith(parent.rstrip(os.sep) + os.sep)


def check_collisions(inputs: Iterable[Entry], outputs: Iterable[Entry]) -> list[_Resolved]:
    """Raise SnncError for the first output that is, lies in, or would replace an input (or another
    output); returns the resolved outputs."""
    ins, outs = _with_artifacts(_resolve(inputs)), _resolve(outputs)
    for o in outs:
        for i in ins:
            if _same(o.real, i.real):
                raise SnncError(f"{o.show()}: is the input {i.show()}; refusing to overwrite an input")
            if _inside(o.real, i.real):
                raise SnncError(f"{o.show()}: lies inside the input {i.show()}; write outputs outside their inputs")
            if _inside(i.real, o.real):
                raise SnncError(f"{o.show()}: would replace the input {i.show()}, which lies inside it; "
                                f"choose another output")
    for k, a in enumerate(outs):
        for b in outs[k + 1:]:
            if _same(a.real, b.real) or (_inside(a.real, b.real) and b.kind == "artifact") \
                    or (_inside(b.real, a.real) and a.kind == "artifact"):
                raise SnncError(f"{b.show()}: collides with {a.show()}; give each output its own path")
    return outs


@contextlib.contextmanager
def guard_outputs(inputs: Iterable[Entry], outputs: Iterable[Entry]) -> Iterator[None]:
    """Check ``outputs`` against ``inputs`` (module docstring), then hold a lock on every output."""
    from snnc.artifact_manifest import check_replaceable
    from snnc.io import check_writable_target, output_lock

    outs = check_collisions(inputs, outputs)
    for o in outs:
        if o.kind == "artifact":
            check_replaceable(o.given, o.label)
        elif o.kind == "file":
            check_writable_target(o.given, o.label)
    with contextlib.ExitStack() as stack:
        for o in outs:
            stack.enter_context(output_lock(Path(o.given), o.label))
        yield
