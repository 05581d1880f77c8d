"""The "paper size" section of ``docs/paper-tables.md``, written from the committed results alone.

Per variant (seeds pooled): accuracy of the exact attention, the fused gains and the fixed-point graph under
Lava timing, NASFR and per-layer LASFR, analytic and measured energy and r_REC (Eq. S4, each seed against
the vanilla run of the same seed), all as mean ± SD over seeds (SD with n − 1; one seed: no SD), the
published values beside them, the wall time of every run, and three plain answers. An answer whose results
are missing says "not yet measured". The section sits between two HTML comments, so rewriting it leaves the
rest of the document as it was.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from snnc.experiment.variants import BY_NAME, MAIN_RESULTS, TABLE_S3
from snnc.io import atomic_path

BEGIN = "<!-- paper-size section: written by snnc experiment --size paper from docs/results/paper/*.json -->"
END = "<!-- end of the paper-size section -->"
ROWS = ("vanilla", "asa", "tcsa")
NOT_YET = "**not yet measured**"
PAPER_R_REC = TABLE_S3["asa"][1]  # Table S3: ASA against vanilla, −76.1 %
PAPER_GAIN = MAIN_RESULTS["asa"][0] - MAIN_RESULTS["vanilla"][0]  # released README: +3.9 points


def mean_sd(values: list[float]) -> tuple[float, float | None]:
    """(mean, sample SD with n − 1; None for fewer than two values)."""
    n = len(values)
    m = sum(values) / n
    return m, (math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1)) if n > 1 else None)


def fmt(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    """"m ± sd" of ``values`` × scale ("—" when empty, no ± for one value)."""
    vals = [scale * v for v in values if isinstance(v, (int, float)) and not math.isnan(v)]
    if not vals:
        return "—"
    m, sd = mean_sd(vals)
    return f"{m:.{digits}f}" + ("" if sd is None else f" ± {sd:.{digits}f}")


def _by_variant(results: list[dict]) -> dict[str, dict[int, dict]]:
    by: dict[str, dict[int, dict]] = {}
    for r in results:
        by.setdefault(r["variant"], {})[int(r["settings"]["seed"])] = r
    return by


def _row(cells: list) -> str:
    """One Markdown table row."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _runs_by_row(by: dict[str, dict[int, dict]]):
    """(variant, its runs, possibly none) in the order of the tables' rows."""
    for name in ROWS:
        yield name, list(by.get(name, {}).values())


def r_recs(by: dict[str, dict[int, dict]], name: str) -> list[dict[str, float]]:
    """Eq. S3–S4 of every seed of ``name`` against the vanilla run of the same seed."""
    from snnc.experiment.report import comparison

    vanilla = by.get("vanilla", {})
    return [comparison(r, vanilla[s]) for s, r in sorted(by.get(name, {}).items()) if s in vanilla]


def _accuracy_rows(by: dict[str, dict[int, dict]]) -> list[str]:
    lines = ["| model | seeds | acc. exact % | acc. fused % | acc. fixed point, Lava timing % | paper acc. % | "
             "NASFR | paper NASFR |", "|---|---|---|---|---|---|---|---|"]
    for name, runs in _runs_by_row(by):
        pub = MAIN_RESULTS.get(name) or ("—", "—")
        if not runs:
            lines.append(_row([BY_NAME[name].label, "—", NOT_YET, "—", "—", pub[0], "—", pub[1]]))
            continue
        accuracy = [fmt([r[stage]["accuracy"] for r in runs], 100) for stage in ("exact", "fused", "fixed_point_lava")]
        lines.append(_row([runs[0]["label"], ", ".join(str(s) for s in sorted(by[name])), *accuracy, pub[0],
                           fmt([r["exact"]["nasfr"] for r in runs], 1, 3), pub[1]]))
    return lines


def _lasfr_rows(by: dict[str, dict[int, dict]]) -> list[str]:
    layers: list[str] = []
    for runs in by.values():
        for r in runs.values():
            layers += [n for n in r["exact"]["lasfr"] if n not in layers]
    if not layers:
        return []
    lines = ["| model | " + " | ".join(layers) + " |", "|---|" + "---|" * len(layers)]
    for _, runs in _runs_by_row(by):
        if runs:
            cells = [fmt([r["exact"]["lasfr"][n] for r in runs if n in r["exact"]["lasfr"]], 1, 3) for n in layers]
            lines.append(_row([runs[0]["label"], *cells]))
    return lines


