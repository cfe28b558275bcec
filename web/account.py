"""The clinician's own settings on the dashboard: "My time zone", the one every time they read is
in (here and in Telegram, where /timezone sets the same), their clinic's until they choose one."""
from __future__ import annotations

from functools import cache

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

import locales
from clinic import zones
from locales import _
from web.dashboard import Dashboard


@cache
def zone_names() -> tuple[str, ...]:
    """The zones offered as the clinician types: those patients choose from, and UTC."""
    from dialogs.timezone import all_zones

    return ("UTC", *sorted(all_zones()))


class Account:
    def __init__(self, dashboard: Dashboard):
        self.dashboard = dashboard
        self.db = dashboard.db

    def page(self, request: Request) -> Response:
        with self.dashboard.clinician(request) as (clinician, csrf, now):
            saved = request.query_params.get("saved") == "1"
            return self._page(request, clinician, csrf, now, notice=_("Saved.") if saved else None)

    def _page(self, request: Request, clinician, csrf: str, now, status: int = 200, error: str | None = None,
              typed: str | None = None, notice: str | None = None) -> Response:
        with self.db.reading() as session:
            zone = zones.clinician_zone(session, clinician)
            clinic_zone = zones.clinic_zone(session, clinician.clinic_id)
            current = zones.describe(session, clinician)
        return self.dashboard.page(request, "me.html", status, who=clinician, csrf=csrf, title=_("My time zone"), current=current,
                                   now=locales.moment(now, zone), clinic_zone=clinic_zone.key, error=error,
                                   typed=(clinician.timezone or "") if typed is None else typed, zones=zone_names(), notice=notice)

    async def save(self, request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(self._save, request, form)

    def _save(self, request: Request, form) -> Response:
        """As /timezone in Telegram: one zone, or nothing for the clinic's; anything else is refused, nothing changed."""
        with self.dashboard.clinician(request, form) as (clinician, csrf, now):
            typed = str(form.get("timezone", ""))[:100]
            try:
                with self.db.transaction() as session:
                    zones.choose(session, clinician.id, typed, now, via="web")
            except zones.ZoneRefused as refused:
                return self._page(request, clinician, csrf, now, 400, refused.message, typed)
            return RedirectResponse("/me?saved=1", status_code=303)
