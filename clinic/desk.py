"""The clinician's commands, transport-free like the dialogs: an inbound event in, outputs out.

`Desk.handle` answers only verified clinicians (and someone opening a clinician invitation);
for everyone else it returns None and the patient's dialog engine takes the update. Every view
and export is recorded in the audit; a clinician sees only their own clinic's patients.

  /patients           the list, with last check-in, PEG and its change, PHQ-4 and its change since
                      baseline, adherence, flares, alerts; a banner while a clinic's alerts reach nobody
  /patient PC-XXXX    one patient's summary and trend chart
  /report PC-XXXX     the one-page visit report (PNG)
  /export [format] [PC-XXXX] [YYYY-MM-DD [YYYY-MM-DD]] [instrument] [identify]   a zip of the
                      export (identify: admins only, adds references, Telegram ids and names)
  /invite [reference] a patient's invitation link into the clinic
  /web                a one-time sign-in link to the web dashboard (ten minutes, one use)
  /timezone [zone]    the time zone they read times in (an IANA name or a city; "clinic": the clinic's)
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal, format_percent

import locales
from clinic import alerts
from clinic import zones
from clinic.zones import clinician_zone
from clinic.admin import invite_patient
from storage import enrollment
from storage import audit
from storage import web
from exports.overview import overviews
from dialogs.io import Command, File, Inbound, Message, Output, Press, Who
from content.instruments import instruments as all_instruments
from dialogs.progress import number
from exports.source import Filters, parse_day
from locales import N_, _, ngettext
from storage.db import Database
from storage.models import Clinician, utcnow

TELEGRAM_UPLOAD_LIMIT = 50 * 1024 * 1024
STUDY_CODE = re.compile(r"^PC-[0-9A-Z]{4}$", re.IGNORECASE)
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Desk:
    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow, bot_username: str | None = None,
                 web_url: str | None = None):
        self.db = db
        self.clock = clock
        self.bot_username = bot_username
        self.web_url = web_url  # the dashboard's public address (PAINCOACH_WEB_URL, as `paincoach web` serves it)

    def concerns(self, session, inbound: Inbound) -> bool:
        """Whether the desk answers this update: it comes from a verified clinician, or opens a
        clinician's invitation. Asked inside the caller's unit of work, before a patient's step."""
        event, who = inbound.event, inbound.who
        if who.channel != "telegram":
            return False
        if enrollment.verified_clinician(session, who.external_id) is not None:
            return True
        return isinstance(event, Command) and event.name == "start" and bool(event.args) \
            and enrollment.usable(session, event.args, "clinician", self.clock())

    def handle(self, inbound: Inbound) -> list[Output] | None:
        event, who = inbound.event, inbound.who
        if who.channel != "telegram":
            return None
        now = self.clock()
        opens_invitation = isinstance(event, Command) and event.name == "start" and bool(event.args)
        with self.db.reading() as session:
            clinician = enrollment.verified_clinician(session, who.external_id)
            opens_invitation = opens_invitation and enrollment.usable(session, event.args, "clinician", now)
            patient = enrollment.enrolled_patient(session, who.external_id) if opens_invitation else None
            language = patient.language if patient is not None else None
        if patient is not None:  # refused before the link is used: it stays valid for the clinician's own account
            with locales.use(language):
                return [Message(patient_not_clinician())]
        if opens_invitation:
            with self.db.transaction() as session:
                invite = enrollment.redeem(session, event.args, "clinician", now)
                if invite is not None:
                    return self._verify(session, invite, who, now)
        if clinician is None:
            return None
        actor = f"clinician:{clinician.id}"
        with locales.use(clinician.language):
            if isinstance(event, Press):
                with self.db.transaction() as session:
                    return self._press(session, clinician, event, now)
            if not isinstance(event, Command):
                return [Message(help_text())]
            if event.name == "export":
                return self._export(clinician, actor, event.args, now)
            if event.name == "invite":
                with self.db.transaction() as session:
                    code = invite_patient(session, clinician_clinic(session, clinician), now, actor=actor,
                                          reference=event.args[:100] or None)
                return [Message(_("A patient's invitation (one use, valid for two weeks):") + "\n" + enrollment.deep_link(self.bot_username, code))]
            if event.name == "web":
                return [self._web(clinician, actor, now)]
            if event.name == "timezone":
                return [self._timezone(clinician, event.args, now)]
            view = {"patients": self._patients, "patient": self._patient, "report": self._report}.get(event.name)
            if view is None or (event.name != "patients" and not event.args):
                return [Message(help_text())]
            # Read and draw on a snapshot (no write lock while a chart renders), then audit briefly.
            with self.db.reading() as session:
                outputs, seen = view(session, clinician, event.args, now)
            if seen is not None:
                with self.db.transaction() as session:
                    audit.record(session, actor, now=now, clinic_id=clinician.clinic_id, **seen)
            return outputs

    def is_clinician(self, who: Who) -> bool:
        with self.db.reading() as session:
            return enrollment.verified_clinician(session, who.external_id) is not None

    def _verify(self, session, invite, who, now) -> list[Output]:
        clinician = session.get(Clinician, invite.clinician_id)
        already = enrollment.verified_clinician(session, who.external_id)
        if already is not None or clinician.revoked_at is not None:
            # One account, one clinic: alerts and commands must know which clinic it speaks for.
            with locales.use(locales.negotiate(who.language_code)):
                return [Message(_("This Telegram account is already verified as a clinician. Ask your clinic to revoke "
                                  "that access first if you are moving to another clinic."))
                        if already else Message(_("This invitation was withdrawn. Please ask your clinic for a new one."))]
        clinician.telegram_id, clinician.verified_at = who.external_id, now
        clinician.language = locales.negotiate(who.language_code)
        audit.record(session, f"clinician:{clinician.id}", "verified", now, clinic_id=clinician.clinic_id)
        with locales.use(clinician.language):
            clinic = clinician_clinic(session, clinician)
            return [Message(_("You are verified as a clinician of {clinic}.").format(clinic=clinic.name) + "\n\n" + help_text())]

    def _web(self, clinician: Clinician, actor: str, now: datetime) -> Message:
        if not self.web_url:
            return Message(_("The web dashboard is not set up here. Ask whoever runs paincoach to start it "
                             "(paincoach web --public-url …)."))
        with self.db.transaction() as session:
            token = web.new_link(session, clinician, now)
            audit.record(session, actor, "web_link", now, clinic_id=clinician.clinic_id)
        # No link preview: a preview fetcher must not be the one to open it (it only sees a button anyway).
        return Message(_("Your sign-in link to the web dashboard (one use, valid for {minutes} minutes):").format(
            minutes=integer(web.LINK_MINUTES)) + "\n" + f"{self.web_url.rstrip('/')}/signin/{token}", no_preview=True)

    def _timezone(self, clinician: Clinician, args: str, now: datetime) -> Message:
        """Without a zone: which one they read times in. With one: set it (or "clinic")."""
        if not args.strip():
            with self.db.reading() as session:
                return Message(zones.describe(session, clinician) + "\n" + _("To change it: /timezone Europe/Berlin (or a city); "
                                                                            "/timezone clinic for your clinic's."))
        try:
            with self.db.transaction() as session:
                return Message(zones.choose(session, clinician.id, args, now))
        except zones.ZoneRefused as refused:
            return Message(refused.message)

    def _press(self, session, clinician: Clinician, press: Press, now) -> list[Output]:
        if not press.button_id.startswith(alerts.ACK) or not press.button_id[len(alerts.ACK):].isdigit():
            return [Message(_("This button has expired."))]
        outputs = alerts.answer_press(session, clinician, int(press.button_id[len(alerts.ACK):]), press.message_id, now,
                                      press.message_text)
        return outputs if outputs is not None else [Message(_("This button has expired."))]

    # Views: (what the clinician gets, what the audit records of it, or None when nothing was shown).

    def _patients(self, session, clinician, _args, now) -> tuple[list[Output], dict | None]:
        rows = overviews(session, clinician.clinic_id, now)
        banner = nobody_banner(session, clinician)
        if not rows:
            return [Message("\n\n".join([*banner, _("No patients yet. Send /invite to get an invitation link for one.")]))], None
        zone = clinician_zone(session, clinician)
        lines = [overview_line(row, zone) for row in rows]
        return [Message("\n\n".join([*banner, *lines]))], {"action": "view_patients", "rows": len(rows)}

    def _patient(self, session, clinician, code, now) -> tuple[list[Output], dict | None]:
        from dialogs.charts import drawn
        from dialogs.progress import chart

        found = overviews(session, clinician.clinic_id, now, (code.strip().upper(),))
        if not found:
            return [Message(_("No patient {code} in your clinic.").format(code=code.strip()[:12]))], None
        row = found[0]
        patient = enrollment.patient_coded(session, row.study_code, clinician.clinic_id)
        zone = clinician_zone(session, clinician)
        outputs: list[Output] = [Message("\n".join([overview_line(row, zone), *phq4_details(row, zone)]))]
        if (file := chart(session, patient, now, for_clinician=True)) is not None:  # (a read-only snapshot: drawing here holds no lock)
            outputs.append(File(filename=f"{row.study_code}.png", data=drawn([file])[0].data, caption=row.study_code, mime_type="image/png"))
        return outputs, {"action": "view_patient", "subject": row.study_code}

    def _report(self, session, clinician, code, now) -> tuple[list[Output], dict | None]:
        from exports.report import render

        try:
            patient = enrollment.patient_coded(session, code, clinician.clinic_id)
        except enrollment.NotFound:
            return [Message(_("No patient {code} in your clinic.").format(code=code.strip()[:12]))], None
        png = render(session, patient, now, "png", show_reference=True, reader_zone=clinician_zone(session, clinician))
        return ([File(filename=f"{patient.study_code}-visit.png", data=png, caption=patient.study_code, mime_type="image/png")],
                {"action": "report", "subject": patient.study_code, "format": "png"})

    def _export(self, clinician: Clinician, actor: str, args: str, now: datetime) -> list[Output]:
        """Outside the command's transaction: the export reads its own snapshot and audits itself."""
        from exports.bundle import FORMATS

        with locales.use(clinician.language):
            formats, codes, days, instruments, identify = [], [], [], [], False
            for word in args.split():
                if word.lower() == "identify":  # names and ids: an admin's explicit choice, audited
                    identify = True
                elif word.lower() in FORMATS:
                    formats.append(word.lower())
                elif STUDY_CODE.match(word):
                    codes.append(word.upper())
                elif DAY.match(word):
                    days.append(word)
                elif word.lower() in all_instruments():
                    instruments.append(word.lower())
                else:  # never an empty export for a typo: say what was not understood
                    return [Message(_("I don't know \"{word}\" here. /export takes a format, a study code (PC-XXXX), "
                                      "dates as YYYY-MM-DD and an instrument ({instruments}).").format(
                        word=word[:30], instruments=", ".join(all_instruments())))]
            try:
                since, until = _days(days)
            except ValueError:
                return [Message(_("I couldn't read those dates. Write them as YYYY-MM-DD."))]
            filters = Filters(clinic_id=clinician.clinic_id, study_codes=tuple(codes), since=since, until=until,
                              instruments=tuple(instruments), identify=identify)
            try:
                data, counts = clinic_export(self.db, clinician, filters, tuple(formats), actor=actor, now=now)
            except ExportRefused as refused:
                return [Message(refused.message)]
            if len(data) > TELEGRAM_UPLOAD_LIMIT:
                return [Message(_("This export is larger than Telegram's 50 MB limit. Narrow it (a patient, dates, an instrument) "
                                  "or run `paincoach export` on the server."))]
            rows = counts.get("long.csv", sum(counts.values()))
            if identify:
                caption = _("Identified export of {rows} answered items: it contains names and Telegram ids.").format(rows=format_decimal(rows, locale=locales.formatting()))
            else:
                caption = _("Export of {rows} answered items. Pseudonymous: study codes only.").format(rows=format_decimal(rows, locale=locales.formatting()))
            return [File(filename=f"paincoach-export-{now:%Y%m%d-%H%M}.zip", data=data, caption=caption, mime_type="application/zip")]


