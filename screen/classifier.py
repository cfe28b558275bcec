"""The statistical half of the screen: a linear model over character n-grams, in all three languages.

The phrase lists recognise the sentences they were written from; people in pain write otherwise.
This model generalises from labelled examples (`tests/screen_sets/train/`) to phrasings no list
has: coinages, calm decisions without a method word, everyday words for red flags. It runs offline
from one file shipped in the package (`screen/model/classifier.json.gz`), needs nothing but the
standard library, and costs well under a millisecond for a short message.

Features are words, word pairs and the 3- to 5-letter pieces of each word (padded with spaces), of
the same normal form the lists use (`screen.text.normalize`): pieces survive typos, missing accents
and German compounds. A long message is scored whole, sentence by sentence and in overlapping
windows of twelve words, and each outcome takes its highest score, so a crisis sentence inside a
long story of pain is not diluted, punctuated or not.

The file records its version, the SHA-256 of its weights and the thresholds chosen on the
validation set; `load()` refuses a file that does not match (`ModelError`), so a corrupt or
missing model stops the bot at start instead of leaving the lists to run alone unnoticed.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import json
import math
import re
from dataclasses import dataclass
from importlib import resources

from screen.text import normalize

MODEL_FILE = "classifier.json.gz"
WINDOW_WORDS, STRIDE = 12, 6  # a longer sentence is also scored in overlapping windows of 12 words
MIN_CHUNK_WORDS = 4  # a shorter sentence is scored only as part of the whole ("Nein, danke." alone says little)
MAX_WORDS = 1200  # the model reads the first and last 600 words of a very long message (the lists read all)
_SENTENCES = re.compile(r"(?<=[.!?;\n])\s+|\n+")


class ModelError(RuntimeError):
    """The shipped model is missing, unreadable or does not match its recorded hash."""


def features(normalized: str) -> dict[str, float]:
    """Counts of the model's features in one normalised text."""
    words = normalized.split()
    counts: dict[str, float] = {}
    for i, word in enumerate(words):
        counts["w:" + word] = counts.get("w:" + word, 0.0) + 1
        if i:
            pair = f"b:{words[i - 1]} {word}"
            counts[pair] = counts.get(pair, 0.0) + 1
        padded = f" {word} "
        for n in (3, 4, 5):
            for k in range(len(padded) - n + 1):
                piece = padded[k:k + n]
                counts[piece] = counts.get(piece, 0.0) + 1
    return counts


def weighted(counts: dict[str, float]) -> dict[str, float]:
    """Sub-linear counts, scaled to unit length (the same in training and at run time)."""
    values = {f: 1.0 + math.log(c) for f, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
    return {f: v / norm for f, v in values.items()}


def chunks(text: str) -> list[str]:
    """The normalised pieces a message is scored in: the whole, and each sentence or window."""
    words = normalize(text).split()
    if len(words) > MAX_WORDS:
        words = words[: MAX_WORDS // 2] + words[-MAX_WORDS // 2:]
    whole = " ".join(words)
    pieces = [whole] if whole else []
    if len(words) <= 8:
        return pieces
    seen = {whole}
    for sentence in (normalize(s) for s in _SENTENCES.split(text)):
        sentence_words = sentence.split()
        candidates = [sentence]
        if len(sentence_words) > WINDOW_WORDS:  # "I will not be here tomorrow" after twenty words of pain
            last = len(sentence_words) - WINDOW_WORDS
            starts = [*range(0, last, STRIDE), last]  # the tail is a full window, never a stub
            candidates += [" ".join(sentence_words[s:s + WINDOW_WORDS]) for s in starts]
        for piece in candidates:
            if len(piece.split()) >= MIN_CHUNK_WORDS and piece not in seen:
                seen.add(piece)
                pieces.append(piece)
    return pieces


@dataclass(frozen=True)
class Model:
    version: str
    digest: str  # SHA-256 of the weights as stored
    classes: tuple[str, ...]
    weights: dict[str, tuple[float, ...]]  # feature -> one weight per class
    intercepts: tuple[float, ...]
    thresholds: dict[str, float]  # outcome -> probability at or above which the model raises it

    def probabilities(self, normalized: str) -> dict[str, float]:
        scores = list(self.intercepts)
        for feature, value in weighted(features(normalized)).items():
            row = self.weights.get(feature)
            if row is not None:
                for k, w in enumerate(row):
                    scores[k] += w * value
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps)}

    def score(self, text: str) -> dict[str, float]:
        """Each outcome's highest probability over the message's chunks ({} for an empty message)."""
        best: dict[str, float] = {}
        for piece in chunks(text):
            for outcome, p in self.probabilities(piece).items():
                if p > best.get(outcome, -1.0):
                    best[outcome] = p
        return best


def weights_digest(classes, intercepts, weights) -> str:
    canonical = json.dumps([classes, intercepts, sorted(weights.items())], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse(data: bytes, source: str = MODEL_FILE) -> Model:
    try:
        document = json.loads(gzip.decompress(data))
        classes, intercepts, weights = document["classes"], document["intercepts"], document["weights"]
        model = Model(
            version=str(document["version"]), digest=str(document["sha256"]), classes=tuple(classes),
            weights={f: tuple(row) for f, row in weights.items()}, intercepts=tuple(intercepts),
            thresholds={k: float(v) for k, v in document["thresholds"].items()},
        )
    except (OSError, EOFError, ValueError, KeyError, TypeError) as error:
        raise ModelError(f"screen/model/{source}: unreadable safety model ({error.__class__.__name__})") from None
    if weights_digest(classes, intercepts, weights) != model.digest:
        raise ModelError(f"screen/model/{source}: the safety model does not match its recorded SHA-256")
    if any(len(row) != len(classes) for row in model.weights.values()) or len(intercepts) != len(classes):
        raise ModelError(f"screen/model/{source}: the safety model's weights do not fit its classes")
    return model


@functools.cache
def load() -> Model:
    """The shipped model, read once per process."""
    try:
        data = resources.files("screen").joinpath("model", MODEL_FILE).read_bytes()
    except OSError:
        raise ModelError(f"screen/model/{MODEL_FILE}: the safety model is missing; reinstall paincoach") from None
    return parse(data)
