"""The data dictionary shipped with every CSV export: every column, item, code and scale."""
from __future__ import annotations

from typing import TextIO

from content.instruments import MAIN_SCORE, Instrument, instruments
from exports import activity, cells, exercises, long, wide

HEADER = ["file", "name", "kind", "description", "type", "values", "loinc"]

TIME = "ISO 8601 with offset"
COLUMN_NOTES = {
    "study_code": ("Pseudonymous study code (PC-XXXX); the only patient identifier unless identified exports were asked for", "text"),
    "record_type": ("item: one answered or skipped item; score: one score of the response, after its items", "text"),
    "instrument": ("Instrument id (see the item rows below)", "text"),
    "item_id": ("Item id; on score rows, <instrument>_<score name>", "text"),
    "item_text": ("The item's English wording, word for word", "text"),
    "loinc": ("LOINC code of the item or score, where one exists", "text"),
    "value": ("The answer as a number; empty when skipped. On score rows, the score", "number"),
    "label": ("The label of the option chosen (choice items); on the PHQ-4 total row, its severity band", "text"),
    "score": ("The response's main score (PEG-3 mean, PHQ-4 total) on every row of a scored response", "number"),
    "answered_at_utc": ("When the item was answered, UTC", TIME),
    "answered_at_local": ("The same moment in the patient's time zone", TIME),
    "timezone": ("The patient's IANA time zone", "text"),
    "scheduled_for_utc": ("When the check-in was scheduled; empty when the patient started it themselves", TIME),
    "delay_minutes": ("Minutes from the scheduled time to the answer (long) or to the last answer (wide)", "number"),
    "source": ("scheduled: answered from a scheduled prompt; self: started by the patient", "scheduled|self"),
    "skipped": ("1 when the patient skipped the item (never recorded as zero)", "0|1"),
    "response_id": ("Id of the response (one instrument answered in one sitting)", "integer"),
    "language": ("Language the patient answered in", "en|es|de"),
    "translation_validated": ("1 when that language's wording is an official validated translation", "0|1"),
    "completed_at_utc": ("When the response's last item was answered, UTC", TIME),
    "completed_at_local": ("The same moment in the patient's time zone", TIME),
    "skipped_items": ("Item ids the patient skipped, separated by spaces", "text"),
    "clinic_reference": ("The clinic's own reference (identified exports only)", "text"),
    "telegram_id": ("Telegram user id (identified exports only)", "integer"),
    "name": ("The name the patient gave (identified exports only)", "text"),
    "activity": ("breathing, practice, thought_check, pacing_activity, pacing_log, flare, sprint, small_win, exercise, exercise_log "
                 "or lesson", "text"),
    "record_id": ("Id of the activity record; its measures share it", "integer"),
    "measure": ("What the value measures: see the activity rows below for each activity's measures", "text"),
    "at_utc": ("When the activity was recorded, UTC", TIME),
    "at_local": ("The same moment in the patient's time zone", TIME),
}
ACTIVITY_COLUMN_NOTES = {  # where activity.csv's columns mean something else than the answers' columns
    "value": ("The measure's value: a number, a word from a fixed list (pattern, trap, kind), 1/0 for yes/no, "
              "a date (YYYY-MM-DD) or a time (ISO 8601); empty when not recorded", "mixed"),
}
ACTIVITY_NOTES = {
    "breathing": "pattern (paced, box, sigh); planned_seconds and actual_seconds; completed 1 or stopped 0; "
                 "tension_before and tension_after 0-10",
    "practice": "a guided muscle relaxation or mindfulness practice; family (relaxation or mindfulness); kind (pmr: "
                "progressive muscle relaxation; body_scan; pain_noticing: making room for pain; leaves: leaves on a stream); "
                "planned_seconds and actual_seconds; completed 1 or stopped 0 (empty if it never ended); ended_at (played out "
                "or stopped); tension_before and tension_after 0-10; in_charge_before and in_charge_after 0-10, how much the "
                "pain is in charge (0 not at all, 10 completely; mindfulness only); an after rating is empty when not given",
    "thought_check": "kind (full, or quick during a flare); trap (the thinking trap chosen); emotion_before/after and "
                     "belief_before/after 0-100; completed_at (empty if left unfinished)",
    "pacing_activity": "baseline_minutes (mean of the baseline days) and quota_minutes (current); next_raise_on, the "
                       "patient's local date of the next planned raise",
    "pacing_log": "activity_id (the record_id of its pacing_activity); kind (baseline day or done); minutes; "
                  "quota_minutes that day; local_date",
    "flare": "started_at and ended_at (empty while it lasts); peak_pain 0-10",
    "sprint": "exported once reviewed: weeks; per chosen metric <metric>_first_week and <metric>_last_week",
    "exercise": "a home exercise as the clinician prescribed it (its name and note are not exported): sets and reps per set, "
                "or minutes; days_per_week; progression (none, or pacing: the clinic's pacing rule); stopped_at (empty while it runs)",
    "exercise_log": "exercise_id (the record_id of its exercise); local_date; outcome (done, part or skipped); dose (the reps per "
                    "set, or minutes, prescribed that day after any progression); pain_before and pain_after 0-10 (empty when skipped)",
    "small_win": "a small win the coach told the patient of, at the time it was said; kind (longest_yet: a new best for a paced "
                 "activity within its quota, with minutes, quota_minutes, previous_best and activity_id, the record_id of its "
                 "pacing_activity; more_sleep: sleep_hours above the recent average, with hours, average_hours and nights averaged)",
    "lesson": "a lesson of the pain education course, stamped when it was sent (or opened, if asked for): lesson (its id in the "
              "course) and lesson_number (1-11, the course's order); source (scheduled: sent by the scheduler; asked: the "
              "patient asked for the next one now); language (en, es or de) and clinician_reviewed (1 when a clinician of "
              "the clinic reviewed that language's wording); sent_at, opened_at, answered_at (ISO 8601, empty if not yet); "
              "answer (the value of the choice pressed) and correct (1 right, 0 wrong, empty if unanswered)",
}
SCORE_NOTES = {
    "score": "Mean of the three items, 0-10 (higher is worse)",
    "total": "Sum of the four items, 0-12",
    "band": "normal 0-2, mild 3-5, moderate 6-8, severe 9-12",
    "anxiety": "GAD-2: items nervous + worry, 0-6",
    "anxiety_positive": "1 when GAD-2 ≥ 3",
    "depression": "PHQ-2: items interest + down, 0-6",
    "depression_positive": "1 when PHQ-2 ≥ 3",
}


