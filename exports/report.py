"""The one-page visit report: what a clinician takes in at a glance about a patient's last 12 weeks.

`gather` is the only part that reads the database (into `Facts`, tested on its own); `figure`
lays the facts out on one A4 page; `render` saves that as PDF or PNG. Pseudonymous: the clinic's
own reference shows only when asked for. Days are the patient's local dates; a missing value is
a gap in a chart, never a zero. Words, dates and numbers are in the reader's language.

A discharged patient's report is still made (the record is the clinic's for its retention
period) and says so beside its title.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from statistics import fmean
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_interval, format_skeleton
from babel.numbers import format_percent
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import locales
from exports.overview import ADHERENCE_DAYS, adherence
from exports.page import ALERT, BODY, H, INK, LINE, MARGIN, MUTED, SMALL, W, Page
from dialogs.charts import Look, trend
from dialogs.progress import Series, load, number, prepare, zone_of
from content.instruments import PHQ4_BANDS
from dialogs.sprint import METRICS
from locales import _, ngettext
from storage.models import (Alert, BreathingSession, FlareEpisode, PainStory, Patient, Response, SafetyEvent, Sprint, ThoughtRecord,
                            VisitPrep)

WEEKS = 12
STORY = ("where_it_hurts", "since_when", "what_makes_it_worse", "what_has_been_tried", "good_day")
VISIT = ("goals", "questions", "changes", "treatment")
PNG_DPI, LABEL = 150, 2.0  # label column, inches
PAIN, PEG, SLEEP = "#e8956b", "#1d3f8f", "#5aa6a0"
PAGE = Look(
    pain=dict(color=PAIN, alpha=0.5, linewidth=1, marker="o", markersize=4, markerfacecolor=PAIN, markeredgecolor="none"),
    peg=dict(color=PEG, linewidth=2.5, marker="o", markersize=6),
    bars=dict(width=0.7, color=SLEEP),
    label_size=SMALL, grid_width=0.7, sleep_step=lambda top: 5,
)


@dataclass(frozen=True)
class SprintFacts:
    metrics: list[str]
    weeks: int
    started_on: date
    ends_on: date
    review: dict[str, dict[str, float | None]] | None


@dataclass(frozen=True)
class Phq4:
    """One PHQ-4 answered: the total (0-12) in its band, and the two-item subscales (0-6 each)."""

    day: date
    total: int
    band: str
    anxiety: int
    depression: int


PHQ4_SHOWN = 4  # the latest, and the ones before it on one line
POSITIVE = 3  # a subscale of 3 or more is a positive screen (Kroenke et al. 2009)
PHQ4_KEYS = {"total", "band", "anxiety", "depression"}


@dataclass
class Facts:
    study_code: str
    reference: str | None
    first_day: date  # the 12 weeks covered, local dates
    today: date
    series: Series
    story: dict[str, str] = field(default_factory=dict)  # answered fields only
    visit: dict[str, str] = field(default_factory=dict)  # from the latest visit preparation
    visit_day: date | None = None
    checkins_sent: int = 0  # last 28 days
    checkins_answered: int = 0
    self_started: int = 0  # check-ins the patient began from the menu, no invitation (last 28 days)
    phq4: list[Phq4] = field(default_factory=list)  # the 12 weeks, latest first
    discharged: date | None = None
    flares: int = 0
    flare_open: bool = False
    flare_peaks: list[int] = field(default_factory=list)
    breathing: int = 0
    breathing_completed: int = 0
    tension_change: float | None = None  # mean of after - before, 0-10
    thoughts: int = 0
    thoughts_completed: int = 0
    belief_change: float | None = None  # mean of after - before, 0-100
    sprint: SprintFacts | None = None
    safety: dict[str, tuple[int, date]] = field(default_factory=dict)  # category → (times, last local date)
    open_alerts: int = 0
    produced: str | None = None  # when, in the reader's own zone and naming it; else the patient's date


def mean_change(pairs) -> float | None:
    changes = [after - before for before, after in pairs if before is not None and after is not None]
    return fmean(changes) if changes else None


def gather(session: Session, patient: Patient, now: datetime, reader_zone: ZoneInfo | None = None) -> Facts:
    """Days are the patient's (a check-in belongs to the day they lived); the moment the page was
    made is the reader's, in their zone (a clinician's own, `clinic.zones`)."""
    zone = zone_of(patient.timezone)
    today = now.astimezone(zone).date()
    first_day = today - timedelta(weeks=WEEKS) + timedelta(days=1)
    since = datetime.combine(first_day, time(0), zone).astimezone(timezone.utc)

    def rows(model, *where, order=None):
        return session.scalars(select(model).where(model.patient_id == patient.id, *where).order_by(order)).all()

    story = session.get(PainStory, patient.id)
    preps = rows(VisitPrep, order=VisitPrep.id.desc())
    answered, received = adherence(session, [patient.id], now).get(patient.id, (0, 0))
    safety: dict[str, tuple[int, date]] = {}
    for event in rows(SafetyEvent, SafetyEvent.created_at >= since, order=SafetyEvent.created_at):
        times, _last = safety.get(event.category, (0, None))
        safety[event.category] = (times + 1, event.created_at.astimezone(zone).date())
    open_alerts = len(rows(Alert, Alert.acknowledged_at.is_(None)))
    flares = rows(FlareEpisode, or_(FlareEpisode.started_at >= since, FlareEpisode.ended_at.is_(None), FlareEpisode.ended_at >= since))
    drills = rows(BreathingSession, BreathingSession.created_at >= since)
    thoughts = rows(ThoughtRecord, ThoughtRecord.created_at >= since)
    sprint = next(iter(rows(Sprint, order=Sprint.id.desc())), None)
    completed = rows(Response, Response.completed_at >= since, order=Response.completed_at.desc())
    month = now - timedelta(days=ADHERENCE_DAYS)
    return Facts(
        study_code=patient.study_code or "—", reference=patient.clinic_reference, first_day=first_day, today=today,
        series=prepare(load(session, patient.id, now), zone, today),
        story={f: v.strip() for f in STORY if story and (v := getattr(story, f)) and v.strip()},
        visit={f: v.strip() for f in VISIT if preps and (v := getattr(preps[0], f)) and v.strip()},
        visit_day=preps[0].created_at.astimezone(zone).date() if preps else None,
        checkins_sent=received, checkins_answered=answered, safety=safety, open_alerts=open_alerts,
        self_started=sum(r.source == "self" and aware(r.completed_at) > month for r in completed),
        phq4=[Phq4(aware(r.completed_at).astimezone(zone).date(), r.score["total"], r.score["band"], r.score["anxiety"],
                   r.score["depression"]) for r in completed if r.instrument == "phq4" and PHQ4_KEYS <= set(r.score or ())],
        discharged=patient.discharged_at and aware(patient.discharged_at).astimezone(zone).date(),
        flares=len(flares), flare_open=any(f.ended_at is None for f in flares),
        flare_peaks=[f.peak_pain for f in sorted(flares, key=lambda f: f.started_at) if f.peak_pain is not None],
        breathing=len(drills), breathing_completed=sum(bool(d.completed) for d in drills),
        tension_change=mean_change((d.tension_before, d.tension_after) for d in drills),
        thoughts=len(thoughts), thoughts_completed=sum(t.completed_at is not None for t in thoughts),
        belief_change=mean_change((t.belief_before, t.belief_after) for t in thoughts),
        sprint=sprint and SprintFacts(list(sprint.metrics), sprint.weeks, sprint.started_on, sprint.ends_on, sprint.review),
        produced=locales.moment(now, reader_zone) if reader_zone is not None else None,
    )


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite gives naive UTC


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


def sections(f: Facts) -> list[tuple[str, list[tuple[str, str]], str]]:
    """The text blocks: (heading, [(label, text)], what to say when there is nothing)."""
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
    return [(visit_heading, [(visit[k], v) for k, v in f.visit.items()], _("No visit notes prepared")),
            (sprint_heading, sprint, _("No sprint started")),
            (_("Pain story"), [(story[k], v) for k, v in f.story.items()], _("No pain story given"))]


def visit_labels() -> dict[str, str]:
    """What the patient's visit notes are called, field by field (the dashboard shows them too)."""
    return {"goals": _("Goals for this visit"), "questions": _("Questions"), "changes": _("What has changed"),
            "treatment": _("Treatment considered")}


