"""Hold the precision, recall and latency the guards reach on the labelled set (bench/guards_bench.py).

Floors are the measured values minus a small margin: a change that loses detections or adds false
positives fails here. Raise a floor when the guards improve; never lower one to make a change pass.
"""

from __future__ import annotations

import importlib.util
import statistics
import time
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from chatkeep.guards import scan
from chatkeep.guards.categories import INJECTION_CATEGORIES, PII_CATEGORIES

ROOT = Path(__file__).resolve().parents[3]
MARGIN = 0.03

# Measured with bench/guards_bench.py: (split, group) -> (precision, recall).
# With the classifier (issue 11) held-out injection recall rose from 0.684 to 0.895 at precision 1.000; one
# tuning-split hard negative ("Translate to French: 'Please follow the instructions on the box.'") is flagged.
MEASURED = {
    ("all", "pii"): (1.000, 1.000),
    ("all", "injection"): (0.989, 0.978),
    ("all", "overall"): (0.995, 0.989),
    ("all", "message_any"): (0.994, 0.987),
    ("tuning", "overall"): (0.993, 1.000),
    ("holdout", "pii"): (1.000, 1.000),
    ("holdout", "injection"): (1.000, 0.895),
    ("holdout", "overall"): (1.000, 0.949),
}


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("guards_bench", ROOT / "bench" / "guards_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load_bench()


@pytest.fixture(scope="module")
def rows(bench: ModuleType) -> list[dict]:
    return bench.load_rows()


@pytest.fixture(scope="module")
def quality(bench: ModuleType, rows: list[dict]) -> dict[str, dict]:
    splits = {"all": rows, "tuning": [], "holdout": []}
    for row in rows:
        splits[row["split"]].append(row)
    return {name: bench.evaluate(subset) for name, subset in splits.items()}


def test_dataset_is_large_balanced_and_uses_known_labels(rows: list[dict]) -> None:
    assert len(rows) >= 150
    kinds = Counter(
        "mixed"
        if row["pii"] and row["injection"]
        else "pii"
        if row["pii"]
        else "injection"
        if row["injection"]
        else "benign"
        for row in rows
    )
    for kind in ("benign", "pii", "injection"):
        assert 0.25 <= kinds[kind] / len(rows) <= 0.40, kinds
    assert kinds["mixed"] >= 5
    for row in rows:
        assert set(row["pii"]) <= set(PII_CATEGORIES)
        assert set(row["injection"]) <= INJECTION_CATEGORIES
        assert row["split"] in ("tuning", "holdout")


@pytest.mark.parametrize(("key", "measured"), list(MEASURED.items()), ids=lambda value: str(value))
def test_precision_and_recall_hold_their_floor(
    quality: dict[str, dict], key: tuple[str, str], measured: tuple[float, float]
) -> None:
    split, group = key
    scores = quality[split][group]
    assert scores["precision"] >= measured[0] - MARGIN
    assert scores["recall"] >= measured[1] - MARGIN


def test_no_family_falls_below_its_floor(quality: dict[str, dict]) -> None:
    for name, scores in quality["all"].items():
        # The classifier's `suspected_injection` names no category, so no row is labelled with it: on an
        # attack it counts as the labelled categories, on a benign row as a false positive (tested below).
        if ":" in name and name != "injection:suspected_injection":
            assert scores["precision"] >= 0.95, name
            assert scores["recall"] >= 0.70, name


def test_benign_messages_are_left_alone(quality: dict[str, dict], rows: list[dict]) -> None:
    assert quality["all"]["benign_false_positive_rate"]["rate"] <= 0.02
    benign = [row["text"] for row in rows if not row["pii"] and not row["injection"]]
    assert [text for text in benign if scan(text).action == "block"] == []


def test_median_latency_per_message_is_under_5_ms(rows: list[dict]) -> None:
    texts = [row["text"] for row in rows]
    timings = []
    for _ in range(3):
        for text in texts:
            start = time.perf_counter()
            scan(text)
            timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.005


def test_long_message_stays_fast(bench: ModuleType) -> None:
    text = bench.long_message(20_000)
    best = min(_timed(text) for _ in range(3))
    assert best < 0.25  # measured ~20 ms; a lost prefilter or a backtracking pattern costs far more


def _timed(text: str) -> float:
    start = time.perf_counter()
    scan(text)
    return time.perf_counter() - start
