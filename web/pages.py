"""The dashboard's pages: the signed-in clinician's own clinic only, every view audited as the
desk audits it. The facts and their words are the desk's (`clinic.desk`): a table here, a line there."""
from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

import locales
from clinic import alerts as alert_words
from clinic.desk import STUDY_CODE, ExportRefused, clinic_export, integer, nobody_banner, phq4_details, phq4_text, signed
from clinic.zones import clinician_zone
from dialogs.progress import number
from content.instruments import instruments as all_instruments
from exports import history
from exports.bundle import FORMATS
from exports.overview import Overview, overviews
from exports.source import Filters, answers_count, parse_day
from locales import _
from storage import audit, enrollment
from storage.alerts import acknowledge
from storage.models import Alert, Patient
from web import history as history_page
from web.dashboard import Dashboard, Refused

NOTE_LIMIT = 2000  # as `paincoach alerts ack --note`
# The most answered items one dashboard export holds. A year of 1,000 patients' daily check-ins is
# 2.2 million, a 23 s long CSV (benchmarks/export.py): a larger one would outlast a proxy's usual
# 60 s timeout. The command line's `paincoach export` has no such limit.
EXPORT_LIMIT = 3_000_000
ANSWER_FORMATS = {"long", "wide", "fhir", "redcap"}  # what grows with the answers (activity.csv does not)
TICKET = re.compile(r"[0-9a-f]{1,32}")


