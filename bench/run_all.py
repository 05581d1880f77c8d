"""Run every benchmark section and write docs/benchmarks.md (``make bench``; not a test).

Sections are discovered, not listed: every ``bench/bench_*.py`` that defines

    def section(quick: bool = False) -> str      # markdown, starting with a "## " heading

is imported and called in file-name order (``bench_cpu.py``, ``bench_lava.py``, ...). A section that
raises is reported as failed with its error, and the others still run. ``--only NAME`` runs the
sections whose module name contains NAME and splices them into the existing document, replacing the
sections of the same heading and keeping every other one (each spliced section says when it was run alone);
``--quick`` asks each for a short run; ``--output`` writes elsewhere (default docs/benchmarks.md, replaced
atomically at the end).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import platform
import re
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent


def discover(only: str | None = None) -> list[Path]:
    """The section modules, in file-name order."""
    files = sorted(BENCH.glob("bench_*.py"))
    return [f for f in files if only is None or only in f.stem]


RERUN_NOTE = "Sections marked *run alone* were measured later, each in a run of its own."


def _split(text: str) -> tuple[str, list[str]]:
    """(the text before the first "## " heading, the sections, each from its heading to the next); joined
    again they give ``text`` back unchanged."""
    head, *sections = re.split(r"(?m)^(?=## )", text)
    return head, sections


def splice_sections(old: str, new: list[str], provenance: str) -> str:
    """``old`` with each section of ``new`` in place of the section of ``old`` with the same heading line
    (appended when there is none), ``provenance`` written under each new heading, and every other section of
    ``old`` kept as it was."""
    head, sections = _split(old)
    if RERUN_NOTE not in head:
        head = head.rstrip("\n") + "\n" + RERUN_NOTE + "\n\n"
    for sec in new:
        title, _, body = sec.strip("\n").partition("\n")
        marked = f"{title}\n\n*{provenance}*\n{body}\n\n"
        at = [i for i, old_sec in enumerate(sections) if old_sec.partition("\n")[0] == title]
        if at:
            sections[at[0]] = marked
        else:
            sections.append(marked)
    return (head + "".join(sections)).rstrip("\n") + "\n"


def load_section(path: Path):
    spec = importlib.util.spec_from_file_location(f"snnc_bench_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(BENCH))
    return getattr(mod, "section", None)


def machine() -> str:
    import torch

    try:
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover
        load = "n/a"
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:  # pragma: no cover
        pass
    return (f"{cpu}, {os.cpu_count()} cores, load average {load} at start; Python {platform.python_version()}, "
            f"torch {torch.__version__}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="run only the sections whose module name contains this")
    ap.add_argument("--quick", action="store_true", help="short runs (smoke test of the benchmark code)")
    ap.add_argument("--output", default=str(REPO / "docs" / "benchmarks.md"))
    args = ap.parse_args(argv)
    host, started = machine(), dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [
        "# snnc benchmarks",
        "",
        f"Written by `bench/run_all.py` ({'quick' if args.quick else 'full'} run) on "
        f"{started}. Machine: {host}.",
        "Every number below was measured in this run; ratios compare timings taken in the same run, interleaved.",
        "",
    ]
    failures = 0
    for path in discover(args.only):
        start = time.perf_counter()
        print(f"[bench] {path.stem} ...", file=sys.stderr, flush=True)
        try:
            fn = load_section(path)
            if fn is None:
                continue
            parts.append(fn(quick=args.quick).rstrip() + "\n")
        except Exception as e:  # noqa: BLE001 - a failing section is reported, the others still run
            failures += 1
            parts.append(f"## {path.stem}\n\nFAILED: `{type(e).__name__}: {e}`\n\n```\n{traceback.format_exc()}```\n")
        print(f"[bench] {path.stem}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    text = "\n".join(parts)
    if args.only and out.is_file():  # run alone: replace these sections, keep the others
        text = splice_sections(out.read_text(), _split(text)[1],
                               f"Run alone by `bench/run_all.py --only {args.only}{' --quick' if args.quick else ''}` on "
                               f"{started}. Machine: {host}.")
    tmp.write_text(text)
    os.replace(tmp, out)
    print(f"wrote {out}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
