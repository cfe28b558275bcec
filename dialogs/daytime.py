"""Times of day as patients type them, for every question that asks one (check-in times, quiet
hours): "19", "07:30", "7pm", "7 a.m.", "19h", "7 in the evening", "7 de la tarde", "7 Uhr
abends" are times; a bare hour from 1 to 12 ("7", "7h", "7 Uhr") could be either half of the
day, so it is asked as two buttons, morning or evening, rather than guessed.

Written with minutes ("7:30") or a leading zero ("07") a time is read on the 24-hour clock.
Hours may be words (in the patient's language only), and halves and quarters said as each language says them: English "half ten"
is 10:30, German "halb zehn" 9:30 (half *to* ten), Spanish "las diez y media" 10:30; "quarter to",
"viertel vor", "menos cuarto" are a quarter before the hour. "Midnight" and "noon" alone are times.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import time

from babel.dates import format_time

import locales
from dialogs.base import Choice, Question
from locales import _

NUMBER = re.compile(r"(\d{1,2})(?:\s*[:.h]\s*(\d{2}))?")
# Between the two ends of a range: "22-7", "22:00 – 07:00", "10 pm to 7 am", "22 a 7", "22 bis 7".
RANGE = re.compile(r"\s*(?:-|–|—|\bto\b|\buntil\b|\btill\b|\ba\b|\bhasta\b|\bbis\b)\s*")
AM, PM, NIGHT, MIDNIGHT = "am", "pm", "night", "midnight"
PERIODS = {
    "am": AM, "morning": AM, "manana": AM, "madrugada": AM, "morgens": AM, "morgen": AM, "fruh": AM, "frueh": AM,
    "vormittag": AM, "vormittags": AM,
    "pm": PM, "afternoon": PM, "evening": PM, "noon": PM, "tarde": PM, "mediodia": PM, "abend": PM, "abends": PM,
    "nachmittag": PM, "nachmittags": PM, "mittag": PM, "mittags": PM,
    "night": NIGHT, "tonight": NIGHT, "noche": NIGHT, "nacht": NIGHT, "nachts": NIGHT,
    "midnight": MIDNIGHT, "medianoche": MIDNIGHT, "mitternacht": MIDNIGHT,
}
# Words around a time that change nothing: "at 7", "um 7 Uhr", "a las 7 h", "7 o'clock in the evening".
FILLERS = {"a", "at", "in", "the", "from", "o", "clock", "oclock", "um", "von", "ab", "gegen", "uhr", "de", "del", "desde",
           "las", "la", "por", "en", "h", "hs", "hr", "hrs", "hora", "horas"}
# Hours said as words (accents already dropped: "fünf" is "funf", "zwölf" "zwolf"), each language
# its own: English "at once" is no hour, though Spanish "once" is eleven.
HOUR_WORDS = {
    "en": {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
           "eleven": 11, "twelve": 12},
    "es": {"una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9,
           "diez": 10, "once": 11, "doce": 12},
    "de": {"eins": 1, "ein": 1, "zwei": 2, "drei": 3, "vier": 4, "funf": 5, "fuenf": 5, "sechs": 6, "sieben": 7, "acht": 8,
           "neun": 9, "zehn": 10, "elf": 11, "zwolf": 12, "zwoelf": 12},
}
# Minutes said around the hour: (words before it, words after it) -> (hours to add, minutes).
SPOKEN = {
    (("half", "past"), ()): (0, 30), (("half",), ()): (0, 30),  # British "half ten": 10:30
    (("quarter", "past"), ()): (0, 15), (("quarter", "to"), ()): (-1, 45),
    (("halb",), ()): (-1, 30),  # German "halb zehn": 9:30
    (("viertel", "nach"), ()): (0, 15), (("viertel", "vor"), ()): (-1, 45), (("dreiviertel",), ()): (-1, 45),
    ((), ("y", "media")): (0, 30), ((), ("y", "cuarto")): (0, 15), ((), ("menos", "cuarto")): (-1, 45),
}
# Words that are a time by themselves. ("Mediodía" and "mittags" are not: they also name the early
# afternoon, "la una del mediodía", "1 Uhr mittags", and answer "morning or evening?" as such.)
ALONE = {MIDNIGHT: "00:00", "noon": "12:00"}


@dataclass(frozen=True)
class BareHour:
    """An hour from 1 to 12 with nothing to say which half of the day: to be asked."""

    hour: int
    minute: int = 0

    def readings(self) -> tuple[str, str]:
        """The two times it may be: ("07:00", "19:00"); for 12: midnight, noon."""
        first = self.hour % 12
        return f"{first:02d}:{self.minute:02d}", f"{first + 12:02d}:{self.minute:02d}"


def read_time(text: str | None) -> str | BareHour | None:
    """ "19", "07:30", "8 pm", "20 Uhr", "7 de la tarde" → "HH:MM"; "7", "7h" → BareHour(7);
    None if it is not a time of day."""
    if re.search(r"[-−+]\s*\d", text or ""):
        return None  # "-0", "+7": no time of day
    words = _words(text or "")
    said = [word for word in words if word not in FILLERS]
    if len(said) == 1 and (PERIODS.get(said[0]) == MIDNIGHT or said[0] in ALONE):  # "midnight", "a medianoche", "noon"
        return ALONE.get(PERIODS.get(said[0]), ALONE.get(said[0]))
    hour_words = _hour_words()
    numbers = [i for i, word in enumerate(words) if any(ch.isdigit() for ch in word) or word in hour_words]
    if len(numbers) != 1:
        return None
    at = numbers[0]
    if words[at] in hour_words:
        digits, hour, minute = str(hour_words[words[at]]), hour_words[words[at]], 0
    elif match := NUMBER.fullmatch(words[at]):
        digits, hour, minute = match.group(1), int(match.group(1)), int(match.group(2) or 0)
    else:
        return None
    used, shift = {at}, 0
    # Written with minutes ("7:30", "19h30") or a leading zero ("07"): the 24-hour clock.
    on_24h = words[at] not in hour_words and (match.group(2) is not None or digits.startswith("0")) or hour > 12
    if match_spoken := _spoken(words, at):  # "half ten", "halb zehn", "diez y media": the minutes in words
        if minute or not 1 <= hour <= 23:
            return None
        (shift, minute), used = match_spoken
    rest = [word for i, word in enumerate(words) if i not in used and word not in FILLERS]
    if minute > 59 or any(word not in PERIODS for word in rest):
        return None
    named = {PERIODS[word] for word in rest if word not in ("am", "pm")}  # "am Abend": the evening
    periods = named or {PERIODS[word] for word in rest}
    if len(periods) > 1:
        return None
    if periods:  # the part of the day belongs to the hour named: "quarter to 12 pm" is 11:45, "quarter to 12 am" 23:45
        hour = _in_period(hour, periods.pop())
        hour = (hour + shift) % 24 if hour is not None else None
    else:
        hour = (hour + shift) % 24 if 1 <= hour <= 12 else hour + shift
        hour = 12 if hour == 0 and shift else hour  # "halb eins": half past twelve, either half of the day
        if not on_24h and 1 <= hour <= 12:
            return BareHour(hour, minute)
    return f"{hour:02d}:{minute:02d}" if hour is not None and 0 <= hour < 24 else None


def read_range(text: str | None) -> tuple[str | BareHour, str | BareHour] | None:
    """Two times of day with a dash or a word between them ("22-7", "10 pm to 7 am")."""
    text = _meridiem(text or "")
    for separator in RANGE.finditer(text):
        start, end = read_time(text[: separator.start()]), read_time(text[separator.end():])
        if start is not None and end is not None:
            return start, end
    return None


def half_day_question(bare: BareHour, context: str = "") -> Question:
    """Morning or evening, as two buttons (the times in the patient's own way of writing them)."""
    first, second = bare.readings()
    shown = [show(first), show(second)]
    text = _("Did you mean {first} or {second}?").format(first=shown[0], second=shown[1])
    return Question(f"{context}\n\n{text}" if context else text,
                    [Choice(first, _period_label(first, shown[0])), Choice(second, _period_label(second, shown[1]))],
                    columns=2, expects_number=True)


def read_half_day(bare: BareHour, choice: str | None, text: str | None) -> str | None:
    """The answer to `half_day_question`: a button, a time typed in full, or "morning", "pm",
    "abends" alone."""
    readings = bare.readings()
    if choice in readings:
        return choice
    words = _words(text or "")
    periods = {PERIODS[word] for word in words if word in PERIODS}
    said_a_time = any(any(ch.isdigit() for ch in word) or word in _hour_words() for word in words)
    typed = read_time(text) if said_a_time else None  # "noon" alone here is the afternoon, as it always was
    if isinstance(typed, str):
        return typed
    if len(periods) == 1:
        hour = _in_period(bare.hour, periods.pop())
        return f"{hour:02d}:{bare.minute:02d}" if hour is not None else None
    return None


def show(hhmm: str) -> str:
    """A stored time as the patient writes it (7:00 PM, 19:00)."""
    hours, minutes = hhmm.split(":")
    return format_time(time(int(hours), int(minutes)), format="short", locale=locales.formatting())


def _period_label(hhmm: str, shown: str) -> str:
    hour = int(hhmm.split(":")[0])
    if hour == 0:
        return _("Midnight ({time})").format(time=shown)
    if hour < 5:
        return _("At night ({time})").format(time=shown)
    if hour < 12:
        return _("Morning ({time})").format(time=shown)
    if hour == 12:
        return _("Noon ({time})").format(time=shown)
    if hour < 18:
        return _("Afternoon ({time})").format(time=shown)
    return _("Evening ({time})").format(time=shown)


def _in_period(hour: int, period: str) -> int | None:
    """The hour on the 24-hour clock, given the part of the day it was said with."""
    if period == MIDNIGHT:
        return 0 if hour in (0, 12) else None
    if period == NIGHT:  # "11 at night" is 23:00, "2 at night" is 02:00
        return 0 if hour == 12 else hour + 12 if 6 <= hour <= 11 else hour if hour < 6 or hour >= 18 else None
    if period == AM:
        return hour % 12 if 1 <= hour <= 12 else hour if hour == 0 else None
    return hour + 12 if 1 <= hour <= 11 else hour if 12 <= hour <= 23 else None


def _hour_words() -> dict[str, int]:
    """The hours as words in the patient's language (the one spoken now)."""
    return HOUR_WORDS.get(locales.current(), HOUR_WORDS[locales.DEFAULT])


def _spoken(words: list[str], at: int) -> tuple[tuple[int, int], set[int]] | None:
    """The minutes said in words around the hour at `at` ("half", "y media"), and the words they took."""
    for (before, after), minutes in SPOKEN.items():
        start, end = at - len(before), at + 1 + len(after)
        if start >= 0 and tuple(words[start:at]) == before and tuple(words[at + 1:end]) == after:
            return minutes, set(range(start, end))
    return None


def _meridiem(text: str) -> str:
    """"a.m." and "p. m." as one word each, so the "a" in them is never a range's "a"."""
    return re.sub(r"\b([ap])\.?\s?m\b\.?", r"\1m", text, flags=re.IGNORECASE)


def _words(text: str) -> list[str]:
    """Lower case without accents, split into words and numbers ("7pm" → "7", "pm"; "19h30" stays)."""
    text = unicodedata.normalize("NFKD", _meridiem(text).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("'", "").replace("’", "")
    text = re.sub(r"(\d)(?=[a-z])(?!h\d)", r"\1 ", text)  # "7pm", "7h", "7uhr": the number apart ("19h30" kept)
    return re.sub(r"[^\w:.]+|(?<!\d)[:.]|[:.](?!\d)", " ", text).split()
