"""Typed cities in the time-zone step: GeoNames' cities of 15,000+ people, in English, Spanish and
German spellings, with the country asked where one name is a city in several (Córdoba)."""
from __future__ import annotations

import random

import pytest
from babel import Locale
from babel.dates import get_timezone_location
from sqlalchemy import select

from content import cities
from content.build_cities import spellings
from storage.models import Patient

WALK = {
    "en": ("English", "Continue", "Yes, I agree", "Yes, I'm 18 or older"),
    "es": ("Español", "Continuar", "Sí, acepto", "Sí, tengo 18 o más"),
    "de": ("Deutsch", "Weiter", "Ja, einverstanden", "Ja, ich bin 18 oder älter"),
}
YES = {"en": "Yes, that's right", "es": "Sí, así es", "de": "Ja, das stimmt"}


def stored_zone(database, external_id: str) -> str | None:
    with database.transaction() as session:
        return session.scalars(select(Patient.timezone).where(Patient.external_id == external_id)).one()


@pytest.fixture
def patient(new_chat):
    """A patient at the time-zone question, in the language asked for."""
    def make(language: str = "en", external_id: str = "5001"):
        chat = new_chat(external_id, language)
        chat.command("start")
        for label in WALK[language]:
            chat.press(label)
        return chat
    return make


@pytest.mark.parametrize("typed, shown, zone, time", [
    ("Munich", "Munich", "Europe/Berlin", "14:05"),
    ("München", "München", "Europe/Berlin", "14:05"),
    ("hamburg", "Hamburg", "Europe/Berlin", "14:05"),
    ("Seville", "Seville", "Europe/Madrid", "14:05"),
    ("Sevilla", "Sevilla", "Europe/Madrid", "14:05"),
    ("Leeds", "Leeds", "Europe/London", "13:05"),
])
def test_a_city_of_the_index_is_offered_with_its_local_time(patient, database, typed, shown, zone, time):
    chat = patient()
    chat.say(typed)
    assert f"In {shown} it is now {time}, Saturday, 28 November 2026. Is that your local time?" in chat.text
    chat.press("Yes, that's right")
    assert f"Saved: your time zone is {shown}." in chat.texts
    assert stored_zone(database, "5001") == zone


def test_a_name_in_several_countries_asks_which_country(patient, database):
    chat = patient()
    chat.say("cordoba")
    assert "There is a Córdoba in more than one country. Which country are you in?" in chat.text
    assert chat.buttons == ["Argentina", "Spain", "Mexico", "Philippines", "Choose again"]  # the biggest first
    chat.say("Narnia")
    assert "Please tap your country, or type its name." in chat.text
    chat.press("Argentina")
    assert "In Córdoba it is now 10:05" in chat.text
    chat.press("Yes, that's right")
    assert stored_zone(database, "5001") == "America/Argentina/Cordoba"


def test_the_country_of_a_namesake_may_be_typed(patient, database):
    chat = patient()
    chat.say("Valencia")
    assert chat.buttons[:2] == ["Venezuela", "Spain"]
    chat.say("spain")
    assert "In Valencia it is now 14:05" in chat.text
    chat.press("No, choose again")
    assert "Which time zone" in chat.text and "London" in chat.buttons
    chat.press("London")
    assert "In London it is now 13:05" in chat.text  # not Valencia: the press names its own city
    chat.press("Yes, that's right")
    assert stored_zone(database, "5001") == "Europe/London"


def test_the_biggest_namesake_comes_first_and_the_others_are_a_tap_away(patient, database):
    chat = patient()
    chat.say("Paris")
    assert "In Paris it is now 14:05" in chat.text
    assert chat.buttons == ["Yes, that's right", "No, choose again", "Another place called Paris"]
    chat.press("Another place called Paris")
    assert "There is a Paris in more than one country." in chat.text
    assert chat.buttons == ["France", "South Africa", "United States", "Choose again"]
    chat.press("United States")
    assert "In Paris it is now 7:05" in chat.text  # Paris, Texas
    assert "Another place called Paris" not in chat.buttons
    chat.press("Yes, that's right")
    assert stored_zone(database, "5001") == "America/Chicago"


