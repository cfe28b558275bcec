"""One patient's range (`exports.history`) laid out for the page: each table's cells worded as the
desk words them, every time in the clinician's zone and naming it, and two small SVG charts drawn
on the server (pain with the weekly PEG above hours slept): no script, nothing fetched."""
from __future__ import annotations

from datetime import datetime, timedelta
from statistics import fmean
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_percent

import locales
from clinic.desk import BANDS, integer
from content.breathing import drills
from content.instruments import instrument
from content.practices import practices
from content.lessons import course
from dialogs.progress import number
from exports.history import History
from exports.report import phq4_bands, visit_labels
from exports.report_routines import at as clock_time, clock, sleep_summary
from locales import _

WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 720, 200, 36, 22, 10, 10  # the charts' box, in SVG units


def tables(history: History, zone: ZoneInfo) -> dict:
    """What each table of the page shows, as text; an empty list is a table not shown."""
    when = lambda at: locales.moment(at, zone)  # noqa: E731
    maybe = lambda value, say=integer: "" if value is None else say(value)  # noqa: E731 - a skipped item stays blank
    paced = {option.value: _(option.label) for item in instrument("daily").items if item.id == "pacing_followed" for option in item.options}
    patterns = drills()[1]
    guided = practices()
    outcome = lambda completed: _("completed") if completed else _("stopped") if completed is False else ""  # noqa: E731
    positive = lambda name, value, flag: _("{scale} positive").format(scale=f"{name} {integer(value)}") if flag else f"{name} {integer(value)}"  # noqa: E731
    day = lambda d: format_date(d, "medium", locale=locales.formatting())  # noqa: E731
    return {
        "first": day(history.span.first) if history.span.first else None, "last": day(history.span.last),
        "peg": [[when(p.at), maybe(p.pain), maybe(p.enjoyment), maybe(p.activity), maybe(p.score, number)] for p in history.peg],
        "phq4": [[when(p.at), f"{integer(p.total)} {_(BANDS[p.band])}" if p.band in BANDS else integer(p.total),
                  positive("GAD-2", p.anxiety, p.anxiety_positive), positive("PHQ-2", p.depression, p.depression_positive)]
                 for p in history.phq4],
        "phq4_bands": phq4_bands(),
        "daily": [[when(d.at), maybe(d.pain), maybe(d.sleep_hours, number), maybe(d.active_minutes), maybe(d.steps),
                   paced.get(d.paced, "")] for d in history.daily],
        "sleep": [[when(n.at), maybe(n.bedtime, clock_time), maybe(n.wake, clock_time), maybe(n.quality)] for n in history.sleep],
        "sleep_summary": sleep_summary(len(history.sleep), clock([n.bedtime for n in history.sleep if n.bedtime is not None]),
                                       clock([n.wake for n in history.sleep if n.wake is not None]),
                                       fmean(q) if (q := [n.quality for n in history.sleep if n.quality is not None]) else None)
        if history.sleep else None,
        "pacing": [[day(p.day), p.activity,
                    _("baseline day") if p.kind == "baseline" else _("done"), integer(p.minutes), maybe(p.quota, lambda q: integer(round(q)))]
                   for p in history.pacing],
        "drills": [[when(d.at), _(patterns[d.pattern].label) if d.pattern in patterns else d.pattern, length(d.planned_seconds),
                    maybe(d.actual_seconds, length), outcome(d.completed), maybe(d.tension_before), maybe(d.tension_after)] for d in history.drills],
        "practices": [[when(p.at), _(guided[p.kind].label) if p.kind in guided else p.kind, length(p.planned_seconds),
                       maybe(p.actual_seconds, length), outcome(p.completed), maybe(p.tension_before), maybe(p.tension_after),
                       maybe(p.in_charge_before), maybe(p.in_charge_after)] for p in history.practices],
        "lessons": [[lesson_name(e.lesson), e.language or "", when(e.sent), maybe(e.opened, when),
                     "" if e.correct is None else _("right") if e.correct else _("wrong")] for e in history.lessons],
        "visits": [{"when": when(v.at), "notes": [(visit_labels()[key], text) for key, text in v.notes.items()]} for v in history.visits],
        "noted": [{"when": when(at), "text": text} for at, text in history.noted],
        "exercises": [[day(row.week.monday), row.exercise.name, _("{sessions} of {prescribed}").format(
            sessions=integer(row.week.sessions), prescribed=integer(row.week.prescribed)),
            maybe(row.week.share, lambda share: format_percent(share, locale=locales.formatting())), integer(row.skipped),
            integer(row.pain_rises)] for row in history.exercises.weeks],
        "tell_physio": [row.name for row in history.exercises.prescribed if row.id in history.exercises.twice],
    }


