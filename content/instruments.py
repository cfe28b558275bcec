"""The short measures as data: items, scales, codes and scoring rules, from content/instruments/*.toml.

Validated items are reproduced word for word in English; their Spanish and German texts come from
our catalogs and are marked as not validated (`validated`), a mark the exports carry.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from statistics import fmean
from typing import Any

from content.files import ContentError, require

SCORINGS = ("none", "mean", "phq4")
MAIN_SCORE = {"mean": "score", "phq4": "total"}  # the key of the instrument's own score in score()
PHQ4_BANDS = [(2, "normal"), (5, "mild"), (8, "moderate"), (12, "severe")]


@dataclass(frozen=True)
class Option:
    value: int
    label: str
    loinc: str | None = None  # a LOINC answer code (LA…), for exports


@dataclass(frozen=True)
class Subscale:
    name: str
    loinc: str | None = None


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    kind: str  # "scale" (0-10 buttons) | "number" (typed) | "choice" (buttons)
    minimum: float = 0
    maximum: float = 10
    decimals: bool = False
    options: tuple[Option, ...] = ()
    low: str | None = None
    high: str | None = None
    loinc: str | None = None
    optional: bool = False
    subscale: str | None = None
    clock: bool = False  # a time of day, typed as the patient says it, kept as minutes after midnight (0-1439)
    # A clock item's bare hour ("half six", "7"): read as the question implies, "morning" (04:00-15:59)
    # or "night" (18:00-05:59); None: the patient is asked which.
    bare_hour: str | None = None


@dataclass(frozen=True)
class Instrument:
    id: str
    name: str
    recall: str
    licence: str
    scoring: str
    items: tuple[Item, ...]
    validated: dict[str, bool] = field(default_factory=dict)
    stem: str | None = None
    loinc_panel: str | None = None
    score_loinc: str | None = None
    score_name: str | None = None
    subscales: dict[str, Subscale] = field(default_factory=dict)  # by the items' `subscale`
    redcap_prefix: str | None = None  # the REDCap form's own fields' prefix, when the id is too long for them
    observed: bool = False  # each answer is also a FHIR Observation (a diary, charted over time)

    def item(self, item_id: str) -> Item:
        return next(item for item in self.items if item.id == item_id)


def parse(data: dict[str, Any], where: str) -> Instrument:
    scoring = require(data, "scoring", str, where)
    if scoring not in SCORINGS:
        raise ContentError(f"{where}: key 'scoring' must be one of {SCORINGS}, not {scoring!r}")
    shared_options = tuple(_options(data["options"], f"{where}: options")) if "options" in data else ()
    items = []
    for index, raw in enumerate(require(data, "items", list, where)):
        at = f"{where}: items[{index}]"
        options = tuple(_options(raw["options"], f"{at}.options")) if "options" in raw else shared_options
        if "scale" in raw:
            low, high = require(raw, "scale", list, at)
            kind = "scale"
        elif "number" in raw:
            low, high = require(raw, "number", list, at)
            kind = "number"
        elif options:
            low, high, kind = min(o.value for o in options), max(o.value for o in options), "choice"
        else:
            raise ContentError(f"{at}: needs one of 'scale', 'number' or 'options'")
        items.append(
            Item(
                id=require(raw, "id", str, at),
                text=require(raw, "text", str, at),
                kind=kind,
                minimum=low,
                maximum=high,
                decimals=bool(raw.get("decimals", False)),
                options=options if kind == "choice" else (),
                low=raw.get("low"),
                high=raw.get("high"),
                loinc=raw.get("loinc"),
                optional=bool(raw.get("optional", False)),
                subscale=raw.get("subscale"),
                clock=bool(raw.get("clock", False)),
                bare_hour=raw.get("bare_hour"),
            )
        )
        if items[-1].bare_hour not in (None, "morning", "night") or (items[-1].bare_hour and not items[-1].clock):
            raise ContentError(f"{at}: bare_hour is \"morning\" or \"night\", on a clock item")
        if items[-1].clock and (kind != "number" or (low, high) != (0, 1439) or items[-1].decimals):
            raise ContentError(f"{at}: a clock item is a whole number = [0, 1439] (minutes after midnight)")
    if scoring != "none" and any(item.optional for item in items):
        raise ContentError(f"{where}: items of a scored instrument cannot be optional")
    subscales = {
        key: Subscale(require(raw, "name", str, f"{where}: subscales.{key}"), raw.get("loinc"))
        for key, raw in require(data, "subscales", dict, where).items()
    } if "subscales" in data else {}
    unnamed = {item.subscale for item in items if item.subscale} - subscales.keys()
    if subscales and unnamed:
        raise ContentError(f"{where}: subscales {sorted(unnamed)} have no entry under 'subscales'")
    return Instrument(
        id=require(data, "id", str, where),
        name=require(data, "name", str, where),
        recall=require(data, "recall", str, where),
        licence=require(data, "licence", str, where),
        scoring=scoring,
        items=tuple(items),
        validated=dict(require(data, "validated", dict, where)),
        stem=data.get("stem"),
        loinc_panel=data.get("loinc_panel"),
        score_loinc=data.get("score_loinc"),
        score_name=data.get("score_name"),
        subscales=subscales,
        redcap_prefix=data.get("redcap_prefix"),
        observed=bool(data.get("observed", False)),
    )


def _options(raw: list, where: str) -> list[Option]:
    if not isinstance(raw, list):
        raise ContentError(f"{where}: must be a list")
    return [Option(require(o, "value", int, where), require(o, "label", str, where), o.get("loinc")) for o in raw]


@cache
def instruments() -> dict[str, Instrument]:
    found = {}
    for entry in sorted(resources.files(__package__).joinpath("instruments").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            with entry.open("rb") as fp:
                instrument = parse(tomllib.load(fp), f"content/instruments/{entry.name}")
            found[instrument.id] = instrument
    seen: dict[str, str] = {}
    for measure in found.values():  # the wide export has a column per item: ids must not collide
        for item in measure.items:
            if item.id in seen:
                raise ContentError(f"content/instruments: item id {item.id!r} is in both {seen[item.id]} and {measure.id}")
            seen[item.id] = measure.id
    return found


def instrument(instrument_id: str) -> Instrument:
    return instruments()[instrument_id]


def score(instrument: Instrument, answers: dict[str, float]) -> dict[str, Any] | None:
    """The instrument's scores from its answers (all items answered), or None if it is unscored."""
    if instrument.scoring == "none":
        return None
    values = [answers[item.id] for item in instrument.items]
    if instrument.scoring == "mean":
        return {MAIN_SCORE["mean"]: round(fmean(values), 2)}
    # PHQ-4: total 0-12 in bands; each two-item subscale positive at 3 or more.
    total = int(sum(values))
    result: dict[str, Any] = {MAIN_SCORE["phq4"]: total, "band": next(band for top, band in PHQ4_BANDS if total <= top)}
    for subscale in ("anxiety", "depression"):
        sub = int(sum(answers[item.id] for item in instrument.items if item.subscale == subscale))
        result[subscale] = sub
        result[f"{subscale}_positive"] = sub >= 3
    return result
