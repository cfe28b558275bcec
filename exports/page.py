"""The visit report's page: text written downwards from the top, wrapped to measured widths,
in a font that has every character drawn (`printable`), never read as mathtext."""
from __future__ import annotations

import unicodedata
from functools import cache
from itertools import groupby

from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.patches import Rectangle

W, H, MARGIN = 8.27, 11.69, 0.55  # A4 portrait, inches
BODY, SMALL, LINE = 10.5, 9.5, 1.4  # points; line height = LINE x font size
INK, MUTED, ALERT = "#1a1a1a", "#5f6368", "#b3261e"
DROPPED = {"Mn", "Me", "Cf", "Sk"}  # joiners, variation selectors, skin tones: nothing to show on their own


@cache
def glyphs() -> frozenset[int]:
    """The characters the page's font can draw."""
    return frozenset(FT2Font(font_manager.findfont(FontProperties())).get_charmap())


def printable(text: str) -> str:
    """The text with what the font cannot draw (many emoji) named in brackets instead of drawn as
    empty boxes: "[folded hands]". A run of the same one is named once, with its count."""
    if all(ord(c) in glyphs() for c in text):
        return text
    parts = []
    for char, run in groupby(text):
        count = len(list(run))
        if ord(char) in glyphs() or char in "\n\t":
            parts.append(char * count)
        elif unicodedata.category(char) in DROPPED:
            continue
        elif unicodedata.category(char).startswith("S") and (name := unicodedata.name(char, "")):
            parts.append(f"[{name.lower()}{f' ×{count}' if count > 1 else ''}]")
        else:
            parts.append("\N{REPLACEMENT CHARACTER}" * count)
    return "".join(parts)


class Page:
    """Writes downwards from the top (`y`: inches from the top edge), wrapping text to measured widths.
    While `dry`, it only moves `y`: that is how `draw` finds how many lines the patient's words can have."""

    def __init__(self, fig: Figure):
        self.fig, self.y, self.dry = fig, MARGIN, False
        self.renderer, self.wrapped = fig.canvas.get_renderer(), {}

    def width(self, s: str, size: float, bold: bool = False) -> float:
        font = FontProperties(size=size, weight="bold" if bold else "normal")
        return self.renderer.get_text_width_height_descent(s, font, ismath=False)[0] / self.fig.dpi

    def wrap(self, text: str, inches: float, size: float, cap: int, bold: bool = False) -> list[str]:
        if (key := (text, inches, size, bold)) not in self.wrapped:  # measured once, cut to each cap tried
            self.wrapped[key] = lines = []
            for part in printable(text).splitlines():
                line = ""
                for word in part.split():
                    if line and self.width(f"{line} {word}", size, bold) > inches:
                        lines.append(line)
                        line = word
                    else:
                        line = f"{line} {word}".strip()
                lines.append(line)
        lines = list(self.wrapped[key])
        if len(lines) > cap:  # cut, and say so
            lines, words = lines[:cap], lines[cap - 1].split()
            while len(words) > 1 and self.width(" ".join(words) + " …", size, bold) > inches:
                words.pop()
            lines[-1] = " ".join(words).rstrip(".,;:") + " …"
        return lines

    def text(self, x: float, s: str, size: float = BODY, y: float | None = None, **kw) -> None:
        if not self.dry:  # never mathtext: a patient's "$x$" is their text, not a formula
            self.fig.text(x / W, 1 - (self.y if y is None else y) / H, printable(s), fontsize=size, va="top",
                          color=kw.pop("color", INK), parse_math=False, **kw)

    def lines(self, x: float, lines: list[str], size: float = BODY, y: float | None = None, **kw) -> float:
        for n, line in enumerate(lines):
            self.text(x, line, size, y=(self.y if y is None else y) + n * size * LINE / 72, **kw)
        return len(lines) * size * LINE / 72

    def rule(self, y: float, x: float = MARGIN, width: float = W - 2 * MARGIN, height: float = 1 / 72, color="#c7ccd4") -> None:
        if not self.dry:
            self.fig.add_artist(Rectangle((x / W, 1 - (y + height) / H), width / W, height / H, transform=self.fig.transFigure,
                                          color=color, linewidth=0))