class ExportRefused(Exception):
    """An export not made, with what the clinician reads; the refusal is already audited."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def clinic_export(db: Database, clinician: Clinician, filters: Filters, formats: tuple[str, ...], *, actor: str,
                  now: datetime, via: str | None = None) -> tuple[bytes, dict[str, int]]:
    """A clinician's export as a zip, by /export and the dashboard alike: identified data for admins
    only, and only their clinic's patients. Outside any transaction: it reads its own snapshot and
    audits itself. Raises ExportRefused in the current language."""
    from exports.bundle import FORMATS, UnknownPatients, export_zip

    if filters.identify and not clinician.is_admin:
        with db.transaction() as session:
            audit.record(session, actor, "export_refused", now, clinic_id=clinician.clinic_id, reason="identify_not_admin",
                         **({"via": via} if via else {}))
        raise ExportRefused(_("Only a clinic admin can export identified data."))
    try:
        return export_zip(db, filters, formats or FORMATS, actor=actor, now=now, via=via)
    except UnknownPatients as refused:  # another clinic's patient is no patient here either
        raise ExportRefused(_("No patient {code} in your clinic.").format(code=", ".join(refused.codes))) from None


def _days(days: list[str]) -> tuple[datetime | None, datetime | None]:
    if not days:
        return None, None
    return parse_day(days[0]), parse_day(days[-1] if len(days) > 1 else None, end=True)


def clinician_clinic(session, clinician: Clinician):
    from storage.models import Clinic

    return session.get(Clinic, clinician.clinic_id)


def signed(change: float | int, whole: bool = False) -> str:
    """A change with its sign, as the reader writes numbers: +1.3, -2, 0."""
    value = format_decimal(change, format="+#,##0;-#,##0" if whole else "+#,##0.0;-#,##0.0", locale=locales.formatting())
    return value if change else value.lstrip("+")


def overview_line(row, zone: ZoneInfo) -> str:
    parts = [row.study_code + (f" ({row.reference})" if row.reference else "")]
    if row.last_checkin:
        parts.append(_("last check-in {time}").format(time=locales.moment(row.last_checkin, zone)))
    else:
        parts.append(_("no check-in yet"))
    if row.peg is not None:
        change = f" ({signed(row.peg_change)})" if row.peg_change is not None else ""
        parts.append(_("PEG {score}").format(score=number(row.peg)) + change)
    if row.phq4 is not None:
        parts.append(phq4_text(row))
    if row.adherence is not None:
        parts.append(ngettext("{answered} of {sent} check-in answered ({percent})", "{answered} of {sent} check-ins answered ({percent})",
                              row.sent).format(answered=integer(row.answered), sent=integer(row.sent),
                                               percent=format_percent(row.answered / row.sent, locale=locales.formatting())))
    if row.open_flares:
        parts.append(ngettext("{n} open flare", "{n} open flares", row.open_flares).format(n=integer(row.open_flares)))
    if row.open_alerts:
        parts.append("⚠️ " + ngettext("{n} unacknowledged alert", "{n} unacknowledged alerts", row.open_alerts).format(n=integer(row.open_alerts)))
    return " · ".join(parts)


def integer(n: int) -> str:
    return format_decimal(n, locale=locales.formatting())


# PHQ-4 bands (content.instruments.PHQ4_BANDS), as a clinician reads them.
BANDS = {"normal": N_("normal"), "mild": N_("mild"), "moderate": N_("moderate"), "severe": N_("severe")}


def phq4_text(row) -> str:
    """PHQ-4 total with its band and change since baseline, then GAD-2 and PHQ-2, each marked
    when it screens positive (3 or more)."""
    score = row.phq4
    # Translators: {band} is one of the words normal, mild, moderate, severe.
    text = _("PHQ-4 {score} {band}").format(score=integer(score["total"]), band=_(BANDS[score["band"]]))
    if row.phq4_change is not None:
        # Translators: {change} is a signed number such as +3 or -2.
        text += " (" + _("{change} since baseline").format(change=signed(row.phq4_change, whole=True)) + ")"
    subscales = []
    for name, key in (("GAD-2", "anxiety"), ("PHQ-2", "depression")):
        if key in score:
            value = f"{name} {integer(score[key])}"
            # Translators: {scale} is "GAD-2 6" or "PHQ-2 4" (anxiety, depression): 3 or more screens positive.
            subscales.append(_("{scale} positive").format(scale=value) if score.get(f"{key}_positive") else value)
    return text + (": " + ", ".join(subscales) if subscales else "")


def phq4_details(row, zone: ZoneInfo) -> list[str]:
    """What /patient adds: when the latest PHQ-4 was answered, and the baseline it is compared with."""
    if row.phq4 is None:
        return []
    lines = [_("Latest PHQ-4: {time}").format(time=locales.moment(row.phq4_at, zone))]
    if row.phq4_change is not None:
        base = row.phq4_baseline
        lines.append(_("PHQ-4 baseline: {score} {band} ({time})").format(
            score=integer(base["total"]), band=_(BANDS[base["band"]]), time=locales.moment(row.phq4_baseline_at, zone)))
    return lines


def nobody_banner(session, clinician: Clinician) -> list[str]:
    """For an admin: the clinics whose alerts would reach nobody (never their own: it has them).
    Other clinicians are not told other clinics' names and patient counts."""
    if not clinician.is_admin:
        return []
    return [nobody_hears(clinic, count) for clinic, count in enrollment.clinics_nobody_hears(session)]


