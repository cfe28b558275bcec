"""`paincoach exercises add|list|stop`: a patient's home exercises, on the rules the dashboard
uses too (clinic/exercises.py), each change audited."""
from __future__ import annotations

from clinic import exercises
from storage import audit, enrollment
from storage import exercises as stored
from storage.db import Database
from storage.models import utcnow


def add_commands(commands) -> None:
    parser = commands.add_parser("exercises", help="a patient's home exercises: add, list, stop")
    sub = parser.add_subparsers(dest="exercises_command", required=True)
    add = sub.add_parser("add", help="prescribe an exercise: sets × reps, or minutes; days a week")
    add.add_argument("study_code")
    add.add_argument("name", help="as the patient will see it, such as 'Sit to stand'")
    add.add_argument("--sets", help="sets (with --reps; 1 if left out)")
    add.add_argument("--reps", help="repetitions per set (1-200)")
    add.add_argument("--minutes", help="instead of repetitions: minutes (1-180)")
    add.add_argument("--days", required=True, help="days a week (1-7)")
    add.add_argument("--note", help="a note from the physio, shown to the patient")
    add.add_argument("--progression", default="none", help="none (the default: always as prescribed) or pacing (the clinic's "
                                                           "pacing rule: a small planned rise after each period done as prescribed, "
                                                           "at most double)")
    list_ = sub.add_parser("list", help="a patient's exercises, with this week's sessions")
    list_.add_argument("study_code")
    list_.add_argument("--all", action="store_true", help="stopped ones too")
    stop = sub.add_parser("stop", help="stop an exercise (its log is kept)")
    stop.add_argument("study_code")
    stop.add_argument("id", type=int)


def run(args, db: Database, _bot=None) -> int:
    now, actor = utcnow(), audit.cli_actor()
    with db.transaction() as session:
        patient = enrollment.patient_coded(session, args.study_code)
        if args.exercises_command == "add":
            rx = exercises.prescription(args.name, sets=args.sets, reps=args.reps, minutes=args.minutes, days=args.days, note=args.note,
                                        progression=args.progression)
            row = exercises.add(session, patient, rx, now, actor=actor)
            print(f"{patient.study_code}: exercise {row.id} added: {row.name}, {stored.amount(row)}, "
                  f"{row.days_per_week} days a week, progression {row.progression}")
        elif args.exercises_command == "stop":
            row = exercises.stop(session, patient, args.id, now, actor=actor)
            print(f"{patient.study_code}: exercise {row.id} ({row.name}) stopped; its log is kept")
        else:
            rows = exercises.listed(session, patient, include_stopped=args.all)
            zone = stored.zone_of(patient)
            today = stored.local_date(now, zone)
            weeks = {week.exercise_id: week for week in stored.adherence(rows, stored.logs(session, [r.id for r in rows]), zone, today)
                     if week.monday > today.fromordinal(today.toordinal() - 7)}
            for row in rows:
                week = weeks.get(row.id)
                this_week = f"this week {week.sessions}/{week.prescribed}" if week else "stopped"
                stopped = f"  stopped {row.stopped_at:%Y-%m-%d}" if row.stopped_at else ""
                print(f"{row.id}  {row.name}  {stored.amount(row, stored.dose(session, row, now))}  {row.days_per_week}/week  "
                      f"progression {row.progression}  {this_week}{stopped}")
            if not rows:
                print(f"{patient.study_code} has no exercises{'' if args.all else ' now'}")
            audit.record(session, actor, "view_exercises", now, clinic_id=patient.clinic_id, subject=patient.study_code, rows=len(rows))
    return 0
