"""CSV cells a spreadsheet opens safely: text that starts like a formula (`=`, `+`, `-`, `@`, a tab
or a carriage return) gets a leading `'`, as OWASP's CSV-injection guidance recommends, so Excel,
LibreOffice or Google Sheets show it as text instead of running it. A patient's name, or a
clinic's reference, can be any text.

Numbers stay numbers: a cell that is a plain number (a negative change score such as -1.5) is left
as it is, since a spreadsheet reads it as a number and nothing else. (defusedcsv, the library for
this, leaves tabs and carriage returns alone and rewrites `|` inside cells, so it is not used.)
"""
from __future__ import annotations

import csv
import re
from typing import Any, Iterable, TextIO

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def neutral(value: Any) -> Any:
    """The cell as a spreadsheet may open it: formula-like text quoted, anything else unchanged."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


class Writer:
    """`csv.writer` with every cell passed through `neutral`."""

    def __init__(self, out: TextIO):
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutral(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: TextIO) -> Writer:
    return Writer(out)