def nobody_hears(clinic, patients: int) -> str:
    """The banner while a clinic's alerts would reach nobody: a severe PHQ-4 or a crisis there is
    otherwise silent."""
    return "⚠️ " + ngettext(
        "Alerts for {n} patient of {clinic} reach nobody: it has no verified clinician and no fallback chat. "
        "Please ask whoever runs paincoach to set one (paincoach clinic set \"{clinic}\" fallback_chat_id …).",
        "Alerts for {n} patients of {clinic} reach nobody: it has no verified clinician and no fallback chat. "
        "Please ask whoever runs paincoach to set one (paincoach clinic set \"{clinic}\" fallback_chat_id …).",
        patients).format(n=integer(patients), clinic=clinic.name)


def patient_not_clinician() -> str:
    return _("This Telegram account is enrolled as a patient, so it cannot also be a clinician's account: a clinician's "
             "account receives alerts and other patients' data. Nothing has changed, and your own coaching goes on as "
             "before. If you work at the clinic, please open this link from another Telegram account; it still works.")


def help_text() -> str:
    return "\n".join([
        _("Clinician commands:"),
        _("/patients – your patients at a glance"),
        _("/patient PC-XXXX – one patient's summary and chart"),
        _("/report PC-XXXX – the one-page visit report"),
        _("/export [long|wide|activity|exercises|fhir|redcap] [PC-XXXX] [YYYY-MM-DD [YYYY-MM-DD]] [peg3|phq4|daily] – the data as a zip"),
        _("/invite [your reference] – an invitation link for a patient"),
        _("/web – a sign-in link to the web dashboard"),
        _("/timezone [Europe/Berlin | a city | clinic] – the time zone you read times in"),
    ])
