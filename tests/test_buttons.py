"""Signed buttons (dialogs/buttons.py): a press means what was shown, to whom it was shown."""
from __future__ import annotations

import pytest

from dialogs.buttons import ACTION, GUIDE, LIMIT, STEP, Signer
from storage import keys

KEY = {"1": bytes(range(32))}


def test_a_step_button_reads_back_and_verifies_only_for_its_patient_and_its_choice():
    signer = Signer(KEY)
    data = signer.step(7, 42, 3, "lower_back")
    pressed = signer.read(data)
    assert (pressed.kind, pressed.step, pressed.index) == (STEP, 42, 3)
    assert signer.verify(7, pressed, "lower_back")
    assert not signer.verify(8, pressed, "lower_back")  # another patient's button
    assert not signer.verify(7, pressed, "neck")  # the step now offers something else there
    assert signer.read(signer.step(7, 42, GUIDE, "done")).index == GUIDE


def test_an_action_button_carries_its_value_and_an_edit_breaks_it():
    signer = Signer(KEY)
    data = signer.action(7, "prompt", "snooze:30:123")
    pressed = signer.read(data)
    assert (pressed.kind, pressed.action, pressed.value) == (ACTION, "prompt", "snooze:30:123")
    assert signer.verify(7, pressed)
    edited = signer.read(data.replace("123", "124"))
    assert edited is not None and not signer.verify(7, edited)


@pytest.mark.parametrize("data", ["", "x", "1s", "1s12.", "9s1.1aaaaaaaaaaaa", "1a" + "b" * 12, "1s1.x" + "a" * 12, "ack12"])
def test_anything_else_is_not_a_button_of_ours(data):
    signer = Signer(KEY)
    pressed = signer.read(data)
    assert pressed is None or not signer.verify(7, pressed, "x")


def test_callback_data_fits_telegram_and_too_long_a_value_is_refused_when_shown():
    signer = Signer(KEY)
    assert len(signer.step(2**31, 10**7, 99, "x" * 200).encode()) <= LIMIT  # a step's value is signed, not carried
    with pytest.raises(ValueError):
        signer.action(1, "prompt", "x" * 60)


def test_after_a_rotation_the_new_key_signs_and_the_old_still_verifies(database):
    before = Signer(keys.button_keys(database))
    shown = before.action(5, "resume", "resume")
    assert keys.button_keys(database) == before.keys  # the same key for every process
    keys.rotate(database, "2")
    after = Signer(keys.button_keys(database))
    assert after.version == "2" and after.action(5, "resume", "resume")[0] == "2"
    assert after.verify(5, after.read(shown))


def test_a_process_that_missed_a_rotation_learns_the_new_key_on_its_first_button(chat, database):
    from conftest import Chat
    from dialogs.engine import Engine
    from onboard import onboard

    onboard(chat)
    keys.rotate(database, "2")  # by another process, which then shows the menu
    other = Chat(Engine(database, clock=chat.engine.clock), chat.who.external_id)
    other.command("menu")
    assert all(data.startswith("2") for data, _message in other.last_buttons.values())
    chat.last_buttons, chat.shown = other.last_buttons, other.shown
    chat.open("Breathing exercise")  # this process still signs with "1"
    assert "This button has expired." not in chat.text and chat.engine.signer.version == "2"


def test_the_command_line_rotates_to_the_next_key(tmp_path, monkeypatch, capsys):
    from bot.cli import main
    from storage import open_database

    monkeypatch.setenv("PAINCOACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PAINCOACH_DATABASE_URL", raising=False)
    assert main(["db", "rotate-button-key"]) == 0 and main(["db", "rotate-button-key"]) == 0
    assert "signed with key 3" in capsys.readouterr().out
    db = open_database(f"sqlite:///{tmp_path}/data/paincoach.db", migrate=False)
    assert list(keys.button_keys(db)) == ["1", "2", "3"]
    db.dispose()
