"""The clinic's commands: `clinic`, `clinician`, `invite`, `discharge`, `export`, `report`, `audit`, `alerts`, `purge`, and
`exercises` (bot/exercise_cli.py)."""
from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot import exercise_cli

from storage import enrollment
from storage import audit
from storage.alerts import clinician_chats
from storage.db import Database
from storage.models import Clinic, Clinician, Patient, utcnow


def add_commands(commands) -> None:
    clinic = commands.add_parser("clinic", help="clinics and their settings").add_subparsers(dest="clinic_command", required=True)
    create = clinic.add_parser("create", help="a new clinic")
    create.add_argument("name")
    create.add_argument("--fallback-chat-id", type=int, help="Telegram chat that gets alerts nobody acknowledged")
    clinic.add_parser("list", help="clinics, their patients and who receives their alerts")
    show = clinic.add_parser("show", help="a clinic's settings (its own and the defaults)")
    show.add_argument("name")
    set_ = clinic.add_parser("set", help="change a setting: VALUE is TOML (15, true, \"09:00\", [30, 120])")
    set_.add_argument("name")
    set_.add_argument("key")
    set_.add_argument("value")

    clinician = commands.add_parser("clinician", help="clinicians").add_subparsers(dest="clinician_command", required=True)
    invite_clinician = clinician.add_parser("invite", help="a one-time link that verifies a clinician in Telegram")
    invite_clinician.add_argument("--clinic", required=True)
    invite_clinician.add_argument("--name")
    invite_clinician.add_argument("--admin", action="store_true", help="may export identified data")
    invite_clinician.add_argument("--hours", type=positive_hours, help="how long the link works (default 72)")
    list_ = clinician.add_parser("list")
    list_.add_argument("--clinic")
    revoke = clinician.add_parser("revoke", help="the clinician loses access at once")
    revoke.add_argument("id", type=int)

    invite = commands.add_parser("invite", help="a patient's invitation link into a clinic")
    invite.add_argument("--clinic", required=True)
    invite.add_argument("--reference", help="the clinic's own reference for the patient (exported only with --identify)")
    invite.add_argument("--hours", type=positive_hours, help="how long the link works (default 336: two weeks)")

    discharge = commands.add_parser("discharge", help="stop a patient's check-ins; their data is kept")
    discharge.add_argument("study_code")

    export = commands.add_parser("export", help="export the measures (CSV, FHIR, REDCap)")
    export.add_argument("--out", required=True, type=Path, help="folder to write into")
    export.add_argument("--format", default="all", help="comma-separated: long, wide, activity, exercises, fhir, redcap, or all")
    export.add_argument("--clinic")
    export.add_argument("--patient", action="append", default=[], help="a study code (repeatable)")
    export.add_argument("--since", help="YYYY-MM-DD (UTC), inclusive")
    export.add_argument("--until", help="YYYY-MM-DD (UTC), inclusive")
    export.add_argument("--instrument", action="append", default=[])
    export.add_argument("--identify", action="store_true", help="admin: add clinic references, Telegram ids and names (audited)")

    report = commands.add_parser("report", help="one-page visit report")
    report.add_argument("--patient", required=True)
    report.add_argument("--format", choices=("pdf", "png"), default="pdf")
    report.add_argument("--out", type=Path)
    report.add_argument("--with-reference", action="store_true", help="show the clinic's reference on the page")
    report.add_argument("--language", choices=("en", "es", "de"), default="en", help="the reader's: words, dates and numbers")

    audit_ = commands.add_parser("audit", help="who exported or viewed what")
    audit_.add_argument("--limit", type=int, default=50, help="how many of the newest entries (default 50)")

    alerts = commands.add_parser("alerts", help="alerts nobody has acknowledged yet; `alerts ack ID` acknowledges one")
    alerts.add_argument("--clinic")
    ack = alerts.add_subparsers(dest="alerts_command").add_parser(
        "ack", help="acknowledge an alert (audited); the running bot edits its copies in Telegram")
    ack.add_argument("id", type=int)
    ack.add_argument("--note", help="what was done, shown to the clinic's clinicians on the alert")

    purge = commands.add_parser("purge", help="erase patients discharged longer ago than their clinic's retention_days")
    purge.add_argument("--dry-run", action="store_true", help="list their study codes, erase nothing")
    exercise_cli.add_commands(commands)


COMMANDS = {"clinic", "clinician", "invite", "discharge", "export", "report", "audit", "alerts", "purge", "exercises"}


