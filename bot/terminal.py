"""`paincoach chat`: the same dialogs for one local patient in the terminal.

Buttons are shown as numbered choices; type the number or the label. Works with piped stdin,
so a conversation can be scripted (the input lines are echoed to keep the transcript readable).
"""
from __future__ import annotations

import itertools
import os
import string
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from dialogs.engine import Engine
from dialogs.io import Command, Edit, File, Inbound, Message, Output, Press, Text, Who
import locales
from locales import ngettext


class TerminalChat:
    def __init__(self, engine: Engine, *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, who: Who | None = None):
        self.engine = engine
        self.stdin = stdin
        self.stdout = stdout
        self.who = who or Who("terminal", "local", language_code=_system_language())
        self.interactive = stdin.isatty()
        self.choices: dict[str, tuple[str, int]] = {}  # "1" -> (button id, message id)
        self.labels: set[str] = set()
        self.guide_done: tuple[str, int] | None = None
        self.message_count = 0

    def run(self) -> None:
        self.show(self.engine.handle(Inbound(self.who, Command("start"))))
        while True:
            if self.interactive:
                self.stdout.write("> ")
                self.stdout.flush()
            line = self.stdin.readline()
            if not line:
                break
            line = line.rstrip("\n")
            if not self.interactive:
                self.stdout.write(f"> {line}\n")
            if line.strip() in ("/quit", "/exit"):
                break
            self.show(self.engine.handle(Inbound(self.who, self.event_for(line))))

    def event_for(self, line: str):
        stripped = line.strip()
        if command := Command.parse(stripped):
            return command
        if stripped.casefold() in self.labels:  # a label wins over a number ("7" on a 0-10 scale)
            return Text(line)
        if self.guide_done and not stripped:  # Enter after a guided exercise: it is done
            button_id, message_id = self.guide_done
            return Press(button_id, message_id)
        if stripped in self.choices:
            button_id, message_id = self.choices[stripped]
            return Press(button_id, message_id)
        return Text(line)

    def show(self, outputs: list[Output]) -> None:
        self.choices = {}  # numbers refer to the newest buttons only
        self.labels = set()
        self.guide_done = None
        # One list per screen: the buttons of every message shown now, numbered on (or lettered on).
        numbers, letters = (str(n) for n in itertools.count(1)), iter(string.ascii_lowercase)
        for output in outputs:
            if isinstance(output, Message):
                self.message_count += 1
                self.stdout.write("\n" + output.text + "\n")
                if output.guide:
                    # No editing here: say how long to follow along, and let Enter end it.
                    seconds = int(output.guide[-1][0])
                    with locales.use(self.engine.language_of(self.who)):
                        hint = ngettext(
                            "(Follow along for {n} second, then press Enter. Type anything else to stop.)",
                            "(Follow along for {n} seconds, then press Enter. Type anything else to stop.)", seconds,
                        ).format(n=seconds)
                    self.stdout.write(hint + "\n")
                    self.guide_done = (output.guide_done, self.message_count)
                if output.buttons:
                    # Letters when a typed number is itself an answer ("1" step must not mean button 1),
                    # or when the buttons are numbers (on a 0-10 scale "11" must not be button 11: 10).
                    numbered = any(b.label.strip().lstrip("-").isdigit() for row in output.buttons for b in row)
                    keys = letters if output.expects_number or numbered else numbers
                    for button in (b for row in output.buttons for b in row):
                        key = next(keys, None)
                        if key is None:  # (more than 26 lettered buttons on one screen: none has)
                            break
                        self.choices[key] = (button.id, self.message_count)
                        self.labels.add(button.label.casefold())
                        self.stdout.write(f"  {key}) {button.label}\n")
            elif isinstance(output, File):
                # A terminal cannot show a picture: say where it is. Readable by this user only (mkstemp):
                # it may be the patient's whole record.
                handle, name = tempfile.mkstemp(prefix="paincoach-", suffix=f"-{output.filename}")
                with os.fdopen(handle, "wb") as fp:
                    fp.write(output.data)
                path = Path(name)
                self.stdout.write(f"\n[{path}]\n{output.caption}\n")
            elif isinstance(output, Edit):
                pass  # the terminal keeps a transcript; nothing to edit in place
        self.stdout.write("\n")
        self.stdout.flush()


def _system_language() -> str | None:
    value = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    code = value.split(".")[0].replace("_", "-")
    return None if code in ("", "C", "POSIX") else code
