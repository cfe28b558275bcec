"""One export: the chosen formats written into a folder (or one zip), from one consistent
snapshot of the database, and recorded in the audit."""
from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Callable

from storage import audit
from exports import activity, dictionary, exercises, fhir, long, redcap, wide
from exports.files import owner_only, private_dir
from exports.source import Filters, people
from storage.db import Database
from storage.enrollment import NotFound

FORMATS = ("long", "wide", "activity", "exercises", "fhir", "redcap")
CSV_FORMATS = {"long", "wide", "activity", "exercises"}
BUFFER = 1 << 20


class UnknownPatients(NotFound):
    """Study codes asked for that are no patient of the clinic exported (or of none): nothing is
    written, since an export without them would look like one of patients with no answers."""

    def __init__(self, codes: list[str]):
        self.codes = codes
        super().__init__(f"no patient {', '.join(codes)}: nothing exported")


def refuse_unknown(db: Database, filters: Filters, *, actor: str, now: datetime, via: str | None = None) -> None:
    """Raise UnknownPatients, audited as a refused export, when a study code asked for is not one
    of the patients the export may take. Another clinic's patient is unknown here: a clinic learns
    nothing of another's study codes."""
    if not filters.study_codes:
        return
    with db.reading() as session:
        known = {person.study_code for person in people(session, filters).values()}
    if unknown := sorted(set(filters.study_codes) - known):
        with db.transaction() as session:
            audit.record(session, actor, "export_refused", now, clinic_id=filters.clinic_id,
                         subject=unknown[0] if len(unknown) == 1 else None, reason="unknown_study_code",
                         study_codes=unknown, filters=filters.describe(), **_via(via))
        raise UnknownPatients(unknown)


def export(db: Database, filters: Filters, formats: tuple[str, ...], directory: Path, *, actor: str, now: datetime,
           progress: Callable[[int], None] | None = None, via: str | None = None) -> dict[str, int]:
    """Write the files; returns the rows (or resources) written per file. Raises UnknownPatients,
    having written nothing, when a study code asked for is not one of them."""
    refuse_unknown(db, filters, actor=actor, now=now, via=via)
    private_dir(directory)
    counts: dict[str, int] = {}

    def csv_file(name: str):
        # A large buffer: fewer writes for files of hundreds of megabytes (benchmarks/export.py).
        return open(directory / name, "w", newline="", encoding="utf-8", buffering=BUFFER, opener=owner_only)

    with db.reading() as session:
        if "long" in formats:
            with csv_file("long.csv") as out:
                counts["long.csv"] = long.write(session, filters, out, progress=progress)
        if "wide" in formats:
            with csv_file("wide.csv") as out:
                counts["wide.csv"] = wide.write(session, filters, out)
        if "activity" in formats:
            with csv_file("activity.csv") as out:
                counts["activity.csv"] = activity.write(session, filters, out)
        if "exercises" in formats:
            with csv_file("exercises.csv") as out:
                counts["exercises.csv"] = exercises.write(session, filters, out, now)
        if CSV_FORMATS & set(formats):
            with csv_file("data_dictionary.csv") as out:
                dictionary.write(out)
        if "fhir" in formats:
            fhir_dir = directory / "fhir"
            private_dir(fhir_dir)
            counts |= {f"fhir/{kind}.ndjson": n for kind, n in fhir.write(session, filters, fhir_dir).items()}
        if "redcap" in formats:
            with csv_file("redcap_data_dictionary.csv") as out:
                redcap.write_dictionary(filters, out)
            with csv_file("redcap_records.csv") as out:
                counts["redcap_records.csv"] = redcap.write_records(session, filters, out)
    with db.transaction() as session:
        audit.record(session, actor, "export", now, clinic_id=filters.clinic_id,
                     subject=filters.study_codes[0] if len(filters.study_codes) == 1 else None, rows=sum(counts.values()),
                     formats=list(formats), filters=filters.describe(), files=counts, **_via(via))
    return counts


def export_zip(db: Database, filters: Filters, formats: tuple[str, ...], *, actor: str, now: datetime,
               via: str | None = None) -> tuple[bytes, dict[str, int]]:
    """The same export as one zip in memory (for Telegram and the dashboard, where it travels as one file)."""
    folder = Path(tempfile.mkdtemp(prefix="paincoach-export-"))
    try:
        counts = export(db, filters, formats, folder, actor=actor, now=now, via=via)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder).as_posix())
        return buffer.getvalue(), counts
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _via(via: str | None) -> dict[str, str]:
    """Where an export was asked for, when not Telegram or the command line (the dashboard: "web")."""
    return {"via": via} if via else {}