def run(args, db: Database, bot_username: str | None) -> int:
    try:
        return HANDLERS[args.command](args, db, bot_username)
    except (enrollment.NotFound, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    except OSError as error:  # e.g. --out names a file, or a folder we may not write to
        print(f"{error.strerror}: {error.filename}", file=sys.stderr)
        return 2


def _clinic(args, db: Database, _bot) -> int:
    now = utcnow()
    with db.transaction() as session:
        if args.clinic_command == "create":
            if not args.name.strip():
                raise ValueError("a clinic needs a name")
            if session.scalar(select(Clinic.id).where(Clinic.name == args.name)):
                raise ValueError(f"a clinic named {args.name!r} exists already")
            session.add(Clinic(name=args.name, fallback_chat_id=args.fallback_chat_id, settings={}, created_at=now))
            print(f"created clinic {args.name!r}")
        elif args.clinic_command == "list":
            unreachable = {c.id for c in enrollment.clinics_without_recipients(session)}
            for clinic in session.scalars(select(Clinic).order_by(Clinic.name)):
                patients = len(clinic_patients(session, clinic.id))
                clinicians = len(clinician_chats(session, clinic.id))
                warning = "  ⚠ alerts reach nobody: no verified clinician, no fallback contact" if clinic.id in unreachable else ""
                default = " (default)" if clinic.is_default else ""
                print(f"{clinic.name}{default}: {patients} patients, {clinicians} verified clinicians, "
                      f"fallback {clinic.fallback_chat_id or '-'}{warning}")
        elif args.clinic_command == "show":
            from clinic.settings import FALLBACK, listing

            for key, value, own in listing(enrollment.clinic_named(session, args.name)):
                if key == FALLBACK:
                    print(f"{key} = {value or '-'}")
                else:
                    print(f"{key} = {value!r}{'' if own else '  (default)'}")
        else:
            from clinic.settings import set_setting

            set_setting(enrollment.clinic_named(session, args.name), args.key, args.value)
            print(f"{args.name}: {args.key} = {args.value}")
    return 0


def clinic_patients(session, clinic_id: int) -> list[int]:
    return list(session.scalars(select(Patient.id).where(Patient.clinic_id == clinic_id, Patient.discharged_at.is_(None))))


def _clinician(args, db: Database, bot_username: str | None) -> int:
    now = utcnow()
    with db.transaction() as session:
        if args.clinician_command == "invite":
            clinic = enrollment.clinic_named(session, args.clinic)
            clinician, code = enrollment.invite_clinician(session, clinic, now, name=args.name, admin=args.admin,
                                                          created_by=audit.cli_actor(), hours=args.hours)
            print(f"clinician {clinician.id} ({args.name or 'unnamed'}) for {clinic.name}: open this in Telegram once")
            print(enrollment.deep_link(bot_username, code))
        elif args.clinician_command == "list":
            query = select(Clinician, Clinic.name).join(Clinic, Clinic.id == Clinician.clinic_id).order_by(Clinician.id)
            if args.clinic:
                query = query.where(Clinic.name == args.clinic)
            for clinician, clinic_name in session.execute(query):
                status = "revoked" if clinician.revoked_at else "verified" if clinician.verified_at else "invited"
                admin = ", admin" if clinician.is_admin else ""
                print(f"{clinician.id}  {clinician.name or '-'}  {clinic_name}  {status}{admin}")
        else:
            clinician = session.get(Clinician, args.id)
            if clinician is None:
                raise ValueError(f"no clinician {args.id}")
            clinician.revoked_at = clinician.revoked_at or now
            audit.record(session, audit.cli_actor(), "revoke_clinician", now, clinic_id=clinician.clinic_id, subject=f"clinician:{clinician.id}")
            print(f"clinician {clinician.id} revoked")
    return 0


def _invite(args, db: Database, bot_username: str | None) -> int:
    now = utcnow()
    with db.transaction() as session:
        clinic = enrollment.clinic_named(session, args.clinic)
        code = enrollment.invite(session, "patient", clinic, now, created_by=audit.cli_actor(), reference=args.reference, hours=args.hours)
    print(f"invitation for a patient of {clinic.name} (one use):")
    print(enrollment.deep_link(bot_username, code))
    return 0


def _discharge(args, db: Database, _bot) -> int:
    from clinic.admin import discharge

    now = utcnow()
    with db.transaction() as session:
        patient = enrollment.patient_coded(session, args.study_code)
        days = discharge(session, patient, now, actor=audit.cli_actor())
    print(f"{patient.study_code} discharged: no more check-ins; data kept for {days} days")
    return 0


def _export(args, db: Database, _bot) -> int:
    from exports.bundle import FORMATS, export
    from exports.source import Filters, parse_day

    formats = FORMATS if args.format == "all" else tuple(f.strip() for f in args.format.split(","))
    if unknown := set(formats) - set(FORMATS):
        raise ValueError(f"unknown format(s): {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}")
    with db.transaction() as session:
        clinic_id = enrollment.clinic_named(session, args.clinic).id if args.clinic else None
    filters = Filters(clinic_id=clinic_id, study_codes=tuple(c.upper() for c in args.patient), since=parse_day(args.since),
                      until=parse_day(args.until, end=True), instruments=tuple(args.instrument), identify=args.identify)

    def progress(rows: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{rows:,} rows…", end="", file=sys.stderr, flush=True)

    counts = export(db, filters, formats, args.out, actor=audit.cli_actor(), now=utcnow(), progress=progress)
    if sys.stderr.isatty():
        print("\r", end="", file=sys.stderr)
    for name, rows in counts.items():
        what = "answered items" if name == "long.csv" else "resources" if name.endswith(".ndjson") else "rows"
        print(f"{args.out / name}: {rows:,} {what}")
    if args.identify:
        print("identified export: it contains names and ids; recorded in the audit", file=sys.stderr)
    return 0


def _report(args, db: Database, _bot) -> int:
    from exports.files import write_private
    from exports.report import render

    now = utcnow()
    with db.reading() as session:
        patient = enrollment.patient_coded(session, args.patient)
        data = render(session, patient, now, args.format, show_reference=args.with_reference, language=args.language)
    out = args.out or Path(f"{patient.study_code}-visit.{args.format}")
    write_private(out, data)  # owner-only (0600): it shows what the patient answered
    with db.transaction() as session:
        audit.record(session, audit.cli_actor(), "report", now, clinic_id=patient.clinic_id, subject=patient.study_code,
                     format=args.format, with_reference=args.with_reference)
    print(f"visit report written to {out}")
    return 0


def _audit(args, db: Database, _bot) -> int:
    with db.transaction() as session:
        for entry in audit.entries(session, args.limit):
            rows = f" {entry.rows:,} rows" if entry.rows is not None else ""
            print(f"{entry.at:%Y-%m-%d %H:%M:%S}Z  {entry.actor}  {entry.action}  {entry.subject or '-'}{rows}  {entry.detail or ''}")
    return 0


def _purge(args, db: Database, _bot) -> int:
    """Retention: a discharged patient's data goes once their clinic's retention_days have passed,
    erased as /delete erases it (audited with the study code and counts only)."""
    from storage.erase import erase_patient

    now = utcnow()
    with db.transaction() as session:
        discharged = session.scalars(select(Patient).where(Patient.discharged_at.is_not(None)).order_by(Patient.id)).all()
        due = [(p.id, p.study_code) for p in discharged if p.discharged_at < now - timedelta(days=p.clinic.setting("retention_days"))]
    for patient_id, study_code in due:
        if args.dry_run:
            print(f"{study_code} would be erased")
            continue
        with db.transaction() as session:  # one patient at a time: a short write lock each
            patient = session.get(Patient, patient_id)
            if patient is None or patient.discharged_at is None:  # deleted themselves, or re-admitted, meanwhile
                continue
            patient_clinic = patient.clinic_id
            counts = erase_patient(session, patient)
            audit.record_erasure(session, audit.cli_actor(), now, study_code, patient_clinic, counts)
        print(f"{study_code} erased: {sum(counts.values()):,} rows")
    if not due:
        print("nobody is past their clinic's retention period")
    return 0


def _alerts(args, db: Database, _bot) -> int:
    from storage.models import Alert

    if args.alerts_command == "ack":
        return _acknowledge(args, db)
    with db.reading() as session:
        query = select(Alert, Clinic.name).join(Clinic, Clinic.id == Alert.clinic_id).where(Alert.acknowledged_at.is_(None))
        if args.clinic:
            query = query.where(Clinic.id == enrollment.clinic_named(session, args.clinic).id)
        rows = session.execute(query.order_by(Alert.created_at)).all()
        for alert, clinic_name in rows:
            count = f", {alert.message_count} messages, latest {alert.last_message_at:%H:%M}" if alert.message_count > 1 else ""
            escalated = f", escalated {alert.escalations}× (latest {alert.escalated_at:%H:%M})" if alert.escalated_at else ""
            print(f"{alert.id}  {alert.created_at:%Y-%m-%d %H:%M}Z  {clinic_name}  {alert.study_code}  {alert.category}{count}{escalated}")
    if not rows:
        print("no unacknowledged alerts")
    return 0


def _acknowledge(args, db: Database) -> int:
    from storage.alerts import acknowledge

    now, actor = utcnow(), audit.cli_actor()
    with db.transaction() as session:
        alert, acknowledged = acknowledge(session, args.id, now, actor, note=(args.note or "").strip()[:2000] or None)
        if alert is None:
            raise ValueError(f"no alert {args.id}; `paincoach alerts` lists the open ones")
        if acknowledged:
            audit.record(session, actor, "acknowledge", now, clinic_id=alert.clinic_id, subject=alert.study_code,
                         alert=alert.id, note=args.note is not None)
        at, by = alert.acknowledged_at, alert.acknowledged_actor or f"clinician:{alert.acknowledged_by}"
    if not acknowledged:
        print(f"alert {args.id} was already acknowledged by {by} at {at:%Y-%m-%d %H:%M}Z")
        return 0
    print(f"alert {args.id} acknowledged; the running bot edits its copies in Telegram")
    return 0


def positive_hours(text: str) -> float:
    hours = float(text)
    if hours <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return hours


HANDLERS = {
    "alerts": _alerts,
    "clinic": _clinic, "clinician": _clinician, "invite": _invite, "discharge": _discharge,
    "export": _export, "report": _report, "audit": _audit, "purge": _purge, "exercises": exercise_cli.run,
}