def chart(page: Page, s: Series, first_day: date, today: date) -> None:
    """Pain (daily dots, weekly PEG line) above hours slept, as two small axes across the page."""
    fig, left = page.fig, MARGIN + 0.4
    box = lambda y, h: [left / W, 1 - (y + h) / H, (W - MARGIN - left) / W, h / H]
    page.text(MARGIN, _("Pain, 0 to 10 (lower is better)"), BODY, fontweight="bold")
    pain_ax = fig.add_axes(box(page.y + 0.5, 1.45))
    page.text(MARGIN, _("Hours slept"), BODY, y=page.y + 2.1, fontweight="bold")
    sleep_ax = fig.add_axes(box(page.y + 2.4, 0.65), sharex=pain_ax)
    trend(pain_ax, sleep_ax, s.days, s.pain, s.sleep, s.peg_weeks, s.peg, first=first_day, last=today,
          ticks=[today - timedelta(days=n) for n in range(0, WEEKS * 7, 14)], look=PAGE,
          pain_label=_("Daily pain"), peg_label=_("Weekly PEG (pain, enjoyment, activity)"))
    pain_ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02), ncol=2, frameon=False, fontsize=SMALL, borderaxespad=0, borderpad=0)
    pain_ax.tick_params(labelbottom=False)
    page.y += 3.4


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


