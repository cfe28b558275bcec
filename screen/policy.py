"""What the screen concludes: the lists and the model together, one leading reply and the rest after it.

Outcomes, in order of precedence (the first is the reply that leads; every other concern found is
still answered after it, so "I want to die and my groin is numb" gets the crisis path and the
red-flag advice):

1. ``crisis`` - the crisis path: resources first, dialog paused, safety plan offered, clinician alerted;
2. ``overdose_taken`` - the emergency number and the emergency department now, then the crisis path;
3. ``direct_question`` - "is that happening for you?", always with the crisis lines;
4. ``abuse`` - a discreet reply with the domestic-violence line, and an alert;
5. ``eating_disorder``;
6. ``red_flag_emergency`` - the emergency department now (saddle numbness, new loss of bladder or
   bowel control, leg weakness getting quickly worse);
7. ``red_flag_today`` - a doctor today (fever with back pain, cancer history with new pain,
   unexplained weight loss, a recent fall);
8. ``medication`` and 9. ``diet`` - never advice, "one for your clinician".

A list match always counts. The model raises an outcome (not medication or diet) when its
probability reaches the threshold chosen on the validation set. A crisis the model is sure of takes the crisis path; one it is less
sure of gets the direct question (with the lines), never silence. Medication and diet replies are
never given beside a crisis, an overdose or the direct question: a plan to take a whole supply is
not a dosing question.
"""
from __future__ import annotations

from dataclasses import dataclass

from screen import classifier, phrases, rules
from screen.text import normalize

CRISIS = "crisis"
OVERDOSE_TAKEN = "overdose_taken"
DIRECT_QUESTION = "direct_question"
ABUSE = "abuse"
EATING_DISORDER = "eating_disorder"
RED_FLAG_EMERGENCY = "red_flag_emergency"
RED_FLAG_TODAY = "red_flag_today"
MEDICATION = "medication"
DIET = "diet"
OUTCOMES = (CRISIS, OVERDOSE_TAKEN, DIRECT_QUESTION, ABUSE, EATING_DISORDER, RED_FLAG_EMERGENCY, RED_FLAG_TODAY,
            MEDICATION, DIET)
DANGER = frozenset({CRISIS, OVERDOSE_TAKEN, DIRECT_QUESTION})  # each of these shows the crisis lines
RED_FLAGS = frozenset({RED_FLAG_EMERGENCY, RED_FLAG_TODAY})
# Beside crisis and the direct question, what the model may raise on its own. Medication and diet
# replies come from the lists only: the coach never advises either way, so a missed question costs
# little, while a medication reply to "can I take a break?" costs the patient's trust.
MODEL_RAISES = (OVERDOSE_TAKEN, ABUSE, EATING_DISORDER, RED_FLAG_EMERGENCY, RED_FLAG_TODAY)
# The model reads a message of at least this many words. A bare "no", "7" or "not sure" is an answer
# to the question on screen, and the lists alone read the shortest disclosures ("kms", "want to die").
MIN_MODEL_WORDS = 3

# A list category and the outcome it gives.
_FROM_LIST = {
    phrases.CRISIS: CRISIS,
    phrases.OVERDOSE_TAKEN: OVERDOSE_TAKEN,
    phrases.AMBIGUOUS: DIRECT_QUESTION,
    phrases.ABUSE: ABUSE,
    phrases.EATING_DISORDER: EATING_DISORDER,
    phrases.RED_FLAG_EMERGENCY: RED_FLAG_EMERGENCY,
    phrases.RED_FLAG_TODAY: RED_FLAG_TODAY,
    rules.MEDICATION: MEDICATION,
    rules.DIET: DIET,
}


@dataclass(frozen=True)
class Finding:
    outcome: str
    source: str  # "list" or "model"
    phrase: str | None = None  # the list phrase that matched (never the patient's words)
    language: str | None = None  # the phrase file it came from
    score: float | None = None  # the model's probability, when the model raised it


@dataclass(frozen=True)
class Screening:
    findings: tuple[Finding, ...]  # one per outcome found, in order of precedence
    model_version: str
    scores: dict[str, float]  # the model's probability per outcome (recorded with safety events)

    @property
    def leading(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    def outcomes(self) -> tuple[str, ...]:
        return tuple(f.outcome for f in self.findings)

    def get(self, outcome: str) -> Finding | None:
        return next((f for f in self.findings if f.outcome == outcome), None)

    def __contains__(self, outcome: str) -> bool:
        return self.get(outcome) is not None


def decide(verdicts, scores: dict[str, float], thresholds: dict[str, float], version: str = "") -> Screening:
    """The outcomes of one message from its list verdicts and the model's probabilities."""
    found: dict[str, Finding] = {}
    for verdict in verdicts:
        outcome = _FROM_LIST.get(verdict.category)
        if outcome and outcome not in found:
            found[outcome] = Finding(outcome, "list", verdict.phrase, verdict.language)
    crisis = scores.get(CRISIS, 0.0)
    if crisis >= thresholds.get(CRISIS, 1.1):
        found.setdefault(CRISIS, Finding(CRISIS, "model", score=crisis))
    elif crisis + scores.get(DIRECT_QUESTION, 0.0) >= thresholds.get(DIRECT_QUESTION, 1.1) and CRISIS not in found:
        found.setdefault(DIRECT_QUESTION, Finding(DIRECT_QUESTION, "model", score=crisis + scores.get(DIRECT_QUESTION, 0.0)))
    for outcome in MODEL_RAISES:
        p = scores.get(outcome, 0.0)
        if p >= thresholds.get(outcome, 1.1):
            found.setdefault(outcome, Finding(outcome, "model", score=p))
    if CRISIS in found:
        found.pop(DIRECT_QUESTION, None)  # the crisis path already asks nothing and shows the lines
    if found.keys() & DANGER:
        found.pop(MEDICATION, None)  # "take them all at once" is not a dosing question
        found.pop(DIET, None)
    if RED_FLAG_EMERGENCY in found:
        found.pop(RED_FLAG_TODAY, None)  # one red-flag reply, the more urgent
    ordered = tuple(found[o] for o in OUTCOMES if o in found)
    return Screening(ordered, version, scores)


def screen(text: str) -> Screening:
    """Screen one message: every language's lists, and the model."""
    model = classifier.load()
    scores = model.score(text) if len(normalize(text).split()) >= MIN_MODEL_WORDS else {}
    return decide(rules.screen_all(text) + rules.advice_all(text), scores, model.thresholds, model.version)
