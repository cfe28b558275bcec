"""The daily cap on the dashboard's settings page: admins only, checked as `paincoach clinic set`
checks it, audited old to new."""
from __future__ import annotations

import pytest

from storage.models import Clinic
from test_web import URL, clinic_a, client, clock, command_line_uses_the_test_database, csrf_of, desk, sign_in, web_link  # noqa: F401
from test_web_admin import admin, audited

LABEL = "Messages the bot sends on its own, at most, per patient per day"


def test_an_admin_sets_the_daily_cap_and_it_is_audited(database, desk, client, clinic_a):
    admin(database)
    sign_in(client, web_link(desk))
    page = client.get("/settings")
    assert LABEL in page.text and 'name="daily_message_cap" value="4"' in page.text
    assert "<td>daily_message_cap</td><td>4</td><td>default</td>" in page.text
    assert client.post("/settings/messages", data={"daily_message_cap": "6"}).status_code == 403  # no CSRF token
    saved = client.post("/settings/messages", data={"csrf": csrf_of(page), "daily_message_cap": "6"})
    assert saved.status_code == 303 and saved.headers["location"] == "/settings?saved=1"
    shown = client.get(saved.headers["location"]).text
    assert 'name="daily_message_cap" value="6"' in shown and "<td>daily_message_cap</td><td>6</td><td>your clinic&#39;s</td>" in shown
    with database.transaction() as session:
        clinic = session.get(Clinic, clinic_a)
        assert clinic.setting("daily_message_cap") == 6 and "alert_escalate_minutes" not in clinic.settings  # the other form untouched
    changes = [(e.detail["setting"], e.detail["old"], e.detail["new"], e.detail["via"]) for e in audited(database, "change_setting")]
    assert changes == [("daily_message_cap", 4, 6, "web")]


@pytest.mark.parametrize("value, message", [
    ("0", f"{LABEL} must be from 1 to 24"),
    ("100", f"{LABEL} must be from 1 to 24"),
    ("a few", f"{LABEL} must be a whole number, like 4"),
    ("", f"{LABEL} must be a whole number, like 4"),
])
def test_a_bad_cap_is_explained_and_changes_nothing(database, desk, client, clinic_a, value, message):
    admin(database)
    sign_in(client, web_link(desk))
    refused = client.post("/settings/messages", data={"csrf": csrf_of(client.get("/settings")), "daily_message_cap": value})
    assert refused.status_code == 400 and message in refused.text
    assert f'name="daily_message_cap" value="{value}"' in refused.text  # what they typed, to correct
    with database.transaction() as session:
        assert "daily_message_cap" not in session.get(Clinic, clinic_a).settings
    assert audited(database, "change_setting") == []


def test_only_an_admin_changes_the_cap(database, desk, client, clinic_a):
    sign_in(client, web_link(desk))
    page = client.get("/patients")
    assert client.post("/settings/messages", data={"csrf": csrf_of(page), "daily_message_cap": "9"}).status_code == 403
    with database.transaction() as session:
        assert "daily_message_cap" not in session.get(Clinic, clinic_a).settings
