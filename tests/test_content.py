"""Content files are checked when loaded: a missing key or a wrong type names the file and key."""
from __future__ import annotations

import pytest

import content
from content import ContentError
from content.instruments import parse as parse_instrument
from content.thinking import parse as parse_traps


def test_all_shipped_content_loads():
    content.check()


def test_a_trap_without_an_example_is_refused_by_name():
    with pytest.raises(ContentError, match=r"thinking_traps.toml: traps\[0\]: missing key 'example'"):
        parse_traps({"traps": [{"id": "x", "label": "X", "text": "t"}]})


def test_an_instrument_with_a_wrong_type_is_refused_by_name():
    data = {"id": "x", "name": "X", "recall": "r", "licence": "l", "scoring": "none", "validated": {},
            "items": [{"id": "a", "text": 5, "scale": [0, 10]}]}
    with pytest.raises(ContentError, match=r"x.toml: items\[0\]: key 'text' must be str, not int"):
        parse_instrument(data, "x.toml")


def test_a_scored_instrument_cannot_have_optional_items():
    data = {"id": "x", "name": "X", "recall": "r", "licence": "l", "scoring": "mean", "validated": {},
            "items": [{"id": "a", "text": "A", "scale": [0, 10], "optional": True}]}
    with pytest.raises(ContentError, match="cannot be optional"):
        parse_instrument(data, "x.toml")


def test_a_clinic_overrides_a_default_without_code(database):
    from sqlalchemy import select

    from storage.models import Clinic

    with database.transaction() as session:
        clinic = session.scalars(select(Clinic)).one()
        assert clinic.setting("expire_after_minutes") == 720
        clinic.settings = {"expire_after_minutes": 480}
        assert clinic.setting("expire_after_minutes") == 480


def test_a_breathing_pattern_without_phases_is_refused():
    from content.breathing import parse as parse_breathing

    with pytest.raises(ContentError, match=r"patterns\[0\]: key 'phases' is empty"):
        parse_breathing({"durations": [1], "patterns": [{"id": "x", "label": "X", "text": "t", "phases": []}]})
    with pytest.raises(ContentError, match="durations"):
        parse_breathing({"durations": [], "patterns": []})
