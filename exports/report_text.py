"""The visit report's words: the four boxes, the safety line, the PHQ-4 strip and the text blocks,
from `Facts`, in the reader's language (words, dates and numbers alike)."""
from __future__ import annotations

from datetime import date

from babel.dates import format_date, format_interval, format_skeleton
from babel.numbers import format_percent

import locales
from content.instruments import PHQ4_BANDS
from dialogs.progress import number
from dialogs.sprint import METRICS
from exports import report_routines
from exports.page import ALERT, BODY, INK, MUTED, SMALL
from exports.report_facts import POSITIVE, PHQ4_SHOWN, WEEKS, Facts
from locales import _, ngettext


def day(d: date) -> str:
    return format_date(d, format="medium", locale=locales.formatting())


def span(start: date, end: date) -> str:
    return format_interval(start, end, "yMMMd", locale=locales.formatting())


def signed(x: float) -> str:
    return ("+" if x > 0 else "−" if x < 0 else "±") + number(abs(x))


def glance(f: Facts) -> list[tuple[str, str, list[str]]]:
    """The four boxes across the page: (heading, the number, the details)."""
    started = ngettext("{n} more started by the patient", "{n} more started by the patient", f.self_started).format(
        n=f.self_started) if f.self_started else ""
    if f.checkins_sent:
        share = format_percent(f.checkins_answered / f.checkins_sent, locale=locales.formatting())
        checkins = (share, [ngettext("{n} of {m} invitation answered", "{n} of {m} invitations answered", f.checkins_sent).format(
            n=f.checkins_answered, m=f.checkins_sent), started])
    elif f.self_started:  # answered from the menu: no invitation is not no check-in
        checkins = (str(f.self_started), [_("No invitations sent"), ngettext(
            "{n} started by the patient", "{n} started by the patient", f.self_started).format(n=f.self_started)])
    else:
        checkins = ("—", [_("No check-ins sent")])
    flares = ("0", [_("No flares recorded")]) if not f.flares else (str(f.flares), [
        _("one is ongoing") if f.flare_open else _("none ongoing"),
        _("peak pain {values}").format(values=", ".join(map(str, f.flare_peaks))) if f.flare_peaks else ""])
    breathing = ("0", [_("No breathing drills")]) if not f.breathing else (str(f.breathing), [
        ngettext("{n} drill completed", "{n} drills completed", f.breathing_completed).format(n=f.breathing_completed),
        _("tension {change} on average (0–10)").format(change=signed(f.tension_change)) if f.tension_change is not None else ""])
    thoughts = ("0", [_("No thought-checks")]) if not f.thoughts else (str(f.thoughts), [
        ngettext("{n} thought-check completed", "{n} thought-checks completed", f.thoughts_completed).format(n=f.thoughts_completed),
        _("belief {change} points on average (0–100)").format(change=signed(f.belief_change)) if f.belief_change is not None else ""])
    return [(_("Check-ins (28 days)"), *checkins), (_("Flares"), *flares),
            (_("Breathing drills"), *breathing), (_("Thought-checks"), *thoughts)]


def safety_line(f: Facts) -> str | None:
    """One line: what the safety screen found in these weeks, and alerts nobody acknowledged."""
    kinds = {"crisis": _("crisis messages"), "overdose_taken": _("took too much medicine"),
             "abuse": _("violence or fear at home disclosed"), "ambiguous": _("asked about thoughts of suicide"),
             "red_flag": _("red-flag symptoms"), "eating_disorder": _("disordered eating disclosed")}
    short = lambda d: format_skeleton("MMMd", d, locale=locales.formatting())  # noqa: E731 - the year is in the header
    parts = [_("{what}: {n} (last {day})").format(what=kinds.get(k, k), n=n, day=short(last)) for k, (n, last) in f.safety.items()]
    if f.open_alerts:
        parts.append(_("alerts not acknowledged: {n}").format(n=f.open_alerts))
    return _("Safety, {weeks} weeks:").format(weeks=WEEKS) + " " + " · ".join(parts) if parts else None


FACTS_LINES = 2  # the lines a row of figures keeps however full the page (the patient's words give way first)


