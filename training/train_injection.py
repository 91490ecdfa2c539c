"""Train the injection classifier shipped in `chatkeep.guards.injection` (reproducible, offline after pip).

Run from the repository root:  .venv/bin/python -m training.train_injection
(needs scikit-learn and scipy, which the server does not: `pip install scikit-learn`)

1. Fetch the pinned training packages listed in `training/injection_data.py` with pip.
2. Fit a logistic regression on the train split of their rows, features as the server computes them
   (`classifier.features` over `normalised_view`), choosing C on the validation split; the scoring
   window follows from the length of the training attacks.
3. Choose thresholds on the validation split only: `flag` lets at most 2 % of the benign validation rows
   that contain trigger words ("ignore", "instructions", "system prompt", …) through, `block` none of the
   benign validation rows (with a margin). Test splits and evaluation-only sources are never read.
4. Write `src/chatkeep/guards/injection/classifier_weights.npz` (float16 weights, compressed).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from chatkeep.guards.injection.classifier import BITS, TRAIN_CHARS, WEIGHTS_FILE, Model, features
from chatkeep.guards.injection.detect import _match
from chatkeep.guards.injection.normalise import normalised_view, original_view
from training.injection_data import HARD_WORDS, TRAIN_PACKAGES, Row, training_rows

OUTPUT = Path(__file__).resolve().parent.parent / "src" / "chatkeep" / "guards" / "injection" / WEIGHTS_FILE
C_VALUES = (0.5, 2.0, 8.0, 32.0)
FLAG_BENIGN_RATE = 0.02
BLOCK_MARGIN = 0.05
HARD_NEGATIVE_WEIGHT = 5.0
WINDOWS = (128, 256, 512, 1024, TRAIN_CHARS)


def matrix(rows: list[Row]) -> csr_matrix:
    """Rows as a sparse matrix of the features the server computes."""
    data, indices, pointers = [], [], [0]
    for row in rows:
        index, value = features(normalised_view(row.text)[:TRAIN_CHARS])
        indices.append(index)
        data.append(value)
        pointers.append(pointers[-1] + len(index))
    return csr_matrix(
        (np.concatenate(data), np.concatenate(indices), np.array(pointers)), shape=(len(rows), 1 << BITS)
    )


def rules_match(text: str) -> bool:
    """True when an injection rule (not the classifier) finds something in `text`."""
    return bool(_match(original_view(text), normalised_view(text)))


def main() -> None:
    # The classifier only reads texts no rule matched, so it learns from the attacks the rules miss: an
    # attack the rules already catch would teach it that "instructions" alone means an attack.
    rows = [row for row in training_rows() if not (row.attack and rules_match(row.text))]
    train = [row for row in rows if row.split == "train"]
    validation = [row for row in rows if row.split == "validation"]
    x_train, y_train = matrix(train), np.array([row.attack for row in train])
    x_val, y_val = matrix(validation), np.array([row.attack for row in validation])
    print(
        f"train {len(train)} ({y_train.sum()} attacks), validation {len(validation)} ({y_val.sum()} attacks)"
    )

    # Hard negatives (benign text that says "ignore", "instructions", "system prompt", …) are rare in
    # public data and are exactly where a bag of n-grams goes wrong: each counts HARD_NEGATIVE_WEIGHT times.
    hard_train = np.array([not row.attack and HARD_WORDS.search(row.text) is not None for row in train])
    weights_train = np.where(hard_train, HARD_NEGATIVE_WEIGHT, 1.0)
    print(f"hard negatives in train: {hard_train.sum()}")
    best: tuple[float, float, LogisticRegression] | None = None
    for c in C_VALUES:
        fitted = LogisticRegression(
            C=c, class_weight="balanced", max_iter=2000, solver="liblinear", random_state=0
        )
        fitted.fit(x_train, y_train, sample_weight=weights_train)
        precision = average_precision_score(y_val, fitted.predict_proba(x_val)[:, 1])
        print(f"C={c:<5} validation average precision {precision:.3f}")
        if best is None or precision > best[0]:
            best = (precision, c, fitted)
    assert best is not None
    _, c, fitted = best
    weights = fitted.coef_[0].astype(np.float16)
    views = [normalised_view(row.text) for row in validation]
    # The scoring window: validation texts are mostly shorter than every candidate, so it cannot choose;
    # the window is the smallest candidate that holds 90 % of the training attacks whole, so a long text
    # is read in pieces the size of the examples the model learnt from.
    lengths = sorted(len(normalised_view(row.text)) for row in train if row.attack)
    typical = lengths[int(0.9 * (len(lengths) - 1))]
    window = min((w for w in WINDOWS if w >= typical), default=TRAIN_CHARS)
    print(f"90 % of training attacks are at most {typical} characters: window {window}")
    learned = Model(weights.astype(np.float32), float(fitted.intercept_[0]), 0.0, 0.0, window)
    scores = np.array([learned.probability(view) for view in views])
    benign = np.sort(scores[~y_val])
    # Hard negatives (benign rows that say "ignore", "instructions", "system prompt", …) set the bar:
    # easy small talk would let a much lower threshold pass for 2 %.
    hard = np.array([not row.attack and HARD_WORDS.search(row.text) is not None for row in validation])
    print(f"hard negatives in validation: {hard.sum()}")
    flag = float(np.quantile(scores[hard], 1 - FLAG_BENIGN_RATE)) + 1e-6
    block = min(0.99, float(benign[-1]) + BLOCK_MARGIN)
    recall_flag = float((scores[y_val] >= flag).mean())
    recall_block = float((scores[y_val] >= block).mean())
    print(f"chose C={c}, window {learned.window}: flag >= {flag:.3f} (validation recall {recall_flag:.3f}),")
    print(f"         block >= {block:.3f} (validation recall {recall_block:.3f})")

    sources = {package.name: package.version for package in TRAIN_PACKAGES}
    np.savez_compressed(
        OUTPUT,
        weights=weights,
        bias=np.float32(fitted.intercept_[0]),
        flag_threshold=np.float32(flag),
        block_threshold=np.float32(block),
        window=np.int32(learned.window),
        sources=np.array(json.dumps(sources)),
    )
    print(f"wrote {OUTPUT.relative_to(Path.cwd()) if OUTPUT.is_relative_to(Path.cwd()) else OUTPUT}")
    print(f"size {OUTPUT.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