def _energy_rows(by: dict[str, dict[int, dict]]) -> list[str]:
    lines = ["| model | E analytic µJ | E measured µJ | r_REC analytic (Eq. S4) | Δ measured | paper E mJ | paper r_REC |",
             "|---|---|---|---|---|---|---|"]
    for name, runs in _runs_by_row(by):
        if not runs:
            continue
        tot = [r["exact"]["energy"]["totals"] for r in runs]
        comp = r_recs(by, name)
        pub = TABLE_S3.get(name)
        lines.append(_row([runs[0]["label"], fmt([t["energy_analytic_pj"] for t in tot], 1e-6, 3),
                           fmt([t["energy_measured_pj"] for t in tot], 1e-6, 3),
                           f"{fmt([c['r_rec'] for c in comp], 100)} %", f"{fmt([c['measured_r'] for c in comp], 100)} %",
                           pub[0] if pub else "—", "—" if not pub or pub[1] is None else f"{100 * pub[1]:+.1f} %"]))
    return lines


def saving_verdict(mean_r_rec: float) -> str:
    """The answer to "does ASA's saving reproduce?" for the mean r_REC over seeds: its sign, then its size
    against the paper's."""
    if mean_r_rec >= 0:
        return "no: ASA costs more energy than vanilla"
    return "yes, a saving as large as the paper's" if mean_r_rec <= PAPER_R_REC else "a saving, smaller than the paper's"


def asa_against_tcsa(by: dict[str, dict[int, dict]]) -> str:
    """Table S3's ranking, judged on the seeds both ASA and TCSA were run with (the vanilla energy, and so
    each variant's, differs from seed to seed), with the means over all their seeds beside it."""
    energy = {n: {s: r["exact"]["energy"]["totals"]["energy_analytic_pj"] for s, r in by.get(n, {}).items()}
              for n in ("asa", "tcsa")}
    question = "- **Does ASA < TCSA in energy (Table S3) hold?**"
    paired = sorted(set(energy["asa"]) & set(energy["tcsa"]))
    if not paired:
        return f"{question} {NOT_YET} (needs ASA and TCSA runs of the same seed)."
    wins = sum(energy["asa"][s] < energy["tcsa"][s] for s in paired)
    verdict = "yes" if wins == len(paired) else "no" if wins == 0 else f"mixed: on {wins} of {len(paired)} seeds"
    each = "; ".join(f"seed {s}: ASA {energy['asa'][s] / 1e6:.1f} against TCSA {energy['tcsa'][s] / 1e6:.1f} µJ"
                     for s in paired)
    means = ", ".join(f"{n.upper()} {fmt(list(e.values()), 1e-6)} µJ over {len(e)} seed(s)" for n, e in energy.items())
    return (f"{question} {verdict} ({each}; analytic). Over all their seeds: {means}. Paper: "
            f"{TABLE_S3['asa'][0]} < {TABLE_S3['tcsa'][0]} mJ.")


def answers(by: dict[str, dict[int, dict]]) -> list[str]:
    """The three questions of issue 16, answered from the numbers (or "not yet measured")."""
    out = []
    asa = r_recs(by, "asa")
    if not asa:
        out.append(f"- **Does ASA's energy saving reproduce at full size?** {NOT_YET} (needs vanilla and ASA runs "
                   "of the same seed).")
    else:
        m, _ = mean_sd([c["r_rec"] for c in asa])
        out.append(f"- **Does ASA's energy saving reproduce at full size?** {saving_verdict(m)}: r_REC = "
                   f"{fmt([c['r_rec'] for c in asa], 100)} % over {len(asa)} seed(s), paper {100 * PAPER_R_REC:+.1f} %.")
    out.append(asa_against_tcsa(by))
    acc = {n: [r["exact"]["accuracy"] for r in by.get(n, {}).values()] for n in ("vanilla", "asa")}
    if len(acc["vanilla"]) < 2 or len(acc["asa"]) < 2:
        out.append(f"- **Is the paper's {PAPER_GAIN:+.1f}-point accuracy gain visible beyond the seed spread?** {NOT_YET} "
                   f"(needs at least 2 seeds each; have {len(acc['vanilla'])} vanilla, {len(acc['asa'])} ASA).")
    else:
        (mv, sv), (ma, sa) = mean_sd(acc["vanilla"]), mean_sd(acc["asa"])
        gain = 100 * (ma - mv)
        se = 100 * math.sqrt(sv ** 2 / len(acc["vanilla"]) + sa ** 2 / len(acc["asa"]))
        seen = "yes" if gain > 2 * se else "no"
        per_seed = ", ".join(f"{100 * (r['exact']['accuracy'] - by['vanilla'][s]['exact']['accuracy']):+.1f}"
                             for s, r in sorted(by["asa"].items()) if s in by["vanilla"])
        out.append(f"- **Is the paper's {PAPER_GAIN:+.1f}-point accuracy gain visible beyond the seed spread?** {seen}: ASA − vanilla "
                   f"= {gain:+.1f} points, 2 SE of the difference over seeds = {2 * se:.1f} points (same seed: "
                   f"{per_seed or '—'}).")
    return out


