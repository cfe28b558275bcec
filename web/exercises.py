"""A patient's home exercises on the dashboard: the list, a form to prescribe one and a Stop for
each, for any clinician of the patient's clinic. The rules are the command line's
(`clinic.exercises`); every view and change is audited, marked `via: web`."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

import locales
from clinic import exercises
from clinic.zones import clinician_zone
from locales import _
from storage import audit
from storage import exercises as stored
from web.admin import own_patient
from web.dashboard import Dashboard

FIELDS = ("name", "sets", "reps", "minutes", "days", "note", "progression")


class ExercisePages:
    def __init__(self, dashboard: Dashboard):
        self.dashboard = dashboard
        self.db = dashboard.db

    def page(self, request: Request) -> Response:
        with self.dashboard.clinician(request) as (clinician, csrf, now):
            page = self._page(request, clinician, csrf, now, saved=request.query_params.get("saved", "")[:10])
            with self.db.transaction() as session:
                audit.record(session, f"clinician:{clinician.id}", "view_exercises", now, clinic_id=clinician.clinic_id,
                             subject=request.path_params["code"].strip().upper()[:12], via="web")
            return page

    def _page(self, request: Request, clinician, csrf: str, now, *, status: int = 200, error: str | None = None,
              entered: dict | None = None, saved: str = "") -> HTMLResponse:
        with self.db.reading() as session:
            patient = own_patient(session, clinician, request.path_params["code"])
            zone, today = clinician_zone(session, clinician), stored.local_date(now, stored.zone_of(patient))
            monday = stored.monday_of(today)
            rows = exercises.listed(session, patient, include_stopped=True)
            this_week = {w.exercise_id: w for w in stored.adherence(rows, stored.logs(session, [r.id for r in rows], since=monday),
                                                                    stored.zone_of(patient), today, since=monday)}
            shown = [{"id": row.id, "name": row.name, "amount": stored.amount(row, stored.dose(session, row, now)),
                      "days": row.days_per_week, "note": row.note or "",
                      "progression": _("pacing rule") if row.progression == "pacing" else _("none"),
                      "since": locales.moment(row.prescribed_at, zone),
                      "stopped": locales.moment(row.stopped_at, zone) if row.stopped_at else "",
                      "week": _("{sessions} of {prescribed}").format(sessions=this_week[row.id].sessions,
                                                                     prescribed=this_week[row.id].prescribed) if row.id in this_week else "",
                      "tell_physio": row.stopped_at is None and stored.rising_twice(session, row.id)} for row in rows]
            code, closed = patient.study_code, exercises.closed(patient)
        notice = {"added": _("The exercise is added: the patient sees it in the bot today."),
                  "stopped": _("The exercise is stopped: the patient no longer sees it. Its log is kept.")}.get(saved)
        return self.dashboard.page(request, "exercises.html", status, who=clinician, csrf=csrf, code=code, rows=shown, error=error,
                                   entered=entered or {"progression": "none"}, notice=notice, closed=closed,
                                   limits=exercises.LIMITS, title=_("Home exercises: {code}").format(code=code))

    async def add(self, request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(self._add, request, form)

    def _add(self, request: Request, form) -> Response:
        """As `paincoach exercises add`: checked by the same limits; one bad value and nothing is kept."""
        with self.dashboard.clinician(request, form) as (clinician, csrf, now):
            entered = {key: str(form.get(key, "")).strip()[:600] for key in FIELDS}
            try:
                rx = exercises.prescription(entered["name"], sets=entered["sets"], reps=entered["reps"], minutes=entered["minutes"],
                                            days=entered["days"], note=entered["note"], progression=entered["progression"] or "none")
                with self.db.transaction() as session:
                    patient = own_patient(session, clinician, request.path_params["code"])
                    exercises.add(session, patient, rx, now, actor=f"clinician:{clinician.id}", via="web")
                    code = patient.study_code
            except exercises.PrescriptionRefused as refused:
                return self._page(request, clinician, csrf, now, status=400, error=str(refused), entered=entered)
            return RedirectResponse(f"/patients/{code}/exercises?saved=added", status_code=303)

    async def stop(self, request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(self._stop, request, form)

    def _stop(self, request: Request, form) -> Response:
        with self.dashboard.clinician(request, form) as (clinician, csrf, now):
            try:
                with self.db.transaction() as session:
                    patient = own_patient(session, clinician, request.path_params["code"])
                    exercises.stop(session, patient, request.path_params["exercise_id"], now, actor=f"clinician:{clinician.id}", via="web")
                    code = patient.study_code
            except exercises.PrescriptionRefused as refused:
                return self._page(request, clinician, csrf, now, status=404, error=str(refused))
            return RedirectResponse(f"/patients/{code}/exercises?saved=stopped", status_code=303)