def lesson_name(lesson_id: str) -> str:
    lesson = course().get(lesson_id)
    return f"{course().number(lesson_id)}. {_(lesson.title)}" if lesson else lesson_id


def length(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def charts(history: History, zone: ZoneInfo, now: datetime) -> list[dict] | None:
    """Pain (daily dots, the PEG a line), then hours slept, then the sleep diary's nights, across the
    range; None with nothing to draw."""
    pain = [(d.at, d.pain) for d in history.daily if d.pain is not None]
    peg = [(p.at, p.score) for p in history.peg if p.score is not None]
    sleep = [(d.at, d.sleep_hours) for d in history.daily if d.sleep_hours is not None]
    nights = [(n.at, n.bedtime, n.wake) for n in history.sleep if n.bedtime is not None and n.wake is not None]
    if not (pain or peg or sleep or nights):
        return None
    since, until = history.span.bounds(zone)
    start = since or min(at for at, *_v in pain + peg + sleep + nights).astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    end = min(until, max(now, start + timedelta(days=1)))
    top_sleep = max(12, *(hours for _at, hours in sleep)) if sleep else 12
    drawn = []
    if pain or peg or sleep:
        drawn += [
            plot(_("Pain, 0 to 10 (lower is better)"), start, end, zone, 10, dots=pain, line=peg,
                 legend=[("dot", _("Daily pain")), ("line", _("Weekly PEG score"))]),
            plot(_("Hours slept"), start, end, zone, top_sleep, bars=sleep, legend=[]),
        ]
    if nights:
        drawn.append(diary_chart(nights, start, end, zone))
    return drawn


DIARY_FROM = 18 * 60  # the diary chart's day runs from 18:00 down to 18:00 the next day (patient's clock)
CLOCK_LEFT = 64  # room for clock times as labels ("12:00 PM"), where the other charts label 0 to 10


def diary_chart(nights: list[tuple[datetime, float, float]], start: datetime, end: datetime, zone: ZoneInfo) -> dict:
    """Each night a bar from bedtime down to wake time on the patient's clock, placed on the day it was
    answered; a night that runs past 18:00 wraps to the top."""
    chart = plot(_("Sleep diary: in bed, on the patient's clock"), start, end, zone, 24, legend=[], left=CLOCK_LEFT)
    inner = HEIGHT - TOP - BOTTOM
    y = lambda minutes: round(TOP + inner * minutes / (24 * 60), 1)  # noqa: E731 - minutes after 18:00, downwards
    chart["grid"] = [(y(offset), clock_time(DIARY_FROM + offset)) for offset in range(0, 24 * 60 + 1, 4 * 60)]
    span = (end - start).total_seconds() or 1
    bars = []
    for at, bedtime, wake in nights:
        x = round(CLOCK_LEFT + (WIDTH - CLOCK_LEFT - RIGHT) * min(max((at - start).total_seconds() / span, 0), 1), 1) - 2
        top, bottom = (bedtime - DIARY_FROM) % (24 * 60), (wake - DIARY_FROM) % (24 * 60)
        pieces = [(top, bottom)] if bottom > top else [(top, 24 * 60), (0, bottom)]
        bars += [(x, y(a), round(y(b) - y(a), 1)) for a, b in pieces if b > a]
    chart["bars"] = bars
    return chart


def plot(title: str, start: datetime, end: datetime, zone: ZoneInfo, top: float, *, dots=(), line=(), bars=(), legend,
         left: int = LEFT) -> dict:
    span = (end - start).total_seconds() or 1
    x = lambda at: round(left + (WIDTH - left - RIGHT) * min(max((at - start).total_seconds() / span, 0), 1), 1)  # noqa: E731
    y = lambda value: round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - min(value, top) / top), 1)  # noqa: E731
    step = 2 if top <= 12 else 4
    day = lambda at: format_date(at.astimezone(zone).date(), "medium", locale=locales.formatting())  # noqa: E731
    return {
        "title": title, "width": WIDTH, "height": HEIGHT, "left": left, "right": WIDTH - RIGHT, "bottom": HEIGHT - BOTTOM,
        "grid": [(y(v), integer(v)) for v in range(0, int(top) + 1, step)],
        "dots": [(x(at), y(v)) for at, v in dots],
        "line": " ".join(f"{x(at)},{y(v)}" for at, v in line),
        "line_points": [(x(at), y(v)) for at, v in line],
        "bars": [(x(at) - 2, y(v), round(HEIGHT - BOTTOM - y(v), 1)) for at, v in bars],
        "first": day(start), "last": day(end - timedelta(seconds=1)), "legend": legend,
    }
