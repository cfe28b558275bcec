"""The first message after a start is answered as fast as any other: `paincoach run` and
`paincoach chat` compile and load, before they take any update, what a first message would
otherwise wait for (the safety screen's phrase lists and model, the gettext catalogs, the
dizziness and flare words, the time zone and city indexes)."""
from __future__ import annotations

import pytest

import locales
from bot.cli import main
from content import cities
from dialogs import drills, flares, timezone
from dialogs.engine import Engine
from screen import classifier, phrases, rules

LAZY = {  # what would otherwise be made on first use, by name
    "safety phrase files": phrases.load_phrases,
    "safety phrase lists": rules._compiled,
    "advice limits": rules._advice_lists,
    "screen model": classifier.load,
    "gettext catalogs": locales.translations,
    "flare words": flares._flare_words,
    "dizziness words": drills._dizzy_words,
    "time zone cities": timezone._city_index,
    "countries": timezone._country_index,
    "city index": cities._index,
}


class FirstUpdate(Exception):
    """Stops the command at its first update, once what was ready then is noted."""


@pytest.fixture
def cold(tmp_path, monkeypatch):
    """A process that has compiled nothing yet, about to start on a database of its own."""
    monkeypatch.setenv("PAINCOACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PAINCOACH_DATABASE_URL", raising=False)
    for made in LAZY.values():
        made.cache_clear()
    yield
    for made in LAZY.values():  # (the next tests find them made, as they would have)
        made.cache_clear()


def made_now() -> dict[str, int]:
    return {name: made.cache_info().currsize for name, made in LAZY.items()}


def test_chat_warms_everything_before_the_first_message(cold, monkeypatch):
    seen = {}

    def first_update(engine, inbound):
        seen.update(made_now())
        raise FirstUpdate

    monkeypatch.setattr(Engine, "handle", first_update)
    with pytest.raises(FirstUpdate):
        main(["chat"])
    assert seen == {**{name: 1 for name in LAZY}, "gettext catalogs": len(locales.SUPPORTED)}


def test_run_warms_everything_but_the_city_index_before_it_serves(cold, monkeypatch):
    """(The city index is read in the background once the bot has started: bot/telegram.py.)"""
    seen = {}

    def serve(settings, engine, *, take_over=False):  # the Telegram transport, which takes the first update
        seen.update(made_now())

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:" + "A" * 35)
    monkeypatch.setattr("bot.telegram.run", serve)
    assert main(["run"]) == 0
    assert seen == {**{name: 1 for name in LAZY}, "gettext catalogs": len(locales.SUPPORTED), "city index": 0}
