"""/progress: the patient's last 4 to 12 weeks as one phone-sized chart and a few kind words.

Data prep, wording and drawing are separate small functions so each is tested on its own; only
`load` touches the database. Everything is grouped by the patient's local date.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import format_decimal

import locales
from dialogs import records
from dialogs import charts
from dialogs.records import Session
from dialogs.io import File
from locales import _, ngettext
from storage.models import Patient

if TYPE_CHECKING:
    from dialogs.base import Turn

MIN_WEEKS, MAX_WEEKS = 4, 12
COMPARE_DAYS, COMPARE_SLACK = 28, 7  # "four weeks ago" only if a PEG lies 21-35 days before the latest
ADHERENCE_DAYS, STREAK_SHOWN = 28, 3
@dataclass(frozen=True)
class Entry:
    """One completed response, reduced to what the chart needs."""

    instrument: str
    completed_at: datetime
    peg: float | None = None
    pain: float | None = None
    sleep: float | None = None


@dataclass
class Series:
    days: list[date]
    pain: list[float | None]
    sleep: list[float | None]
    peg_weeks: list[date]  # PEGs inside the window, to plot
    peg: list[float]
    all_pegs: list[tuple[date, float]] = field(default_factory=list)  # also older ones, to compare with
    checked: set[date] = field(default_factory=set)  # local dates with any completed check-in
    first: date | None = None

    @property
    def empty(self) -> bool:
        return not self.peg and all(v is None for v in self.pain + self.sleep)


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # a stale or odd name should not hide the chart


def load(session: Session, patient_id: int, now: datetime) -> list[Entry]:
    # Enough history for the longest window plus the four-weeks-ago comparison before it.
    since = now - timedelta(weeks=MAX_WEEKS, days=COMPARE_DAYS + COMPARE_SLACK)
    responses = records.completed_responses(session, patient_id, since)
    daily_ids = [r.id for r in responses if r.instrument == "daily"]
    rows = records.daily_answers(session, daily_ids, ("pain_now", "sleep_hours"))
    values = {(rid, item): (None if skipped else value) for rid, item, value, skipped in rows}
    return [
        Entry(r.instrument, r.completed_at, (r.score or {}).get("score") if r.instrument == "peg3" else None,
              values.get((r.id, "pain_now")), values.get((r.id, "sleep_hours")))
        for r in responses
    ]


def prepare(entries: list[Entry], zone: ZoneInfo, today: date) -> Series:
    """Daily values by local date; a skipped or missing answer stays None (a gap, never a zero)."""
    local = sorted(((e.completed_at.astimezone(zone).date(), e) for e in entries), key=lambda p: p[1].completed_at)
    first = local[0][0] if local else today
    # The window starts at the first check-in, in whole weeks, at least 4 (so a new chart is not cramped) and at most 12.
    weeks = min(MAX_WEEKS, max(MIN_WEEKS, math.ceil(((today - first).days + 1) / 7)))
    days = [today - timedelta(days=n) for n in range(weeks * 7 - 1, -1, -1)]
    # A later check-in of the same day wins, but a later skip keeps the earlier answer.
    pain = {day: e.pain for day, e in local if e.pain is not None}
    sleep = {day: e.sleep for day, e in local if e.sleep is not None}
    pegs = {day: e.peg for day, e in local if e.peg is not None}
    in_window = [(d, v) for d, v in sorted(pegs.items()) if days[0] <= d <= today]
    return Series(
        days=days,
        pain=[pain.get(d) for d in days],
        sleep=[sleep.get(d) for d in days],
        peg_weeks=[d for d, _v in in_window],
        peg=[v for _d, v in in_window],
        all_pegs=sorted(pegs.items()),
        checked={d for d, _e in local},
        first=first if local else None,
    )


def peg_change(pegs: list[tuple[date, float]]) -> tuple[float, float | None] | None:
    """(latest PEG, its change from the PEG closest to four weeks before it, or None if there is none)."""
    if not pegs:
        return None
    latest_day, latest = pegs[-1]
    target = latest_day - timedelta(days=COMPARE_DAYS)
    near = [(abs((d - target).days), v) for d, v in pegs[:-1] if abs((d - target).days) <= COMPARE_SLACK]
    if not near:
        return latest, None
    earlier = min(near, key=lambda p: p[0])[1]
    # From the rounded values, so "PEG 5.3, down 1.2" always means it was 6.5 at one decimal.
    return latest, round(round(latest, 1) - round(earlier, 1), 1)


def streak(checked: set[date], today: date) -> int:
    """Days in a row with a check-in, up to today; today not done yet does not break it."""
    day = today if today in checked else today - timedelta(days=1)
    count = 0
    while day - timedelta(days=count) in checked:
        count += 1
    return count


def number(x: float) -> str:
    return format_decimal(x, format="#,##0.0", locale=locales.formatting())  # always one decimal: 5.0, 5,3


def summary(series: Series, today: date) -> str:
    lines = []
    peg = peg_change(series.all_pegs)
    if peg is not None:
        score, change = peg
        if change is None:
            lines.append(_("Your latest PEG score: {score} (0 to 10; lower is better).").format(score=number(score)))
        elif change < 0:
            lines.append(_("PEG {score}, down {change} from four weeks ago.").format(score=number(score), change=number(-change)))
        elif change > 0:
            lines.append(_("PEG {score}, up {change} from four weeks ago.").format(score=number(score), change=number(change)))
        else:
            lines.append(_("PEG {score}, the same as four weeks ago.").format(score=number(score)))
    if series.first is not None:
        # Counted only since the first check-in: days before they started are not "missed".
        span = min(ADHERENCE_DAYS, (today - series.first).days + 1)
        done = sum(1 for n in range(span) if today - timedelta(days=n) in series.checked)
        if span == 1:
            words = _("You checked in today.") if done else ""
        else:
            words = ngettext(
                "You checked in on {n} of the last {days} day.", "You checked in on {n} of the last {days} days.", span
            ).format(n=done, days=span)
        run = streak(series.checked, today)
        if run >= STREAK_SHOWN:
            words += " " + ngettext("{n} day in a row.", "{n} days in a row.", run).format(n=run)
        lines.append(words.strip())
    return "\n".join(line for line in lines if line)


def chart_labels(weeks: int, study_code: str | None = None) -> dict[str, str]:
    """The chart's words; with a study code, titled for the clinician who reads it."""
    if study_code:
        title = ngettext("{code}: last {n} week", "{code}: last {n} weeks", weeks).format(code=study_code, n=weeks)
    else:
        title = ngettext("Your last {n} week", "Your last {n} weeks", weeks).format(n=weeks)
    return {
        "title": title,
        "pain_axis": _("Pain, 0 to 10 (lower is better)"),
        "pain": _("Daily pain"),
        "peg": _("Weekly PEG score"),
        "sleep_axis": _("Hours slept"),
    }


def chart(session: Session, patient: Patient, now: datetime, *, for_clinician: bool = False) -> File | None:
    """The patient's chart with its summary as the caption (in the current language), or None
    before there is anything to draw. The clinician's view of a patient shows the same, titled
    with the study code (`for_clinician`). Only its recipe: it is drawn after the transaction
    (`charts.drawn`)."""
    zone = zone_of(patient.timezone)
    today = now.astimezone(zone).date()
    series = prepare(load(session, patient.id, now), zone, today)
    if series.empty:
        return None
    recipe = charts.progress_recipe(series.days, series.pain, series.sleep, series.peg_weeks, series.peg,
                                    chart_labels(len(series.days) // 7, patient.study_code if for_clinician else None))
    return File(filename="progress.png", data=b"", caption=summary(series, today), mime_type="image/png", recipe=recipe)


def progress(turn: "Turn") -> None:
    if (file := chart(turn.session, turn.patient, turn.now)) is None:
        turn.say(_("Your progress chart will appear here after a few check-ins. There's no rush."))
        return
    turn.outputs.append(file)
