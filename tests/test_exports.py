"""Exports a clinic can trust: what patients answered through the dialogs comes out of the long
and wide CSV and REDCap files with the same values, times and scores, pseudonymous by default."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.cli import main
from conftest import NOW
from content.instruments import instruments
from exports import bundle, dictionary, long, redcap, wide
from exports.source import Filters
from onboard import onboard
from storage.models import Answer, AuditEntry, BreathingSession, Patient, Prompt, Response


@pytest.fixture
def answered(chat, database):
    """One patient (London) with a daily check-in (one skip), a PEG-3 and a PHQ-4, answered
    through the dialogs; the daily one came from a scheduled prompt 25 minutes earlier."""
    onboard(chat)
    chat.open("Check in now")
    chat.press("Daily check-in")
    for step in ("7", "6.5", "Skip", "4500", "Partly"):
        chat.press(step) if step in chat.buttons else chat.say(step)
    chat.open("Check in now")
    chat.press("Pain this week (PEG)")
    for value in ("6", "5", "4"):
        chat.press(value)
    chat.open("Check in now")
    chat.press("Mood (PHQ-4)")
    for label in ("Several days", "Not at all", "More than half the days", "Several days"):
        chat.press(label)
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        daily = session.scalars(select(Response).where(Response.instrument == "daily")).one()
        prompt = Prompt(patient_id=patient.id, instruments=["daily"], local_date=NOW.date(), scheduled_for=NOW - timedelta(minutes=25),
                        expires_at=NOW + timedelta(hours=3), status="answered")
        session.add(prompt)
        session.flush()
        daily.prompt_id, daily.source = prompt.id, "scheduled"
        session.add(BreathingSession(patient_id=patient.id, pattern="box", planned_seconds=180, actual_seconds=120, completed=False,
                                     tension_before=7, tension_after=4, created_at=NOW))
        return patient.study_code


def export_text(writer, database, filters=Filters()) -> list[dict[str, str]]:
    out = io.StringIO()
    with database.reading() as session:
        writer(session, filters, out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def stored(database) -> dict[tuple[str, str], tuple[float | None, bool, datetime]]:
    with database.transaction() as session:
        rows = session.execute(select(Response.instrument, Answer.item_id, Answer.value, Answer.skipped, Answer.answered_at)
                               .join(Answer, Answer.response_id == Response.id))
        return {(m, item): (value, skipped, at) for m, item, value, skipped, at in rows}


def response_ids(database) -> dict[str, int]:
    with database.transaction() as session:
        return dict(session.execute(select(Response.instrument, Response.id)).all())


def test_long_csv_round_trip_values_times_scores_and_labels(answered, database):
    rows = export_text(long.write, database)
    items = [r for r in rows if r["record_type"] == "item"]
    truth = stored(database)
    assert len(items) == len(truth) == 12
    london = ZoneInfo("Europe/London")
    for row in items:
        value, skipped, at = truth[(row["instrument"], row["item_id"])]
        assert row["study_code"] == answered
        assert row["skipped"] == ("1" if skipped else "0")
        assert (float(row["value"]) if row["value"] else None) == (None if skipped else value)
        assert datetime.fromisoformat(row["answered_at_utc"]) == at
        assert datetime.fromisoformat(row["answered_at_local"]) == at and row["answered_at_local"] == at.astimezone(london).isoformat(timespec="microseconds")
    by_item = {r["item_id"]: r for r in rows}
    assert by_item["sleep_hours"]["value"] == "6.5" and by_item["steps"]["value"] == "4500"
    assert by_item["active_minutes"]["value"] == "" and by_item["active_minutes"]["skipped"] == "1"
    assert by_item["pacing_followed"]["label"] == "Partly"
    assert by_item["phq4_worry"]["label"] == "Not at all" and by_item["phq4_interest"]["label"] == "More than half the days"
    assert by_item["peg_pain"]["loinc"] == "75893-8" and by_item["peg_pain"]["score"] == "5"
    assert by_item["phq4_nervous"]["score"] == "4" and by_item["pain_now"]["score"] == ""
    assert by_item["pain_now"]["source"] == "scheduled" and by_item["pain_now"]["delay_minutes"] == "25.0"
    assert by_item["peg_pain"]["source"] == "self" and by_item["peg_pain"]["delay_minutes"] == ""
    assert by_item["peg_pain"]["item_text"] == "What number best describes your pain on average in the past week?"
    scores = {r["item_id"]: (r["value"], r["label"]) for r in rows if r["record_type"] == "score"}
    assert scores == {"peg3_score": ("5", ""), "phq4_total": ("4", "mild"), "phq4_anxiety": ("1", ""),
                      "phq4_anxiety_positive": ("0", ""), "phq4_depression": ("3", ""), "phq4_depression_positive": ("1", "")}


def test_wide_csv_has_one_row_per_check_in_with_items_and_scores(answered, database):
    rows = {r["instrument"]: r for r in export_text(wide.write, database)}
    assert set(rows) == {"daily", "peg3", "phq4"}
    assert rows["daily"]["pain_now"] == "7" and rows["daily"]["active_minutes"] == "" and rows["daily"]["skipped_items"] == "active_minutes"
    assert rows["daily"]["scheduled_for_utc"] == (NOW - timedelta(minutes=25)).isoformat(timespec="microseconds")
    assert rows["peg3"]["peg3_score"] == "5" and rows["peg3"]["phq4_total"] == ""
    assert rows["phq4"]["phq4_total"] == "4" and rows["phq4"]["phq4_band"] == "mild" and rows["phq4"]["phq4_depression_positive"] == "1"


def test_redcap_files_follow_the_import_rules(answered, database):
    out = io.StringIO()
    redcap.write_dictionary(Filters(), out)
    dictionary_rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert dictionary_rows[0] == redcap.DICTIONARY_HEADER and dictionary_rows[1][:2] == ["record_id", "enrollment"]
    fields = {row[0]: row for row in dictionary_rows[1:]}
    for name, row in fields.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]{0,25}", name), name  # REDCap: lower case, ≤ 26 characters advised
        if row[3] == "radio":
            assert re.fullmatch(r"-?\d+, [^|]+( \| -?\d+, [^|]+)*", row[5]), row[5]
    assert fields["phq4_nervous"][5] == "0, Not at all | 1, Several days | 2, More than half the days | 3, Nearly every day"
    assert fields["peg_pain"][7:10] == ["integer", "0", "10"]
    records = export_text(lambda s, f, o: redcap.write_records(s, f, o), database)
    enrollment = [r for r in records if not r["redcap_repeat_instrument"]]
    assert [(r["record_id"], r["timezone"], r["enrollment_complete"]) for r in enrollment] == [(answered, "Europe/London", "2")]
    repeats = {r["redcap_repeat_instrument"]: r for r in records if r["redcap_repeat_instrument"]}
    assert set(repeats) == {"daily", "peg3", "phq4"}
    ids = response_ids(database)
    assert all(r["redcap_repeat_instance"] == str(ids[form]) and r["record_id"] == answered for form, r in repeats.items())
    assert repeats["daily"]["active_minutes"] == "" and repeats["daily"]["sleep_hours"] == "6.5" and repeats["daily"]["daily_source"] == "1"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", repeats["peg3"]["peg3_completed_utc"])
    assert repeats["phq4"]["phq4_total"] == "4" and repeats["phq4"]["phq4_complete"] == "2"
    assert set(records[0]) - {"redcap_repeat_instrument", "redcap_repeat_instance"} - {f"{form}_complete" for form in ("enrollment", *instruments())} == set(fields)


def test_exports_are_pseudonymous_unless_an_admin_identifies_them_and_are_audited(answered, database, tmp_path):
    plain = tmp_path / "plain"
    counts = bundle.export(database, Filters(), bundle.FORMATS, plain, actor="cli:test", now=NOW)
    assert counts["long.csv"] == 12 and counts["wide.csv"] == 3 and counts["redcap_records.csv"] == 3
    every_file = "\n".join(p.read_text() for p in plain.rglob("*") if p.is_file())
    assert answered in every_file
    assert "1001" not in every_file and "Sam" not in every_file  # Telegram id, name
    identified = tmp_path / "identified"
    bundle.export(database, Filters(identify=True), ("long",), identified, actor="cli:admin", now=NOW)
    row = next(csv.DictReader(open(identified / "long.csv")))
    assert (row["telegram_id"], row["name"]) == ("1001", "Sam")
    with database.transaction() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.actor, e.action, e.rows) for e in entries] == [("cli:test", "export", sum(counts.values())), ("cli:admin", "export", 12)]
    assert entries[1].detail["filters"]["identify"] is True


def test_filters_by_instrument_patient_and_dates(answered, database):
    assert {r["instrument"] for r in export_text(long.write, database, Filters(instruments=("peg3",)))} == {"peg3"}
    assert export_text(long.write, database, Filters(study_codes=("PC-NONE",))) == []
    assert export_text(long.write, database, Filters(since=NOW + timedelta(seconds=1))) == []
    assert len(export_text(wide.write, database, Filters(until=NOW + timedelta(seconds=1)))) == 3


def test_activity_and_the_data_dictionary(answered, database, tmp_path):
    bundle.export(database, Filters(), ("activity", "long", "wide"), tmp_path, actor="cli:test", now=NOW)
    activity = list(csv.DictReader(open(tmp_path / "activity.csv")))
    breathing = {r["measure"]: r["value"] for r in activity if r["activity"] == "breathing"}
    assert breathing["tension_before"] == "7" and breathing["tension_after"] == "4" and breathing["completed"] == "0"
    described = {(r["file"], r["name"]) for r in csv.DictReader(open(tmp_path / "data_dictionary.csv"))}
    for file in ("long.csv", "wide.csv", "activity.csv"):
        header = next(csv.reader(open(tmp_path / file)))
        for column in header:
            assert (file, column) in described or ("long.csv, wide.csv", column) in described, (file, column)


def test_the_command_line_export(answered, database, database_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PAINCOACH_DATABASE_URL", database_url)
    assert main(["export", "--out", str(tmp_path), "--format", "long,fhir", "--instrument", "peg3"]) == 0
    assert "long.csv: 3 answered items" in capsys.readouterr().out
    assert (tmp_path / "fhir" / "QuestionnaireResponse.ndjson").exists()
    assert main(["export", "--out", str(tmp_path), "--format", "xml"]) == 2
    assert dictionary.HEADER  # the dictionary shipped alongside
    assert (tmp_path / "data_dictionary.csv").exists()


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/St_Johns", "Asia/Kathmandu"])
def test_local_times_are_the_zone_conversion_across_a_year_of_sittings(zone):
    """The export's shortcut (one offset per sitting) against a real conversion for every answer,
    sittings started every 97 minutes through 2026: across every DST change, half-hour offsets too."""
    from exports.source import SittingClock, as_utc, iso

    where = ZoneInfo(zone)
    stamp = lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # noqa: E731 - as SQLite keeps times
    start = datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))
    for n in range(0, 365 * 24 * 60, 97):
        began = start + timedelta(minutes=n, microseconds=n % 1000)
        answers = [began + timedelta(minutes=m, seconds=7) for m in (0, 20, 50)]
        clock = SittingClock(where, stamp(began), stamp(answers[-1]), stamp(began - timedelta(minutes=5)))
        for moment in answers:
            utc, local, delay = clock.times(stamp(moment))
            exact = as_utc(stamp(moment))
            assert (utc, local) == (iso(exact), iso(exact.astimezone(where))), (zone, stamp(moment))
            assert float(delay) == round((exact - (began - timedelta(minutes=5))).total_seconds() / 60, 1)


def test_every_file_an_export_or_a_report_writes_is_for_its_owner_only(answered, database_url, tmp_path, monkeypatch):
    import os

    monkeypatch.setenv("PAINCOACH_DATABASE_URL", database_url)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "long.csv").touch(mode=0o644)  # left by an earlier export: narrowed as it is overwritten
    previous = os.umask(0)  # whatever the umask says
    try:
        assert main(["export", "--out", str(tmp_path / "out"), "--format", ",".join(bundle.FORMATS)]) == 0
        assert main(["export", "--out", str(tmp_path / "new" / "export"), "--format", "long"]) == 0
        assert main(["report", "--patient", answered, "--out", str(tmp_path / "visit.pdf"), "--language", "de"]) == 0
    finally:
        os.umask(previous)
    files = [p for d in ("out", "new") for p in (tmp_path / d).rglob("*") if p.is_file()] + [tmp_path / "visit.pdf"]
    assert len(files) >= 10 and {p.relative_to(tmp_path).as_posix(): p.stat().st_mode & 0o777 for p in files} == {
        p.relative_to(tmp_path).as_posix(): 0o600 for p in files}
    assert [(tmp_path / d).stat().st_mode & 0o777 for d in ("out/fhir", "new/export")] == [0o700, 0o700]


def test_text_a_spreadsheet_would_run_as_a_formula_is_neutralised_and_numbers_stay_numbers(answered, database, tmp_path):
    from exports.cells import neutral

    assert [neutral(v) for v in ("=1+1", "+1", "-2+3", "@SUM(1)", "\tx", "\rx", "-1.5", "-3", "1e-05", "-2E+03", "PC-7K3Q", 7)] == \
        ["'=1+1", "'+1", "'-2+3", "'@SUM(1)", "'\tx", "'\rx", "-1.5", "-3", "1e-05", "-2E+03", "PC-7K3Q", 7]
    formula, at_sign = '=HYPERLINK("http://x","y")', "@SUM(1)"
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        patient.preferred_name, patient.clinic_reference = formula, at_sign
        pain = session.scalars(select(Answer).where(Answer.item_id == "pain_now")).one()
        pain.value = -1.5  # a negative number, as a change score would be
        session.add(BreathingSession(patient_id=patient.id, pattern="box", planned_seconds=-60, created_at=NOW))
    bundle.export(database, Filters(identify=True), bundle.FORMATS, tmp_path, actor="cli:admin", now=NOW)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.glob("*.csv"))
    assert files == ["activity.csv", "data_dictionary.csv", "exercises.csv", "long.csv", "redcap_data_dictionary.csv", "redcap_records.csv",
                     "wide.csv"]
    for name in files:
        for row in csv.reader(open(tmp_path / name, newline="")):
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")) and not re.match(r"-(?![\d.]+$)", cell), (name, cell)
    for name in ("long.csv", "wide.csv", "activity.csv"):
        rows = list(csv.DictReader(open(tmp_path / name, newline="")))
        assert {(r["name"], r["clinic_reference"]) for r in rows} == {("'" + formula, "'" + at_sign)}, name
    long_rows = {r["item_id"]: r for r in csv.DictReader(open(tmp_path / "long.csv", newline=""))}
    assert long_rows["pain_now"]["value"] == "-1.5"
    assert next(csv.DictReader(open(tmp_path / "wide.csv", newline="")))["pain_now"] == "-1.5"
    assert "-1.5" in next(r for r in csv.reader(open(tmp_path / "redcap_records.csv", newline="")) if r[1] == "daily")
    assert any(r["measure"] == "planned_seconds" and r["value"] == "-60" for r in csv.DictReader(open(tmp_path / "activity.csv")))


def test_the_wide_layout_only_grows_at_the_end():
    # A reader of the wide CSV by position keeps working: the first layout (daily, PEG-3, PHQ-4: their
    # items, then their scores) is where it was, and the sleep diary's columns come after it.
    from content.instruments import instruments

    first = wide.columns(Filters(instruments=("daily", "peg3", "phq4")))
    everything = wide.columns(Filters())
    assert everything[: len(first)] == first
    diary = [item.id for item in instruments()["sleep_diary"].items]
    assert everything[len(first):] == diary and first[-1] == "phq4_depression_positive"
