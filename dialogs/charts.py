"""The pain-and-sleep trend, drawn once for the patient's /progress chart and the clinician's
visit report: daily pain as faint dots, the weekly PEG as a bold line on top, hours slept as
bars below, a skipped answer a gap (never a zero), dates in the reader's language.

The caller makes the two axes (a phone-sized figure, or a strip across an A4 page) and chooses
the look (`Look`); the drawing is the same. matplotlib's object API only: no pyplot, no global
state shared between patients drawn at the same time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from babel.dates import format_skeleton
from matplotlib.dates import date2num, num2date
from matplotlib.ticker import FixedLocator, FuncFormatter, MultipleLocator

import locales


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
