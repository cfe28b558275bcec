"""`paincoach chat` through a pipe: a scripted conversation on the embedded SQLite default."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from storage import open_database
from storage.models import PainStory, Patient

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """\
1
1
what?
1
1
hamburg
1
Lee
/help
Hips
1
Cold weather
Swimming
Reading in the garden
my pain story
back to the menu
/progress
"""


def test_a_scripted_chat_reaches_the_menu(tmp_path):
    env = {**os.environ, "PAINCOACH_DATA_DIR": str(tmp_path), "LANG": "C.UTF-8"}
    env.pop("PAINCOACH_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"], input=SCRIPT, capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "  1) English\n  2) Español\n  3) Deutsch" in out
    assert "> what?\n\nPlease choose one of the buttons below." in out
    assert "> hamburg\n\nIn Hamburg it is now" in out  # a city of the index, though no zone's own
    assert "Nice to meet you, Lee." in out
    assert "/menu – the main menu" in out
    assert "Thank you, Lee. That's all for now." in out
    assert "Your pain story:" in out and "Cold weather" in out
    assert "Your progress chart will appear here after a few check-ins." in out
    assert result.stderr == ""

    db = open_database(f"sqlite:///{tmp_path / 'paincoach.db'}")  # the embedded default's file
    with db.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        assert (patient.channel, patient.preferred_name, patient.timezone) == ("terminal", "Lee", "Europe/Berlin")
        assert session.get(PainStory, patient.id).what_has_been_tried == "Swimming"
    db.dispose()


def test_on_a_number_scale_a_typed_number_is_the_number_never_an_option(tmp_path):
    from io import StringIO

    from bot.terminal import TerminalChat
    from dialogs.engine import Engine
    from storage.models import Answer

    database = open_database(f"sqlite:///{tmp_path / 'chat.db'}")
    lines = ["1", "1", "1", "1", "1", "1", "Lee", *["skip"] * 5, "Check in now", "1", "11", "7"]  # onboarding, then a daily check-in
    out = StringIO()
    TerminalChat(Engine(database), stdin=StringIO("\n".join(lines) + "\n"), stdout=out).run()
    assert "  a) 0\n  b) 1" in out.getvalue()  # the scale's buttons are letters here
    assert "Please send a whole number from 0 to 10." in out.getvalue()  # "11" is not button 11 ("10")
    with database.transaction() as session:
        assert session.scalars(select(Answer.value).where(Answer.item_id == "pain_now")).all() == [7.0]


def test_one_numbered_list_per_screen_and_every_button_reachable(tmp_path):
    """A medication question at the menu gets the advice with its own button and the menu again:
    one list, numbered on, so "note it for my visit" can be chosen too."""
    script = "1\n1\n1\n1\nBerlin\n1\nLee\nskip\n" + "1\n" * 4 + "Can I take more ibuprofen with my tramadol?\n1\n"
    env = {**os.environ, "PAINCOACH_DATA_DIR": str(tmp_path), "LANG": "C.UTF-8"}
    env.pop("PAINCOACH_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"], input=script, capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    screen = result.stdout.split("> Can I take more ibuprofen with my tramadol?")[1].split("\n> ")[0]
    assert "  1) Note it for my next visit" in screen and "  2) I'm having a flare" in screen
    assert screen.count("  1) ") == 1
    assert "Noted. It will be in your visit notes" in result.stdout
