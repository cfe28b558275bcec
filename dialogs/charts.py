"""The pain-and-sleep trend, drawn once for the patient's /progress chart and the clinician's
visit report: daily pain as faint dots, the weekly PEG as a bold line on top, hours slept as
bars below, a skipped answer a gap (never a zero), dates in the reader's language.

The caller makes the two axes (a phone-sized figure, or a strip across an A4 page) and chooses
the look (`Look`); the drawing is the same. matplotlib's object API only: no pyplot, no global
state shared between patients drawn at the same time.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Callable

from babel.dates import format_skeleton
from matplotlib.dates import date2num, num2date
from matplotlib.ticker import FixedLocator, FuncFormatter, MultipleLocator

import locales
from dialogs.io import File, Output


@dataclass(frozen=True)
class Look:
    pain: dict[str, Any]  # keyword arguments of the daily pain line
    peg: dict[str, Any]  # of the weekly PEG line
    bars: dict[str, Any]  # of the sleep bars
    label_size: float
    grid_width: float
    sleep_step: Callable[[float], float] = field(default=lambda top: 5)  # hours between sleep ticks, given the axis top


def trend(pain_ax, sleep_ax, days: list[date], pain: list[float | None], sleep: list[float | None],
          peg_weeks: list[date], peg: list[float], *, first: date, last: date, ticks: list[date], look: Look,
          pain_label: str | None, peg_label: str | None) -> None:
    nan = float("nan")  # matplotlib leaves a gap at NaN: a skip is never drawn as zero
    pain_ax.plot(days, [nan if v is None else v for v in pain], label=pain_label, **look.pain)
    pain_ax.plot(peg_weeks, peg, label=peg_label, **look.peg)
    pain_ax.set_ylim(-0.3, 10.3)
    pain_ax.yaxis.set_major_locator(MultipleLocator(2))
    shown = [(d, v) for d, v in zip(days, sleep) if v is not None]
    sleep_ax.bar([d for d, _v in shown], [v for _d, v in shown], **look.bars)
    sleep_ax.set_ylim(0, max([10.0] + [v + 1 for _d, v in shown]))
    sleep_ax.yaxis.set_major_locator(MultipleLocator(look.sleep_step(sleep_ax.get_ylim()[1])))
    sleep_ax.xaxis.set_major_locator(FixedLocator([date2num(day) for day in ticks]))
    sleep_ax.xaxis.set_major_formatter(FuncFormatter(
        lambda x, _pos: format_skeleton("MMMd", num2date(x).date(), locale=locales.formatting())))
    sleep_ax.set_xlim(date2num(first) - 0.7, date2num(last) + 0.7)
    for ax in (pain_ax, sleep_ax):
        ax.tick_params(labelsize=look.label_size)
        ax.grid(axis="y", color="#dddddd", linewidth=look.grid_width)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_axisbelow(True)


# -- the patient's /progress chart, drawn after the step's transaction -------------------------------

SIZE, DPI = (5.4, 6.75), 200  # 1080x1350 px: a portrait image fills a phone screen's width
PHONE = Look(  # daily pain light (a faint line, solid dots so a lone day still shows); PEG bold on top
    pain=dict(color=(0.91, 0.58, 0.42, 0.45), linewidth=1.2, marker="o", markersize=5, markerfacecolor="#e8956b", markeredgecolor="none"),
    peg=dict(color="#1d3f8f", linewidth=3.5, marker="o", markersize=9),
    bars=dict(width=0.75, color="#5aa6a0"),
    label_size=13, grid_width=0.8, sleep_step=lambda top: 4 if top > 12 else 2,
)


def render_chart(days, pain, sleep, peg_weeks, peg, labels: dict[str, str]) -> bytes:
    """A 1080x1350 PNG: pain (0-10) with PEG on top, hours slept as bars below."""
    # Imported here so only /progress pays for matplotlib.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    fig.suptitle(labels["title"], fontsize=17, fontweight="bold")
    # Ticks counted back from today so the last day is labelled; at most 4 dates fit a phone's width.
    step = 7 * math.ceil(len(days) / 28)
    trend(top, bottom, days, pain, sleep, peg_weeks, peg, first=days[0], last=days[-1],
          ticks=[days[-1] - timedelta(days=n) for n in range(0, len(days), step)], look=PHONE,
          pain_label=labels["pain"] if pain.count(None) < len(pain) else None, peg_label=labels["peg"] if peg else None)
    top.set_title(labels["pain_axis"], loc="left", fontsize=14)
    if top.get_legend_handles_labels()[1]:  # no legend entry for a series with nothing in it
        top.legend(loc="upper center", bbox_to_anchor=(0.5, -0.03), ncol=2, frameon=False, fontsize=13, handlelength=1.5)
    bottom.set_title(labels["sleep_axis"], loc="left", fontsize=14)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def progress_recipe(days: list[date], pain, sleep, peg_weeks: list[date], peg, labels: dict[str, str]) -> dict:
    """What `render_chart` needs, as plain data (it waits in the outbox until drawn)."""
    return {"chart": "progress", "days": [d.isoformat() for d in days], "pain": pain, "sleep": sleep,
            "peg_weeks": [d.isoformat() for d in peg_weeks], "peg": peg, "labels": labels}


def drawn(outputs: list[Output]) -> list[Output]:
    """The outputs with every recipe drawn: called after the transaction, so a slow chart never
    holds the database (on SQLite, every other patient's write) while matplotlib works."""
    return [_draw(o) if isinstance(o, File) and o.recipe else o for o in outputs]


def _draw(file: File) -> File:
    recipe = file.recipe
    days, peg_weeks = [date.fromisoformat(d) for d in recipe["days"]], [date.fromisoformat(d) for d in recipe["peg_weeks"]]
    png = render_chart(days, recipe["pain"], recipe["sleep"], peg_weeks, recipe["peg"], recipe["labels"])
    return replace(file, data=png, recipe=None)