class Pages:
    def __init__(self, dashboard: Dashboard):
        self.dashboard = dashboard
        self.db = dashboard.db

    def _audit(self, clinician, action: str, now, **detail) -> None:
        with self.db.transaction() as session:
            audit.record(session, f"clinician:{clinician.id}", action, now, clinic_id=clinician.clinic_id, via="web", **detail)

    def patients(self, request: Request) -> Response:
        with self.dashboard.clinician(request) as (clinician, csrf, now):
            with self.db.reading() as session:
                rows = overviews(session, clinician.clinic_id, now)
                banners = nobody_banner(session, clinician)
                zone = clinician_zone(session, clinician)
                cells = [row_cells(row, zone) for row in rows]
            if rows:
                self._audit(clinician, "view_patients", now, rows=len(rows))
            return self.dashboard.page(request, "patients.html", who=clinician, csrf=csrf, rows=cells, banners=banners,
                                       title=_("Patients"))

    def patient(self, request: Request) -> Response:
        """As /patient, then the range the clinician chose (four weeks unless they chose another):
        every instrument, pacing, drills, and the visit notes and questions the patient shared."""
        code = request.path_params["code"].strip().upper()
        asked = {key: request.query_params.get(key, "")[:20] for key in ("range", "from", "to")}
        with self.dashboard.clinician(request) as (clinician, csrf, now):
            with self.db.reading() as session:
                found = overviews(session, clinician.clinic_id, now, (code,)) if STUDY_CODE.match(code) else []
                if not found:  # another clinic's patient is no patient here either
                    raise Refused(404, _("No patient {code} in your clinic.").format(code=code[:12]))
                zone = clinician_zone(session, clinician)
                row = found[0]
                facts = row_cells(row, zone)
                details = phq4_details(row, zone)
                open_alerts = open_alert_views(session, clinician.clinic_id, zone, row.study_code)
                patient = enrollment.patient_coded(session, row.study_code, clinician.clinic_id)
                span, error, tables, charts = None, None, None, None
                try:
                    span = history.choose_span(asked["range"], asked["from"], asked["to"], now.astimezone(zone).date())
                except history.SpanRefused as refused:
                    error = refused.message
                else:
                    facts_in_range = history.gather(session, patient, span, zone)
                    tables = history_page.tables(facts_in_range, zone)
                    charts = history_page.charts(facts_in_range, zone, now)
            self._audit(clinician, "view_patient", now, subject=row.study_code, **(span.describe() if span else {"range": "unread"}))
            return self.dashboard.page(request, "patient.html", 400 if error else 200, who=clinician, csrf=csrf, row=facts,
                                       details=details, alerts=open_alerts, title=row.study_code, span=span, asked=asked,
                                       error=error, tables=tables, charts=charts, zone=zone.key)

    def alerts(self, request: Request) -> Response:
        with self.dashboard.clinician(request) as (clinician, csrf, now):
            done = request.query_params.get("acknowledged", "")
            with self.db.reading() as session:
                zone = clinician_zone(session, clinician)
                views = open_alert_views(session, clinician.clinic_id, zone)
                notice = None
                if done.isdigit() and (alert := session.get(Alert, int(done))) is not None and alert.clinic_id == clinician.clinic_id \
                        and alert.acknowledged_at is not None:
                    notice = alert_words.acknowledged_line(session, alert, zone)
            self._audit(clinician, "view_alerts", now, rows=len(views))
            return self.dashboard.page(request, "alerts.html", who=clinician, csrf=csrf, alerts=views, notice=notice,
                                       title=_("Open alerts"))

    async def acknowledge(self, request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(self._acknowledge, request, form)

    def _acknowledge(self, request: Request, form) -> Response:
        """As an Acknowledge press in Telegram or `paincoach alerts ack`: once, audited; the running
        bot's dispatcher then edits every copy sent."""
        alert_id = request.path_params["alert_id"]
        with self.dashboard.clinician(request, form) as (clinician, _csrf, now):
            note = str(form.get("note", "")).strip()[:NOTE_LIMIT] or None
            actor = f"clinician:{clinician.id}"
            with self.db.transaction() as session:
                alert, acknowledged = acknowledge(session, alert_id, now, actor, clinic_id=clinician.clinic_id,
                                                  clinician_id=clinician.id, note=note)
                if alert is not None and acknowledged:
                    audit.record(session, actor, "acknowledge", now, clinic_id=clinician.clinic_id, subject=alert.study_code,
                                 alert=alert.id, via="web")
            if alert is None:
                raise Refused(404, _("There is no such alert in your clinic."))
            return RedirectResponse(f"/alerts?acknowledged={alert.id}", status_code=303)

    def exports(self, request: Request) -> Response:
        with self.dashboard.clinician(request) as (clinician, csrf, _now):
            return self._exports_page(request, clinician, csrf)

    def _exports_page(self, request: Request, clinician, csrf: str, status: int = 200, error: str | None = None,
                      form=None) -> HTMLResponse:
        chosen = {key: str(value) for key, value in (form or {}).items() if key not in ("csrf", "ticket")}
        return self.dashboard.page(request, "exports.html", status, who=clinician, csrf=csrf, formats=FORMATS,
                                   instruments=all_instruments(), error=error, chosen=chosen, title=_("Exports"))

    async def export(self, request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(self._export, request, form)

    def _export(self, request: Request, form) -> Response:
        """As /export in Telegram, with the same rules and audit (via "web"); the zip is built here,
        in a worker thread, outside any transaction."""
        with self.dashboard.clinician(request, form) as (clinician, csrf, now):
            kind = str(form.get("format", ""))
            instrument = str(form.get("instrument", ""))
            code = str(form.get("study_code", "")).strip().upper()[:20]
            if kind not in FORMATS or (instrument and instrument not in all_instruments()):
                return self._exports_page(request, clinician, csrf, 400, _("There is no such export."), form)
            try:
                since = parse_day(str(form.get("since", "")).strip() or None)
                until = parse_day(str(form.get("until", "")).strip() or None, end=True)
            except ValueError:
                return self._exports_page(request, clinician, csrf, 400, _("I couldn't read those dates. Write them as YYYY-MM-DD."), form)
            filters = Filters(clinic_id=clinician.clinic_id, study_codes=(code,) if code else (), since=since, until=until,
                              instruments=(instrument,) if instrument else (), identify=form.get("identify") == "yes")
            if kind in ANSWER_FORMATS:
                with self.db.reading() as session:
                    size = answers_count(session, filters)
                if size > EXPORT_LIMIT:
                    return self._exports_page(request, clinician, csrf, 400, _(
                        "This export would hold {size} answered items, more than the dashboard makes at once ({limit}). Narrow it "
                        "(a patient, dates, an instrument) or run `paincoach export` on the server.").format(
                        size=integer(size), limit=integer(EXPORT_LIMIT)), form)
            try:
                data, _counts = clinic_export(self.db, clinician, filters, (kind,), actor=f"clinician:{clinician.id}", now=now,
                                              via="web")
            except ExportRefused as refused:
                return self._exports_page(request, clinician, csrf, 400, refused.message, form)
            filename = f"paincoach-export-{kind}-{now:%Y-%m-%d}.zip"
            response = Response(data, media_type="application/zip",
                                headers={"Content-Disposition": f'attachment; filename="{filename}"'})
            if TICKET.fullmatch(ticket := str(form.get("ticket", ""))):
                # Tells the page's script (web/static/exports.js) that this form's zip has come.
                response.set_cookie("export_ticket", ticket, max_age=60, path="/exports", samesite="strict", secure=self.dashboard.secure)
            return response


def row_cells(row: Overview, zone) -> dict:
    """One patient's facts, worded as the desk words them."""
    return {
        "code": row.study_code,
        "reference": row.reference or "",
        "last_checkin": locales.moment(row.last_checkin, zone) if row.last_checkin else _("no check-in yet"),
        "peg": "" if row.peg is None else number(row.peg) + (f" ({signed(row.peg_change)})" if row.peg_change is not None else ""),
        "phq4": phq4_text(row) if row.phq4 is not None else "",
        "adherence": "" if row.adherence is None else _("{answered} of {sent}").format(answered=integer(row.answered), sent=integer(row.sent)),
        "flares": integer(row.open_flares) if row.open_flares else "",
        "alerts": integer(row.open_alerts) if row.open_alerts else "",
    }


def open_alert_views(session, clinic_id: int, zone, study_code: str | None = None) -> list[dict]:
    """The clinic's unacknowledged alerts, newest first, each as the clinician's Telegram copy reads (in their `zone`)."""
    query = select(Alert).where(Alert.clinic_id == clinic_id, Alert.acknowledged_at.is_(None))
    if study_code:
        query = query.where(Alert.study_code == study_code)
    views = []
    for alert in session.scalars(query.order_by(Alert.created_at.desc(), Alert.id.desc())):
        patient = session.get(Patient, alert.patient_id) if alert.patient_id is not None else None
        lines = alert_words.text(alert, patient, repeat=alert.escalations > 0, zone=zone).splitlines()
        views.append({"id": alert.id, "code": alert.study_code, "headline": lines[0], "lines": lines[1:],
                      "linked": patient is not None and patient.discharged_at is None})
    return views
