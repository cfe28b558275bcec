"""What every guided drill shares (breathing, muscle relaxation, mindfulness): the words that stop
it at once, and what is said then (clinical brief §2: anyone who feels dizzy stops and breathes
normally). The words are content/drill_words.toml, one list for every drill."""
from __future__ import annotations

import re
from functools import cache

import content
from dialogs import helplines
from dialogs.safety import country_of
from locales import _
from screen.phrases import any_of
from screen.text import normalize


@cache
def _dizzy_words() -> re.Pattern[str]:
    return any_of(word for words in content.load("drill_words").values() for word in words)


def feels_dizzy(text: str) -> bool:
    """Dizziness, faintness, breathlessness or panic in any of our languages: the drill stops at once."""
    return bool(_dizzy_words().search(f" {normalize(text)} "))


def stop_if_dizzy(turn, text: str | None) -> bool:
    """Says how to settle when what the patient wrote during a drill is one of those words."""
    if not text or not feels_dizzy(text):
        return False
    number = helplines.emergency_number(country_of(turn), turn.patient.clinic.settings)
    turn.say(_("Let's stop here. Breathe normally, at your own pace, and sit or lie down until it passes. "
               "If it doesn't pass or you feel unwell, call your doctor, or {number} if it is severe.").format(number=number))
    return True