def _optimizer(settings: dict[str, Any]) -> str:
    """The training recipe of ``settings`` in words: Adam's rate, its warm-up and the weight gradients."""
    words = f"Adam lr {settings['lr']:g}"
    if settings.get("warmup_steps"):
        words += f" warmed up linearly over {settings['warmup_steps']} steps"
    return words + f", {settings.get('weight_grad', 'exact')} conv weight gradients"


def render_section(results: list[dict], command: str, plan: tuple[tuple[str, int], ...] | None = None,
                   other: list[str] | None = None) -> str:
    """The markdown of the section, markers included; ``other`` names the committed runs left out because they
    were trained with other settings than the plan's."""
    from snnc.experiment.paper_results import PLAN

    by = _by_variant(results)
    plan = plan or PLAN
    missing = [f"{v} seed {s}" for v, s in plan if s not in by.get(v, {})]
    size = "64/128/128, FC 256, T = 60"
    if results:
        s, c = results[0]["settings"], results[0]["config"]
        size = f"{'/'.join(str(w) for w in c['widths'])}, FC {c['fc_hidden']}, T = {s['T']}"
    lines = [BEGIN, "", f"## Paper size ({size})", ""]
    if results:
        lines += [f"Written by `{command}` from {len(results)} committed result(s) in `docs/results/paper/`. Data: "
                  f"{s['data']}; widths {c['widths']}, FC {c['fc_hidden']}, T = {s['T']}; {s['epochs']} epochs on "
                  f"{s['train_samples']} samples (batch {s['batch_size']}, {_optimizer(s)}), {results[0]['samples']} "
                  "held-out samples. "
                  "Mean ± SD over seeds. *Fixed point, Lava timing*: the `--target lava` graph (fused gains without "
                  "the ReLU, quantized) on the reference simulator's Lava integer neuron and one-step synaptic delay, read out "
                  "pipeline-aware (output counted over steps D … T + D − 1).", ""]
    lines += ["Plan: " + ", ".join(f"{v} seed {s}" for v, s in plan) + "; each result is committed to "
              "`docs/results/paper/<variant>-seed<s>.json` when its run finishes, and rerunning `snnc experiment "
              "--size paper --data synthetic-hard` skips every run committed with the same settings hash.",
              "", "Missing: " + (", ".join(missing) if missing else "nothing; the plan is complete") + ".", "",
              *([f"Not shown: {len(other)} committed result(s) trained with other settings than this plan's "
                 f"({', '.join(other)}); each is replaced when this plan's run of it finishes.", ""] if other else []),
              "### Accuracy and firing rate", "", *_accuracy_rows(by), ""]
    if results:
        lines += ["### Per-layer firing rate (LASFR)", "", *_lasfr_rows(by), "",
                  "### Energy per sample against vanilla (same seed)", "", *_energy_rows(by), "",
                  "### Runs", "", "| run | settings hash | wall time | training | torch threads |", "|---|---|---|---|---|"]
        for r in sorted(results, key=lambda r: (r["variant"], r["settings"]["seed"])):
            train_s = (r.get("train") or {}).get("seconds")
            lines.append(f"| {r['variant']} seed {r['settings']['seed']} | `{r['key']}` | "
                         f"{r.get('wall_seconds', 0) / 60:.1f} min | {'—' if train_s is None else f'{train_s / 60:.1f} min'} | "
                         f"{r.get('threads', '—')} |")
        lines.append("")
    lines += ["### Answers", "", *answers(by), "", END]
    return "\n".join(lines) + "\n"


def splice(text: str, section: str) -> str:
    """``text`` with its paper-size section replaced by ``section`` (appended when there is none)."""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        return head + section.rstrip("\n") + rest.split(END, 1)[1]
    return text.rstrip("\n") + ("\n\n" if text.strip() else "") + section


def write_paper_section(doc: str | Path, results_dir: str | Path, command: str,
                        keys: dict[tuple[str, int], str] | None = None) -> Path:
    """Rewrite (atomically) the paper-size section of ``doc`` from the results in ``results_dir``. With ``keys``
    ({(variant, seed): settings hash} of the plan being run) only the results of those settings are tabulated,
    so that one table never mixes two training recipes; the others are named as not shown."""
    from snnc.experiment.paper_results import load_committed

    doc = Path(doc)
    found = load_committed(Path(results_dir))
    if keys is None:
        shown, other = found, []
    else:
        current = [keys.get((r["variant"], r["settings"].get("seed"))) == r.get("key") for r in found]
        shown = [r for r, ok in zip(found, current) if ok]
        other = [f"{r['variant']} seed {r['settings'].get('seed')}" for r, ok in zip(found, current) if not ok]
    text = doc.read_text() if doc.is_file() else "# The supplement's tables, recomputed by snnc\n"
    with atomic_path(doc, "--doc") as tmp:
        tmp.write_text(splice(text, render_section(shown, command, other=other)))
    return doc
