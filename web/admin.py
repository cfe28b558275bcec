"""The dashboard's clinic management: patients' invitations and discharge for every clinician of the
clinic; the clinic's settings and its audit for its admins. The rules are the command line's
(`clinic.admin`, `clinic.settings`); every view and change is audited, marked `via: web`."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import urlencode

from babel import Locale
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

import locales
from clinic import admin, settings
from clinic.desk import STUDY_CODE, clinician_clinic, integer
from clinic.zones import clinician_zone
from locales import _
from storage import audit, enrollment
from storage.models import Clinician
from web.dashboard import Dashboard, Refused

REFERENCE_LIMIT = 100  # as /invite in Telegram
AUDIT_PAGE = 100
LINE_ROWS = 2  # empty rows offered under a country's lines, to add one (no script: plain fields)
# The settings an admin changes here, as named on the page (the others: `paincoach clinic set`).
ALERT_SETTINGS = ("alert_escalate_minutes", "alert_escalate_times", settings.FALLBACK)
MESSAGE_SETTINGS = ("daily_message_cap",)


class Admin:
    def __init__(self, dashboard: Dashboard, bot_username: str | None = None):
        self.dashboard = dashboard
        self.db = dashboard.db
        self.bot_username = bot_username

    def _audit(self, clinician, action: str, now, **detail) -> None:
        with self.db.transaction() as session:
            audit.record(session, f"clinician:{clinician.id}", action, now, clinic_id=clinician.clinic_id, via="web", **detail)

    # Invitations: any clinician of the clinic.

    def invitations(self, request: Request) -> Response:
        with self.dashboard.clinician(request) as (clinician, csrf, now):
            return self._invitations_page(request, clinician, csrf, now)

    def _invitations_page(self, request: Request, clinician, csrf: str, now, link: str | None = None,
                          reference: str | None = None) -> HTMLResponse:
        with self.db.reading() as session:
            zone = clinician_zone(session, clinician)
            names = clinician_names(session, clinician.clinic_id)
            rows = [{"created": locales.moment(invite.created_at, zone), "expires": locales.moment(invite.expires_at, zone),
                     "by": names.get(invite.created_by, invite.created_by), "reference": invite.reference or ""}
                    for invite in enrollment.open_invitations(session, clinician.clinic_id, now)]
        if link is None:  # a new link's page is the invitation's own entry
            self._audit(clinician, "view_invitations", now, rows=len(rows))
        return self.dashboard.page(request, "invitations.html", who=clinician, csrf=csrf, rows=rows, link=link, reference=reference,
                                   telegram_link=link is not None and link.startswith("https://"), title=_("Invitations"))

    async def invite(self, request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(self._invite, request, form)

    def _invite(self, request: Request, form) -> Response:
        """As /invite in Telegram: one use, two weeks, into the clinician's own clinic. The link is
        shown on this page only: the code is kept as a hash."""
        with self.dashboard.clinician(request, form) as (clinician, csrf, now):
            reference = str(form.get("reference", "")).strip()[:REFERENCE_LIMIT] or None
            with self.db.transaction() as session:
                code = admin.invite_patient(session, clinician_clinic(session, clinician), now, actor=f"clinician:{clinician.id}",
                                            reference=reference, via="web")
            return self._invitations_page(request, clinician, csrf, now, link=enrollment.deep_link(self.bot_username, code),
                                          reference=reference)

    # Discharge: any clinician, their own clinic's patients.

    def discharge_page(self, request: Request) -> Response:
        with self.dashboard.clinician(request) as (clinician, csrf, now):
            with self.db.reading() as session:
                patient = own_patient(session, clinician, request.path_params["code"])
                code, reference, discharged = patient.study_code, patient.clinic_reference, patient.discharged_at
                days = patient.clinic.setting("retention_days")
                zone = clinician_zone(session, clinician)
            if discharged is not None:
                return self._message(request, clinician, csrf, already_discharged(code, discharged, zone))
            self._audit(clinician, "view_discharge", now, subject=code)
            return self.dashboard.page(request, "discharge.html", who=clinician, csrf=csrf, code=code, reference=reference or "",
                                       days=integer(days), title=_("Discharge {code}").format(code=code))

    async def discharge(self, request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(self._discharge, request, form)

    def _discharge(self, request: Request, form) -> Response:
        """As `paincoach discharge`: check-ins stop, the data is kept for the clinic's retention_days."""
        with self.dashboard.clinician(request, form) as (clinician, csrf, now):
            with self.db.transaction() as session:
                patient = own_patient(session, clinician, request.path_params["code"])
                zone = clinician_zone(session, clinician)
                code, already = patient.study_code, patient.discharged_at
                if already is None:
                    days = admin.discharge(session, patient, now, actor=f"clinician:{clinician.id}", via="web")
            if already is not None:  # sent twice: once is enough
                return self._message(request, clinician, csrf, already_discharged(code, already, zone))
            until = locales.moment(now + timedelta(days=days), zone)
            return self._message(request, clinician, csrf, _(
                "{code} is discharged: no more check-ins or reminders. Their data is kept until {until} "
                "({days} days), then erased.").format(code=code, until=until, days=integer(days)))

    def _message(self, request: Request, clinician, csrf: str, message: str) -> HTMLResponse:
        return self.dashboard.page(request, "message.html", who=clinician, csrf=csrf, message=message)

    # Settings: admins only.

    def settings(self, request: Request) -> Response:
        with self.dashboard.clinician(request) as (clinician, csrf, now):
            only_admins(clinician)
            page = self._settings_page(request, clinician, csrf, country=request.query_params.get("country"),
                                       saved=request.query_params.get("saved") == "1")
            self._audit(clinician, "view_settings", now)
            return page

    def _settings_page(self, request: Request, clinician, csrf: str, *, country: str | None = None, status: int = 200,
                       saved: bool = False, error: str | None = None, entered: dict | None = None) -> HTMLResponse:
        with self.db.reading() as session:
            clinic = clinician_clinic(session, clinician)
            countries = country_names()
            country = country if country in countries else home_country(clinic)
            lines, own = settings.crisis_lines(clinic, country)
            listed = settings.listing(clinic)
            alerts = {key: shown_value(value) for key, value, _own in listed if key in (*ALERT_SETTINGS, *MESSAGE_SETTINGS)}
            rows = [{"key": key, "value": shown_value(value), "own": own_value} for key, value, own_value in listed]
            own_countries = sorted(clinic.settings.get(settings.CRISIS) or {})
        blank = {"name": "", "phone": "", "text_ok": False}
        crisis = {"emergency": lines.get("emergency", ""), "poison": lines.get("poison", ""),
                  "lines": [*lines.get("lines", []), *[blank] * LINE_ROWS],
                  "support": [*lines.get("abuse_lines", []), *[blank] * LINE_ROWS]}
        return self.dashboard.page(request, "settings.html", status, who=clinician, csrf=csrf, alerts={**alerts, **(entered or {})},
                                   rows=rows, countries=countries, country=country, crisis=crisis, own=own, saved=saved,
                                   own_countries=[(code, countries.get(code, code)) for code in own_countries],
                                   error=error, labels=labels(), title=_("Clinic settings"))

    async def change_alerts(self, request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(self._change_alerts, request, form)

    async def change_messages(self, request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(self._change_alerts, request, form, MESSAGE_SETTINGS)

    def _change_alerts(self, request: Request, form, keys: tuple[str, ...] = ALERT_SETTINGS) -> Response:
        """Escalation and the fallback chat (or the daily cap on messages), checked as `paincoach
        clinic set` checks them: one bad value and nothing changes."""
        with self.dashboard.clinician(request, form) as (clinician, csrf, now):
            only_admins(clinician)
            entered = {key: str(form.get(key, "")).strip()[:40] for key in keys}
            changes = []
            try:
                with self.db.transaction() as session:
                    clinic = clinician_clinic(session, clinician)
                    current = {key: shown_value(value) for key, value, _own in settings.listing(clinic)}
                    for key in keys:
                        if entered[key] != current[key]:  # untouched: a default stays a default
                            old, new = settings.set_setting(clinic, key, entered[key])
                            changes.append((key, old, new))
                    for key, old, new in changes:
                        audit.record(session, f"clinician:{clinician.id}", "change_setting", now, clinic_id=clinician.clinic_id,
                                     setting=key, old=old, new=new, via="web")
            except settings.SettingRefused as refused:  # the transaction rolled back
                return self._settings_page(request, clinician, csrf, status=400, error=refused.worded(labels()[refused.key]),
                                           entered=entered)
            return RedirectResponse("/settings?saved=1", status_code=303)

    async def change_crisis_lines(self, request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(self._change_crisis_lines, request, form)

    def _change_crisis_lines(self, request: Request, form) -> Response:
        """One country's crisis and support lines, or back to the shipped ones."""
        with self.dashboard.clinician(request, form) as (clinician, csrf, now):
            only_admins(clinician)
            country = str(form.get("country", ""))
            if country not in country_names():
                return self._settings_page(request, clinician, csrf, status=400, error=_("There is no such country."))
            try:
                entry = None if form.get("reset") == "yes" else settings.crisis_entry(
                    str(form.get("emergency", "")), typed_lines(form, "line"), typed_lines(form, "support"), str(form.get("poison", "")))
            except settings.SettingRefused as refused:
                return self._settings_page(request, clinician, csrf, country=country, status=400,
                                           error=refused.worded(labels()[settings.CRISIS]))
            with self.db.transaction() as session:
                old, new = settings.set_crisis_lines(clinician_clinic(session, clinician), country, entry)
                audit.record(session, f"clinician:{clinician.id}", "change_setting", now, clinic_id=clinician.clinic_id,
                             setting=settings.CRISIS, country=country, old=old, new=new, via="web")
            return RedirectResponse("/settings?" + urlencode({"country": country, "saved": 1}), status_code=303)

    # The audit: admins only, their own clinic's.

    def audit(self, request: Request) -> Response:
        with self.dashboard.clinician(request) as (clinician, csrf, now):
            only_admins(clinician)
            action = request.query_params.get("action", "")[:32] or None
            asked = request.query_params.get("page", "")
            page = max(int(asked), 1) if re.fullmatch(r"[0-9]{1,6}", asked) else 1
            with self.db.reading() as session:
                entries, total = audit.clinic_entries(session, clinician.clinic_id, action=action, offset=(page - 1) * AUDIT_PAGE,
                                                      limit=AUDIT_PAGE)
                actions = audit.clinic_actions(session, clinician.clinic_id)
                zone = clinician_zone(session, clinician)
                names = clinician_names(session, clinician.clinic_id)
            rows = [{"at": locales.moment(entry.at, zone), "actor": names.get(entry.actor, entry.actor), "action": entry.action,
                     "subject": entry.subject or "", "rows": "" if entry.rows is None else integer(entry.rows),
                     "detail": detail_text(entry.detail)} for entry in entries]
            self._audit(clinician, "view_audit", now, rows=len(rows), page=page, **({"filter": action} if action else {}))

            def at(number: int) -> str:
                return "/audit?" + urlencode({**({"action": action} if action else {}), "page": number})

            last = max((total - 1) // AUDIT_PAGE + 1, 1)
            return self.dashboard.page(request, "audit.html", who=clinician, csrf=csrf, rows=rows, actions=actions, action=action or "",
                                       page=integer(page), pages=integer(last), total=integer(total),
                                       newer=at(page - 1) if page > 1 else None, older=at(page + 1) if page < last else None,
                                       title=_("Audit"))


def only_admins(clinician) -> None:
    if not clinician.is_admin:
        raise Refused(403, _("Only a clinic admin can open this page. Please ask your clinic's admin."))


def own_patient(session, clinician, code: str):
    """The clinic's patient with this study code; another clinic's is no patient here either (404)."""
    code = code.strip().upper()
    try:
        if not STUDY_CODE.match(code):
            raise enrollment.NotFound(code)
        return enrollment.patient_coded(session, code, clinician.clinic_id)
    except enrollment.NotFound:
        raise Refused(404, _("No patient {code} in your clinic.").format(code=code[:12])) from None


def already_discharged(code: str, at, zone) -> str:
    return _("{code} was discharged on {time}.").format(code=code, time=locales.moment(at, zone))


def clinician_names(session, clinic_id: int) -> dict[str, str]:
    """Actors as the audit writes them ("clinician:3"), named for the clinic's own clinicians."""
    found = session.execute(select(Clinician.id, Clinician.name).where(Clinician.clinic_id == clinic_id))
    return {f"clinician:{id_}": f"{name} (clinician:{id_})" for id_, name in found if name}


def labels() -> dict[str, str]:
    return {"alert_escalate_minutes": _("Escalate an unacknowledged alert after (minutes)"),
            "alert_escalate_times": _("Escalate at most (times)"),
            settings.FALLBACK: _("Fallback chat (a Telegram chat id; empty for none)"),
            "daily_message_cap": _("Messages the bot sends on its own, at most, per patient per day"),
            settings.CRISIS: _("Crisis and support lines")}


def shown_value(value) -> str:
    """A setting as the form shows it and as `paincoach clinic set` takes it."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value if isinstance(value, str) else settings.toml(value)


def country_names() -> dict[str, str]:
    """Every country by its code, named in the reader's language, "default" first."""
    names = Locale.parse(locales.current()).territories
    countries = {code: name for code, name in names.items() if len(code) == 2 and code.isalpha()}
    return {"default": _("Every other country"), **dict(sorted(countries.items(), key=lambda item: item[1]))}


def home_country(clinic) -> str:
    from babel.core import get_global

    return get_global("zone_territories").get(clinic.setting("timezone"), "default")


def typed_lines(form, prefix: str) -> list[tuple[str, str, bool]]:
    rows = []
    for index in range(50):
        if f"{prefix}-{index}-name" not in form:
            break
        rows.append((str(form.get(f"{prefix}-{index}-name", ""))[:200], str(form.get(f"{prefix}-{index}-phone", ""))[:60],
                     form.get(f"{prefix}-{index}-text") == "yes"))
    return rows


def detail_text(detail: dict) -> str:
    """An entry's details as `paincoach audit` prints them (study codes, counts, settings: never a patient's words)."""
    return ", ".join(f"{key}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
                     for key, value in (detail or {}).items())