def sections(f: Facts) -> list[tuple[str, list[tuple[str, str]], str, int]]:
    """The text blocks: (heading, [(label, text)], what to say when there is nothing, the fewest lines
    a row keeps: 1 for the patient's words, FACTS_LINES for figures)."""
    visit = visit_labels()
    story = {"where_it_hurts": _("Where it hurts"), "since_when": _("Since when"), "what_makes_it_worse": _("Makes it worse"),
             "what_has_been_tried": _("Tried so far"), "good_day": _("A good day")}
    metric = lambda m: _(METRICS[m][0]) if m in METRICS else m
    sprint, sprint_heading = [], _("Sprint")
    if (s := f.sprint) is not None:
        sprint_heading = ngettext("Sprint, {dates} ({weeks} week)", "Sprint, {dates} ({weeks} weeks)", s.weeks).format(
            dates=span(s.started_on, s.ends_on), weeks=s.weeks)
        if s.review is None:
            sprint = [(_("Working on"), ", ".join(map(metric, s.metrics))), (_("Review"), _("not reviewed yet"))]
        for m, result in (s.review or {}).items():
            first, last = result.get("first"), result.get("last")
            sprint.append((metric(m), _("not enough answers to compare") if first is None or last is None
                           else _("first week {first} → last week {last}").format(first=number(first), last=number(last))))
    visit_heading = _("For this visit (prepared {day})").format(day=day(f.visit_day)) if f.visit else _("For this visit")
    routines = [] if f.routines.empty else [(_("Between check-ins"), report_routines.lines(f.routines), "", FACTS_LINES)]
    return [(visit_heading, [(visit[k], v) for k, v in f.visit.items()], _("No visit notes prepared"), 1), *routines,
            (sprint_heading, sprint, _("No sprint started"), FACTS_LINES),
            (_("Pain story"), [(story[k], v) for k, v in f.story.items()], _("No pain story given"), 1)]


def visit_labels() -> dict[str, str]:
    """What the patient's visit notes are called, field by field (the dashboard shows them too)."""
    return {"goals": _("Goals for this visit"), "questions": _("Questions"), "changes": _("What has changed"),
            "treatment": _("Treatment considered")}


def band_name(band: str) -> str:
    return {"normal": _("normal"), "mild": _("mild"), "moderate": _("moderate"), "severe": _("severe")}.get(band, band)


def phq4_lines(f: Facts) -> list[tuple[str, str, float]]:
    """The PHQ-4 strip as (text, colour, size) lines: the latest in full, the ones before in short."""
    if not f.phq4:
        return [(_("No PHQ-4 answered in these {weeks} weeks").format(weeks=WEEKS), MUTED, BODY)]
    latest, *before = f.phq4[:PHQ4_SHOWN]
    screen = lambda n: _("positive screen") if n >= POSITIVE else _("negative screen")  # noqa: E731
    lines = [(_("{day}: total {total} of 12, {band} · anxiety (GAD-2) {anxiety} of 6, {anxiety_screen} · "
                "depression (PHQ-2) {depression} of 6, {depression_screen}").format(
        day=day(latest.day), total=latest.total, band=band_name(latest.band), anxiety=latest.anxiety,
        anxiety_screen=screen(latest.anxiety), depression=latest.depression, depression_screen=screen(latest.depression)),
        ALERT if latest.band == "severe" else INK, BODY)]
    if before:
        earlier = " · ".join(_("{day}: {total}, {band}").format(day=day(p.day), total=p.total, band=band_name(p.band)) for p in before)
        lines.append((_("Before: {earlier}").format(earlier=earlier), INK, SMALL))
    return lines


def phq4_bands() -> str:
    """The published bands (Kroenke et al. 2009), to read the numbers by."""
    bands = ", ".join(f"{band_name(band)} {low}–{top}" for (top, band), low in zip(PHQ4_BANDS, [0] + [t + 1 for t, _b in PHQ4_BANDS]))
    return _("{bands}; a subscale of {n} or more screens positive").format(bands=bands, n=POSITIVE)