def phq4(page: Page, f: Facts) -> None:
    """A heading with the bands beside it (below it when they do not fit), then the answers."""
    heading, bands = _("PHQ-4 (anxiety and depression)"), phq4_bands()
    page.text(MARGIN, heading, BODY, fontweight="bold")
    if f.phq4 and page.width(heading, BODY, bold=True) + 0.3 + page.width(bands, SMALL) <= W - 2 * MARGIN:
        page.text(W - MARGIN, bands, SMALL, y=page.y + (BODY - SMALL) / 72, color=MUTED, ha="right")
    elif f.phq4:
        page.y += page.lines(MARGIN, page.wrap(bands, W - 2 * MARGIN, SMALL, 2), SMALL, y=page.y + BODY * LINE / 72, color=MUTED)
    page.y += BODY * LINE / 72 + 0.02
    for text, colour, size in phq4_lines(f):
        page.y += page.lines(MARGIN, page.wrap(text, W - 2 * MARGIN, size, 2), size, color=colour)
    page.y += 0.25


def boxes(page: Page, f: Facts) -> None:
    """The key numbers in four shaded boxes, each as tall as the fullest one."""
    gap = 0.15
    width = (W - 2 * MARGIN - 3 * gap) / 4
    content = [(page.wrap(h, width - 0.2, SMALL, 2, bold=True), big, [line for d in details if d
                for line in page.wrap(d, width - 0.2, SMALL, 2)]) for h, big, details in glance(f)]
    heading_h = max(len(h) for h, _b, _d in content) * SMALL * LINE / 72
    height = 0.1 + heading_h + 0.45 + max(len(d) for _h, _b, d in content) * SMALL * LINE / 72 + 0.08
    for n, (heading, big, details) in enumerate(content):
        x = MARGIN + n * (width + gap) + 0.1
        page.rule(page.y, x - 0.1, width, height, color="#eef1f5")
        page.lines(x, heading, SMALL, y=page.y + 0.1, color=MUTED, fontweight="bold")
        page.text(x, big, 17, y=page.y + 0.14 + heading_h, fontweight="bold")
        page.lines(x, details, SMALL, y=page.y + 0.1 + heading_h + 0.45)
    page.y += height + 0.3


