"""Count what the bad-input corpus of issue 12 does (the table of docs/results.md).

    .venv/bin/python bench/bad_inputs_summary.py [--cases]

Runs every row of ``tests/cli/test_cli_bad_inputs.py::CASES`` in-process, exactly as the test does (a fresh
copy of the tiny base files per case, the command run from there, every file hashed before and after), and
prints a Markdown table: inputs tried, clean refusals (exit 2, one line, nothing touched), tracebacks or
internal errors, other wrong exit codes, inputs damaged, files left behind, plus one row per category.
``--cases`` also lists every case that is not a clean refusal, with its first error line.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "cli"), str(ROOT / "tests")]

from test_cli_bad_inputs import CASES, build_base, run_case  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", action="store_true", help="list the cases that are not clean refusals")
    args = ap.parse_args()
    rows: dict[str, Counter] = {}
    bad = []
    with tempfile.TemporaryDirectory(prefix="snnc-bad-inputs-") as tmp:
        base = build_base(Path(tmp) / "base")
        for i, case in enumerate(CASES):
            o = run_case(case, base, Path(tmp) / f"case{i}")
            for key in (case.category, "all"):
                c = rows.setdefault(key, Counter())
                c["tried"] += 1
                c["clean"] += o.clean
                c["traceback"] += o.traceback
                c["wrong_exit"] += (o.code != 2 and not o.traceback)
                c["damaged"] += bool(o.damaged)
                c["left"] += bool(o.left)
            if not o.clean:
                first = (o.err.strip().splitlines() or [o.out.strip()[:100]])[0][:140]
                bad.append(f"- {case.id}: exit {o.code}; {first}"
                           + (f"; damaged {o.damaged}" if o.damaged else "") + (f"; left {o.left}" if o.left else "")
                           + (f"; missing {o.missing_words}" if o.missing_words else ""))
    print("| category | inputs tried | clean refusals | tracebacks / internal errors | wrong exit codes | "
          "inputs damaged | files left behind |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for key in [k for k in rows if k != "all"] + ["all"]:
        c = rows[key]
        name = "**all**" if key == "all" else key
        print(f"| {name} | {c['tried']} | {c['clean']} | {c['traceback']} | {c['wrong_exit']} | {c['damaged']} | "
              f"{c['left']} |")
    if args.cases and bad:
        print("\nnot clean:")
        print("\n".join(bad))


if __name__ == "__main__":
    main()
