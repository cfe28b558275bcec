"""Benchmark: a data key per person against the single key it replaced, in the same run.

    python benchmarks/datakeys.py [--patients 300] [--rounds 3] [--database-url URL]

Each patient's step is timed as the bot runs it, one transaction: a write (their preferred name,
a thought record's six texts, the dialog's working data) and a read (their thought records and
dialog state, decrypted). "single key" is the path before data keys: every value encrypted with
PAINCOACH_DATA_KEY itself (the data-key lookup switched off); "data key" is today's: the owner's
key looked up once per transaction (an indexed SELECT) and opened once per process. A "cold" read
is the first read of a patient in a process: the key is read and unwrapped too. Prints the median
per transaction (the best of a few alternating attempts) and `ratio` lines (data key / single
key; no target: it is a cost report).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import select  # noqa: E402

from storage import crypto, datakeys, open_database  # noqa: E402
from storage.models import DialogState, Patient, ThoughtRecord  # noqa: E402

TEXT = "My back seized while I was gardening and I thought I would never manage it again"


def run(url: str, patients: int, rounds: int, personal: bool, tag: str) -> dict[str, float]:
    real_key_for = datakeys.key_for
    if not personal:
        datakeys.key_for = lambda session, owner: None  # the single-key path: the column type's own encryption
    try:
        db = open_database(url)
        with db.transaction() as session:
            clinic = db.default_clinic(session).id
            rows = [Patient(clinic_id=clinic, channel="bench", external_id=f"{tag}-{n}", consent="given") for n in range(patients)]
            session.add_all(rows)
            session.flush()
            session.add_all(DialogState(patient_id=p.id, dialog="thoughtcheck", state="emotion", data={}, stack=[]) for p in rows)
            ids = [p.id for p in rows]
        times: dict[str, list[float]] = {"write": [], "read": [], "cold read": []}
        for round_ in range(rounds):
            for patient_id in ids:
                start = time.perf_counter()
                with db.transaction() as session:
                    patient = session.get(Patient, patient_id)
                    patient.preferred_name = f"Robin {round_}"
                    session.add(ThoughtRecord(patient_id=patient_id, kind="full", situation=TEXT, emotion="scared", thought=TEXT,
                                              evidence_for=TEXT, evidence_against=TEXT, balanced_thought=TEXT))
                    session.get(DialogState, patient_id).data = {"record_id": round_, "emotion": "scared", "situation": TEXT}
                times["write"].append(time.perf_counter() - start)
        for kind in ("cold read", "read"):
            if kind == "cold read":
                crypto.configure(_key)  # a process just started: no key opened yet
            for patient_id in ids:
                start = time.perf_counter()
                with db.transaction() as session:
                    records = session.scalars(select(ThoughtRecord).where(ThoughtRecord.patient_id == patient_id)).all()
                    assert records[0].situation == TEXT and session.get(DialogState, patient_id).data["situation"] == TEXT
                times[kind].append(time.perf_counter() - start)
        db.dispose()
        return {kind: statistics.median(values) * 1e6 for kind, values in times.items()}
    finally:
        datakeys.key_for = real_key_for


_key = Fernet.generate_key().decode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="default: a new SQLite file per path (an empty database: its rows stay)")
    args = parser.parse_args()
    crypto.configure(_key)
    runs: dict[str, list[dict[str, float]]] = {"single key": [], "data key": []}
    with tempfile.TemporaryDirectory() as folder:
        for attempt in range(args.repeat):  # the two paths alternate, so a busy moment of the machine hits both
            for name, personal in [("single key", False), ("data key", True)]:
                url = args.database_url or f"sqlite:///{Path(folder) / f'{attempt}-{personal}.db'}"
                runs[name].append(run(url, args.patients, args.rounds, personal, f"{attempt}-{personal}"))
    results = {name: {kind: min(r[kind] for r in rs) for kind in rs[0]} for name, rs in runs.items()}  # the quietest attempt
    print(f"{args.patients} patients, {args.rounds} writes each; median µs per transaction (best of {args.repeat})")
    print(f"{'':12}" + "".join(f"{kind:>12}" for kind in results["single key"]))
    for name, values in results.items():
        print(f"{name:12}" + "".join(f"{value:12.0f}" for value in values.values()))
    for kind in results["single key"]:
        print(f"ratio {kind}: {results['data key'][kind] / results['single key'][kind]:.2f}")


if __name__ == "__main__":
    main()
