"""Train the screen's classifier and choose its thresholds: `python -m screen.train` (needs the
`train` extra: scikit-learn). Writes screen/model/classifier.json.gz and prints what it measured.

Training: tests/screen_sets/train/ and the first labelled set (tests/safety_set/). Choosing the
regularisation and the thresholds: tests/screen_sets/validation/ only. The held-out set is never
read here.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path

from screen import classifier, policy, rules, sets
from screen.text import normalize

OUT = Path(__file__).resolve().parent / "model" / classifier.MODEL_FILE
CLASSES = ("none", *policy.OUTCOMES[:-2], "medication", "diet")
ALARMS = policy.DANGER | policy.RED_FLAGS  # what counts as a false alarm on everyday talk
# False alarms the model may add to the lists' own on the validation set's everyday talk (half of
# which are hard near misses). A false alarm costs a gentle question; a miss can cost a life.
MAX_ADDED_ALARMS = 0.03
GRID = [round(0.05 * k, 2) for k in range(6, 19)]  # never below 0.3: a guess is not a finding
# Replies that tell someone what they live through (abuse, an eating disorder) or send them to a
# doctor (red flags), and alert their clinic, need the model to be surer than that: "my partner
# keeps my tablets" is a safety plan's answer, "this pain is killing me" no red flag.
FLOOR = {policy.ABUSE: 0.5, policy.EATING_DISORDER: 0.5, policy.RED_FLAG_EMERGENCY: 0.5, policy.RED_FLAG_TODAY: 0.5,
         policy.OVERDOSE_TAKEN: 0.5}


def fit(lines, c: float):
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform([classifier.weighted(classifier.features(normalize(line.text))) for line in lines])
    y = [CLASSES.index(line.outcome) for line in lines]
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    model.fit(x, y)
    names = vectorizer.get_feature_names_out()
    classes = [CLASSES[k] for k in model.classes_]
    weights = {}
    for j, name in enumerate(names):
        row = [round(float(model.coef_[k, j]), 4) for k in range(len(classes))]
        if max(abs(w) for w in row) >= 0.002:
            weights[str(name)] = row
    intercepts = [round(float(b), 4) for b in model.intercept_]
    return classes, intercepts, weights


def build(classes, intercepts, weights, thresholds, version) -> classifier.Model:
    digest = classifier.weights_digest(classes, intercepts, weights)
    return classifier.Model(version, digest, tuple(classes), {f: tuple(r) for f, r in weights.items()},
                            tuple(intercepts), thresholds)


def evaluate(lines, model: classifier.Model, thresholds) -> dict:
    """Recall per outcome (a danger message counts as caught by any danger outcome) and false alarms."""
    caught: dict[str, list[int]] = {}
    alarms, replies = [], []
    for line, verdicts, scores in _screened(lines, model):
        found = set(policy.decide(verdicts, scores, thresholds).outcomes())
        if line.outcome == "none":
            alarms.append(bool(found & ALARMS))
            replies.append(bool(found))
            continue
        if line.outcome in policy.DANGER:
            hit = bool(found & policy.DANGER)
        elif line.outcome in policy.RED_FLAGS:
            hit = bool(found & policy.RED_FLAGS)
        else:
            hit = line.outcome in found
        caught.setdefault(line.outcome, []).append(hit)
    recall = {o: sum(v) / len(v) for o, v in caught.items()}
    return {"recall": recall, "false_alarms": sum(alarms) / max(1, len(alarms)),
            "false_replies": sum(replies) / max(1, len(replies))}


_cache: dict = {}


def _screened(lines, model):
    key = id(model)
    if key not in _cache:
        _cache.clear()
        _cache[key] = [(line, rules.screen_all(line.text) + rules.advice_all(line.text),
                        model.score(line.text) if len(normalize(line.text).split()) >= policy.MIN_MODEL_WORDS else {})
                       for line in lines]
    return _cache[key]


def choose_thresholds(validation, model) -> dict[str, float]:
    """Per outcome, the lowest threshold that keeps false alarms on everyday talk within bounds."""
    thresholds = {o: 0.9 for o in policy.OUTCOMES}
    lists_only = evaluate(validation, model, {o: 1.1 for o in policy.OUTCOMES})
    allowed = lists_only["false_alarms"] + MAX_ADDED_ALARMS
    allowed_replies = lists_only["false_replies"] + 2 * MAX_ADDED_ALARMS  # medication or diet replies included
    for _round in range(2):
        for outcome in (policy.CRISIS, policy.DIRECT_QUESTION, *policy.MODEL_RAISES):
            best = None
            for t in (t for t in GRID if t >= FLOOR.get(outcome, 0.0)):
                trial = {**thresholds, outcome: t}
                result = evaluate(validation, model, trial)
                if result["false_alarms"] > allowed + 1e-9 or result["false_replies"] > allowed_replies + 1e-9:
                    continue
                # Missing danger weighs most: a false alarm costs a question, a miss can cost a life.
                gain = sum(r * (3 if o in policy.DANGER else 1) for o, r in result["recall"].items())
                if best is None or gain > best[0] + 1e-9:
                    best = (gain, t)
            if best:
                thresholds[outcome] = best[1]
    return thresholds


def main() -> int:
    training = sets.read("train") + sets.read_first_set()
    validation = sets.read("validation")
    data_hash = hashlib.sha256("\n".join(f"{l.outcome}\t{l.text}" for l in training).encode()).hexdigest()[:12]
    best = None
    for c in (10.0, 30.0, 100.0):
        classes, intercepts, weights = fit(training, c)
        model = build(classes, intercepts, weights, {}, "")
        thresholds = choose_thresholds(validation, model)
        result = evaluate(validation, model, thresholds)
        score = sum(result["recall"].values())
        print(f"C={c}: validation recall {json.dumps({k: round(v, 3) for k, v in result['recall'].items()})} "
              f"false alarms {result['false_alarms']:.3f}", file=sys.stderr)
        if best is None or score > best[0]:
            best = (score, c, classes, intercepts, weights, thresholds)
    _, c, classes, intercepts, weights, thresholds = best
    version = f"ngram-lr-{data_hash}-C{c:g}"
    document = {
        "version": version, "sha256": classifier.weights_digest(classes, intercepts, weights),
        "classes": classes, "intercepts": intercepts, "thresholds": thresholds, "weights": weights,
        "trained_on": len(training), "chosen_on": len(validation),
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_bytes(gzip.compress(json.dumps(document, separators=(",", ":"), sort_keys=True).encode(), mtime=0))
    print(f"{version}: {len(weights)} features, thresholds {thresholds}, {OUT.stat().st_size // 1024} KB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