def blocks(page: Page, f: Facts, caps: tuple[int, int]) -> None:
    """The patient's words beside short labels, each answer at most caps[0] lines for this visit, caps[1] below."""
    text_w = W - 2 * MARGIN - LABEL
    for n, (heading, items, empty) in enumerate(sections(f)):
        cap = caps[min(n, 1)]
        page.lines(MARGIN, page.wrap(heading, W - 2 * MARGIN, 12, 1, bold=True), 12, fontweight="bold")
        page.rule(page.y + 0.27)
        page.y += 0.37
        if not items:
            page.y += page.lines(MARGIN, [empty], BODY, color=MUTED)
        for label, text in items:
            label_h = page.lines(MARGIN, page.wrap(label, LABEL - 0.15, BODY, 2, bold=True), BODY, color=MUTED, fontweight="bold")
            page.y += max(label_h, page.lines(MARGIN + LABEL, page.wrap(text, text_w, BODY, cap), BODY)) + 0.04
        page.y += 0.16


def figure(session: Session, patient: Patient, now: datetime, *, show_reference: bool, reader_zone: ZoneInfo | None = None) -> Figure:
    return draw(gather(session, patient, now, reader_zone), show_reference=show_reference)


def draw(f: Facts, *, show_reference: bool) -> Figure:
    fig = Figure(figsize=(W, H))
    FigureCanvasAgg(fig)
    page = Page(fig)
    title = _("Visit report")
    page.text(MARGIN, title, 20, fontweight="bold")
    page.text(W - MARGIN, f.study_code, 20, fontweight="bold", ha="right")
    page.y += 0.42
    if f.discharged:  # still the clinic's record: shown, and marked, beside the title when there is room
        mark, x = _("discharged {day}").format(day=day(f.discharged)), MARGIN + page.width(title, 20, bold=True) + 0.25
        if x + page.width(mark, 12, bold=True) + 0.3 + page.width(f.study_code, 20, bold=True) <= W - MARGIN:
            page.text(x, mark, 12, y=page.y - 0.32, color=ALERT, fontweight="bold")
        else:
            page.text(MARGIN, mark, 12, color=ALERT, fontweight="bold")
            page.y += 0.3
    dates = _("{dates} ({weeks} weeks) · produced {today}").format(dates=span(f.first_day, f.today), weeks=WEEKS, today=f.produced or day(f.today))
    page.text(MARGIN, dates, BODY, color=MUTED)
    if show_reference and f.reference:
        room = W - 2 * MARGIN - page.width(dates, BODY) - 0.3
        page.text(W - MARGIN, page.wrap(_("Clinic reference: {ref}").format(ref=f.reference), room, BODY, 1)[0], BODY, ha="right")
    page.y += 0.4
    if line := safety_line(f):  # first thing the clinician reads, when there is anything
        page.y += page.lines(MARGIN, page.wrap(line, W - 2 * MARGIN, BODY, 3, bold=True), BODY, fontweight="bold", color=ALERT) + 0.2
    boxes(page, f)
    phq4(page, f)
    if f.series.empty:
        page.y += page.lines(MARGIN, [_("No check-ins in these {weeks} weeks").format(weeks=WEEKS)], BODY, color=MUTED) + 0.3
    else:
        chart(page, f.series, f.first_day, f.today)
    top, page.dry = page.y, True
    for caps in ((5, 5), (4, 4), (3, 3), (3, 2), (2, 2), (2, 1), (1, 1)):  # fewer lines until the page holds them all
        page.y = top
        blocks(page, f, caps)
        if page.y - 0.2 <= H - MARGIN:  # less the space after the last block and row
            break
    page.y, page.dry = top, False
    blocks(page, f, caps)
    return fig


def render(session: Session, patient: Patient, now: datetime, fmt: str, *, show_reference: bool = False,
           language: str | None = None, reader_zone: ZoneInfo | None = None) -> bytes:
    """The report as PDF or PNG bytes (one A4 page), in `language` (else the current one): its
    words, dates and numbers alike, so an English page never shows a German decimal comma.
    With `reader_zone`, the page says when it was made in that zone."""
    if fmt not in ("pdf", "png"):
        raise ValueError(f"unknown format: {fmt}")
    buffer = io.BytesIO()
    with locales.use(language or locales.current()):
        figure(session, patient, now, show_reference=show_reference, reader_zone=reader_zone).savefig(buffer, format=fmt, dpi=PNG_DPI)
    return buffer.getvalue()
