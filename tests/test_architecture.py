"""The direction of dependencies (issue 14), enforced over the import graph.

Layers: models, compiler (bottom) <- frontends, backends <- app (``snnc/``).
Every ``import`` / ``from ... import`` anywhere in a file counts, including
those inside functions, and so does ``importlib.import_module("literal")``;
relative imports are resolved.  The io helpers
(``snnc.errors``, ``snnc.io``, ``snnc.paths``, ``snnc.artifact_manifest``)
may be imported by every layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# folder -> package name of the editable install
PACKAGES = {
    "models": "snnc.models",
    "compiler": "snnc.compiler",
    "frontends": "snnc.frontends",
    "backends": "snnc.backends",
    "snnc": "snnc",
}
HELPERS = {"snnc.errors", "snnc.io", "snnc.paths", "snnc.artifact_manifest", "snnc.native"}
# importer layer -> layers it may import (besides HELPERS and itself)
ALLOWED = {
    "models": {"models", "compiler"},
    "compiler": {"compiler", "models"},
    "frontends": {"frontends", "compiler", "models"},
    "backends": {"backends", "compiler", "models"},
    "app": {"app", "frontends", "backends", "compiler", "models"},
}

# Known exceptions to the rule (none today). An entry that no longer occurs fails the test, so the
# list can only shrink.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


def layer_of(module: str) -> str | None:
    """The layer of a module name, 'helper' for the io helpers, None if outside snnc."""
    if module in HELPERS or any(module.startswith(h + ".") for h in HELPERS):
        return "helper"
    for layer in ("models", "compiler", "frontends", "backends"):
        pkg = PACKAGES[layer]
        if module == pkg or module.startswith(pkg + "."):
            return layer
    if module == "snnc" or module.startswith("snnc."):
        return "app"
    return None


def module_name(path: Path) -> str:
    """``compiler/passes/probe.py`` -> ``snnc.compiler.passes.probe``."""
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([PACKAGES[parts[0]], *parts[1:]])


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Every module named by an import statement anywhere in ``source``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # ``from snnc import errors`` names the submodule snnc.errors
            submodules = {f"{target}.{a.name}" for a in node.names}
            submodules = {name for name in submodules if _is_module(name)}
            found |= submodules
            if len(submodules) < len(node.names):
                found.add(target)
        elif _is_dynamic_import(node):
            found.add(node.args[0].value)
    return found


def _is_dynamic_import(node: ast.AST) -> bool:
    """``importlib.import_module("literal")`` / ``find_spec("literal")``."""
    if not isinstance(node, ast.Call) or not node.args:
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    first = node.args[0]
    return (name in ("import_module", "find_spec") and isinstance(first, ast.Constant)
            and isinstance(first.value, str))


def _is_module(name: str) -> bool:
    """Whether ``name`` is a module or package file of the repository."""
    for folder, pkg in sorted(PACKAGES.items(), key=lambda kv: -len(kv[1])):
        if name == pkg or name.startswith(pkg + "."):
            rest = name[len(pkg):].lstrip(".").split(".") if name != pkg else []
            base = REPO / folder / Path(*rest) if rest else REPO / folder
            return base.with_suffix(".py").exists() or (base / "__init__.py").exists()
    return False


def violations_in(source: str, module: str, is_package: bool = False) -> set[tuple[str, str]]:
    """(importer, imported) pairs of ``source`` that break the layer rule."""
    importer_layer = layer_of(module)
    bad: set[tuple[str, str]] = set()
    for target in imported_modules(source, module, is_package):
        target_layer = layer_of(target)
        if target_layer in (None, "helper") or importer_layer in (None, "helper"):
            continue
        if target_layer not in ALLOWED[importer_layer]:
            bad.add((module, target))
    return bad


def all_violations() -> set[tuple[str, str]]:
    bad: set[tuple[str, str]] = set()
    for folder in PACKAGES:
        for path in sorted((REPO / folder).rglob("*.py")):
            module = module_name(path)
            bad |= violations_in(path.read_text(), module, path.name == "__init__.py")
    return bad


def test_imports_point_down_the_layers():
    found = all_violations()
    new = sorted(found - KNOWN_VIOLATIONS)
    gone = sorted(KNOWN_VIOLATIONS - found)
    assert not new, f"imports against the layer rule (docs/design.md): {new}"
    assert not gone, f"fixed violations still listed in KNOWN_VIOLATIONS, remove them: {gone}"


def test_checker_reports_a_function_level_upward_import():
    source = "def f():\n    from snnc.backends.cpu import run\n    return run\n"
    assert violations_in(source, "snnc.compiler.x") == {("snnc.compiler.x", "snnc.backends.cpu")}
    dynamic = "import importlib\nmod = importlib.import_module('snnc.backends.lava')\n"
    assert violations_in(dynamic, "snnc.compiler.x") == {("snnc.compiler.x", "snnc.backends.lava")}


def test_checker_resolves_relative_imports_and_allows_helpers():
    source = "from ..io import atomic_write\nfrom .. import data\n"
    assert violations_in(source, "snnc.commands.x") == set()
    upward = "from ...backends.cpu import simulator\n"
    assert violations_in(upward, "snnc.compiler.passes.probe") == {
        ("snnc.compiler.passes.probe", "snnc.backends.cpu.simulator")}
    assert violations_in("from snnc import errors, io\n", "snnc.compiler.y") == set()
    assert violations_in("from snnc import data\n", "snnc.compiler.y") == {
        ("snnc.compiler.y", "snnc.data")}
