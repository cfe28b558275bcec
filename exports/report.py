"""The one-page visit report: what a clinician takes in at a glance about a patient's last 12 weeks.

`gather` (exports/report_facts.py, with exports/report_routines.py for the sleep diary, guided
practices, lessons and home exercises) is the only part that reads the database, into `Facts`,
tested on its own; exports/report_text.py words them; `figure` here lays them out on one A4 page; `render` saves that as PDF or PNG. Pseudonymous: the clinic's
own reference shows only when asked for. Days are the patient's local dates; a missing value is
a gap in a chart, never a zero. Words, dates and numbers are in the reader's language.

A discharged patient's report is still made (the record is the clinic's for its retention
period) and says so beside its title.
"""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sqlalchemy.orm import Session

import locales
from dialogs.charts import Look, trend
from dialogs.progress import Series
from exports.page import ALERT, BODY, H, LINE, MARGIN, MUTED, SMALL, W, Page
from exports.report_facts import STORY, VISIT, WEEKS, Facts, gather  # noqa: F401 - what callers import from here
from exports.report_text import day, glance, phq4_bands, phq4_lines, safety_line, sections, span, visit_labels  # noqa: F401
from locales import _

PNG_DPI, LABEL = 150, 2.0  # label column, inches
PAIN, PEG, SLEEP = "#e8956b", "#1d3f8f", "#5aa6a0"
PAGE = Look(
    pain=dict(color=PAIN, alpha=0.5, linewidth=1, marker="o", markersize=4, markerfacecolor=PAIN, markeredgecolor="none"),
    peg=dict(color=PEG, linewidth=2.5, marker="o", markersize=6),
    bars=dict(width=0.7, color=SLEEP),
    label_size=SMALL, grid_width=0.7, sleep_step=lambda top: 5,
)



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


def blocks(page: Page, f: Facts, caps: tuple[int, int], bottom: float | None = None) -> None:
    """The patient's words beside short labels, each answer at most caps[0] lines for this visit, caps[1] below.
    With `bottom` (the page cannot hold them all even at one line each), what would run past it is left
    out, and a last line says where the rest is."""
    text_w = W - 2 * MARGIN - LABEL
    line = BODY * LINE / 72
    for n, (heading, items, empty, fewest) in enumerate(sections(f)):
        cap = max(caps[min(n, 1)], fewest)
        if bottom is not None and page.y + 0.37 + line > bottom:
            return more(page)
        page.lines(MARGIN, page.wrap(heading, W - 2 * MARGIN, 12, 1, bold=True), 12, fontweight="bold")
        page.rule(page.y + 0.27)
        page.y += 0.37
        if not items:
            page.y += page.lines(MARGIN, [empty], BODY, color=MUTED)
        for label, text in items:
            labels, texts = page.wrap(label, LABEL - 0.15, BODY, 2, bold=True), page.wrap(text, text_w, BODY, cap)
            if bottom is not None and page.y + max(len(labels), len(texts)) * line > bottom:
                return more(page)
            label_h = page.lines(MARGIN, labels, BODY, color=MUTED, fontweight="bold")
            page.y += max(label_h, page.lines(MARGIN + LABEL, texts, BODY)) + 0.04
        page.y += 0.16


def more(page: Page) -> None:
    page.y += page.lines(MARGIN, [_("… more on the patient's page of the dashboard")], SMALL, color=MUTED)


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
    fits = page.y - 0.2 <= H - MARGIN
    page.y, page.dry = top, False
    blocks(page, f, caps, None if fits else H - MARGIN - SMALL * LINE / 72)
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
