"""Export speed and memory on 1,000,000 answered items in the embedded SQLite database.

Baseline: the same answer rows read by one plain SELECT (the standard library's sqlite3) and
written with the standard library's csv module. Measured: paincoach's long CSV (labels, scores,
local times, delays) and its FHIR NDJSON, each in a fresh process so peak RSS is its own.

    python benchmarks/export.py [--items 1000000] [--keep]

Prints wall time and peak RSS of each, and `ratio` = long CSV time / baseline time
(target ≤ 2.0, peak RSS < 200 MB).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "Australia/Sydney", "America/Mexico_City"]
SITTINGS = [("daily", ["pain_now", "sleep_hours", "active_minutes", "steps", "pacing_followed"]),
            ("peg3", ["peg_pain", "peg_enjoyment", "peg_activity"]),
            ("phq4", ["phq4_nervous", "phq4_worry", "phq4_interest", "phq4_down"])]

BASELINE_SQL = """
SELECT r.patient_id, r.id, r.instrument, r.source, r.language, r.completed_at, r.score, p.scheduled_for,
       a.item_id, a.value, a.skipped, a.answered_at
FROM responses r JOIN answers a ON a.response_id = r.id LEFT JOIN prompts p ON p.id = r.prompt_id
WHERE r.completed_at IS NOT NULL
ORDER BY r.patient_id, r.completed_at, r.id, a.id
"""


def stamp(moment: datetime) -> str:
    """A time as paincoach's SQLite columns hold it (UTC, no offset)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def build(path: Path, items: int) -> None:
    """Patients with a year of daily check-ins and weekly PEG/PHQ-4, until `items` answers."""
    from content.instruments import instrument, score
    from storage.db import open_database

    open_database(f"sqlite:///{path}").dispose()  # the real schema, migrated
    rng = random.Random(7)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    clinic = db.execute("SELECT id FROM clinics").fetchone()[0]
    start = datetime(2025, 11, 1, tzinfo=timezone.utc)
    made, patient, response_id, prompt_id = 0, 0, 0, 0
    while made < items:
        patient += 1
        db.execute("INSERT INTO patients (id, clinic_id, study_code, channel, external_id, language, consent, timezone, "
                   "reachable, checkins_paused, created_at) VALUES (?, ?, ?, 'telegram', ?, 'en', 'given', ?, 1, 0, ?)",
                   (patient, clinic, f"PC-{patient:06d}", str(10_000 + patient), ZONES[patient % len(ZONES)], stamp(start)))
        responses, answers, prompts = [], [], []
        for day in range(365):
            for index, (measure_id, item_ids) in enumerate(SITTINGS):
                if measure_id != "daily" and day % 7:
                    continue
                scheduled = start + timedelta(days=day, hours=8, minutes=index)  # one prompt per instrument
                done = scheduled + timedelta(minutes=rng.randint(1, 300))
                values = {item: float(rng.randint(0, 3 if measure_id == "phq4" else 10)) for item in item_ids}
                result = score(instrument(measure_id), values)
                response_id += 1
                prompt = None
                if rng.random() < 0.8:
                    prompt_id += 1
                    prompt = prompt_id
                    prompts.append((prompt, patient, json.dumps([measure_id]), scheduled.date().isoformat(), stamp(scheduled),
                                    stamp(scheduled + timedelta(hours=12)), "answered", stamp(done)))
                responses.append((response_id, patient, measure_id, prompt, "scheduled" if prompt else "self", "en",
                                  stamp(scheduled), stamp(done), json.dumps(result) if result else None))
                for item, value in values.items():
                    skipped = measure_id == "daily" and item != "pain_now" and rng.random() < 0.1
                    answers.append((response_id, item, None if skipped else value, skipped, stamp(done)))
                made += len(values)
        db.executemany("INSERT INTO prompts (id, patient_id, kind, instruments, local_date, scheduled_for, expires_at, status, updated_at) "
                       "VALUES (?, ?, 'checkin', ?, ?, ?, ?, ?, ?)", prompts)
        db.executemany("INSERT INTO responses (id, patient_id, instrument, prompt_id, source, language, started_at, completed_at, score) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", responses)
        db.executemany("INSERT INTO answers (response_id, item_id, value, skipped, answered_at) VALUES (?, ?, ?, ?, ?)", answers)
    db.commit()
    db.close()


def child(kind: str, path: Path, out: Path) -> None:
    if kind == "baseline":
        import csv

        db = sqlite3.connect(path)
        with open(out, "w", newline="") as fp:
            writer = csv.writer(fp)
            for row in db.execute(BASELINE_SQL):
                writer.writerow(row)
        return
    from exports.bundle import export
    from exports.source import Filters
    from storage.db import Database

    # As `paincoach export --format long` (or fhir) runs it: files, data dictionary, audit entry.
    export(Database(f"sqlite:///{path}"), Filters(), (kind,), out, actor="benchmark", now=datetime.now(timezone.utc))


def measure(kind: str, path: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one export in its own process."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, __file__, "--child", kind, str(path), str(out)])
    _pid, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{kind} failed")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated database for another run")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, out = args.child
        child(kind, Path(path), Path(out))
        return
    folder = Path(tempfile.gettempdir()) / f"paincoach-export-bench-{args.items}"
    folder.mkdir(exist_ok=True)
    path = folder / "bench.db"
    if not path.exists():
        started = time.perf_counter()
        build(path, args.items)
        print(f"built {args.items:,} answered items in {time.perf_counter() - started:.1f} s")
    rows = sqlite3.connect(path).execute("SELECT count(*) FROM answers").fetchone()[0]
    print(f"answered items: {rows:,}")
    results = {}
    for kind in ("baseline", "long", "fhir"):
        out = folder / f"out-{kind}"
        shutil.rmtree(out, ignore_errors=True)
        seconds, rss = measure(kind, path, out)
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) if out.is_dir() else out.stat().st_size
        results[kind] = seconds
        print(f"{kind:9s} {seconds:7.2f} s   peak RSS {rss:6.1f} MB   {size / 1e6:7.1f} MB written")
    print(f"ratio {results['long'] / results['baseline']:.2f}  (long CSV / plain SELECT + csv; target <= 2.0)")
    print(f"fhir ratio {results['fhir'] / results['baseline']:.2f}  (FHIR NDJSON / plain SELECT + csv; reported)")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