def _scale(measure: Instrument, item) -> tuple[str, str]:
    if item.options:
        return "integer", "; ".join(f"{o.value} = {o.label}" for o in item.options)
    if item.clock:
        return "integer", "0-1439 (a time of day as minutes after midnight, local time: 1350 = 22:30)"
    kind = "decimal" if item.decimals else "integer"
    limits = f"{item.minimum:g}-{item.maximum:g}"
    anchors = f" ({item.minimum:g} = {item.low}; {item.maximum:g} = {item.high})" if item.low and item.high else ""
    return kind, limits + anchors


def write(out: TextIO) -> int:
    writer = cells.writer(out)
    writer.writerow(HEADER)
    count = 0
    files = {"long.csv": long.COLUMNS + long.IDENTIFYING, "wide.csv": wide.FIRST, "activity.csv": activity.COLUMNS + long.IDENTIFYING,
             "exercises.csv": exercises.COLUMNS + long.IDENTIFYING}
    for file, names in files.items():
        for name in names:
            notes = {"activity.csv": ACTIVITY_COLUMN_NOTES, "exercises.csv": exercises.NOTES}.get(file, {})
            description, kind = notes[name] if name in notes else COLUMN_NOTES[name]
            writer.writerow([file, name, "column", description, kind, "", ""])
            count += 1
    for measure in instruments().values():
        validated = ", ".join(language for language, ok in measure.validated.items() if ok) or "none"
        about = f"{measure.name}; recall: {measure.recall}; validated wording: {validated}; licence: {measure.licence}"
        writer.writerow(["", measure.id, "instrument", about + (f"; stem: {measure.stem}" if measure.stem else ""), "", "", measure.loinc_panel or ""])
        for item in measure.items:
            kind, values = _scale(measure, item)
            note = " (optional: may be skipped)" if item.optional else ""
            writer.writerow(["long.csv, wide.csv", item.id, "item", item.text + note, kind, values, item.loinc or ""])
        for name in wide.SCORES.get(measure.scoring, []):
            loinc = (measure.score_loinc or "") if name == MAIN_SCORE.get(measure.scoring) else ""
            kind = "text" if name == "band" else "0|1" if name.endswith("_positive") else "number"
            writer.writerow(["long.csv, wide.csv", f"{measure.id}_{name}", "score", SCORE_NOTES[name], kind, "", loinc])
        count += 1
    for name, description in ACTIVITY_NOTES.items():
        writer.writerow(["activity.csv", name, "activity", description, "", "", ""])
    return count