def test_a_name_in_several_zones_of_one_country_asks_which_zone(patient, database):
    chat = patient()
    chat.say("Springfield")
    assert "Which of these is closest to you?" in chat.text
    assert chat.buttons == ["New York", "Chicago", "Los Angeles", "Choose again"]
    chat.press("Los Angeles")
    chat.press("Yes, that's right")
    assert stored_zone(database, "5001") == "America/Los_Angeles"


def test_a_city_and_its_country_may_be_typed_together(patient, database):
    chat = patient()
    chat.say("London, Canada")
    assert "In London it is now 8:05" in chat.text
    chat.press("Yes, that's right")
    assert stored_zone(database, "5001") == "America/Toronto"


@pytest.mark.parametrize("language, typed, shown, zone", [
    ("es", "Múnich", "Múnich", "Europe/Berlin"),
    ("es", "Colonia", "Colonia", "Europe/Berlin"),
    ("es", "Londres", "Londres", "Europe/London"),
    ("es", "nueva york", "Nueva York", "America/New_York"),
    ("es", "Viena", "Viena", "Europe/Vienna"),
    ("de", "Köln", "Köln", "Europe/Berlin"),
    ("de", "Wien", "Wien", "Europe/Vienna"),
    ("de", "muenchen", "Muenchen", "Europe/Berlin"),
    ("de", "koeln", "Koeln", "Europe/Berlin"),
    ("de", "koln", "Köln", "Europe/Berlin"),
    ("de", "Mailand", "Mailand", "Europe/Rome"),
])
def test_spanish_and_german_speakers_type_their_own_spellings(patient, database, language, typed, shown, zone):
    chat = patient(language)
    chat.say(typed)
    assert chat.text.startswith(f"En {shown}, la hora actual es " if language == "es" else f"In {shown} ist es jetzt ")
    chat.press(YES[language])
    assert stored_zone(database, "5001") == zone


def test_a_german_speaker_is_asked_the_country_in_german(patient, database):
    chat = patient("de")
    chat.say("San José")
    assert "Einen Ort namens San José gibt es in mehr als einem Land." in chat.text
    assert chat.buttons[:3] == ["Vereinigte Staaten", "Costa Rica", "Philippinen"]
    chat.press("Costa Rica")
    chat.press(YES["de"])
    assert stored_zone(database, "5001") == "America/Costa_Rica"


def test_cities_drawn_from_the_index_each_reach_their_own_zone(patient, database):
    """50 cities of the index, drawn with a fixed seed: typed by their own name, each can be set to
    its own zone by the buttons a patient sees (the country where the name is shared, then the zone)."""
    drawn = random.Random(20261128).sample(cities.every(), 50)
    chat = patient()
    country_names = Locale.parse("en").territories
    for city in drawn:
        chat.say(city.name)
        for _ in range(3):
            if "Another place called" in " ".join(chat.buttons) and cities.named(city.name)[0].zone != city.zone:
                chat.press(next(label for label in chat.buttons if label.startswith("Another place called")))
            elif "Which country are you in?" in chat.text:
                country = country_names[city.country]
                chat.press(country) if country in chat.buttons else chat.say(country)
            elif "closest to you" in chat.text:
                chat.press(get_timezone_location(city.zone, locale="en", return_city=True))
        assert "it is now" in chat.text, (city, chat.text)
        chat.press("Yes, that's right")
        assert stored_zone(database, "5001") == city.zone, city
        chat.command("timezone")  # and the next city


def test_every_city_of_the_index_is_found_by_its_own_name():
    every = cities.every()
    assert len(every) > 30000
    missing = [city for city in every if city.geonameid not in {found.geonameid for found in cities.named(city.name)}]
    assert missing == []


def test_the_index_keeps_names_people_type_and_drops_codes_and_other_scripts():
    kept = spellings("Munich", ["MUC", "München", "Munique", "miwnix", "Мюнхен", "ミュンヘン", "Múnich", "München"])
    assert kept == ["Munich", "München", "Munique", "Múnich"]
    assert spellings("Honolulu", ["ʻEwa Beach"]) == ["Honolulu", "ʻEwa Beach"]
