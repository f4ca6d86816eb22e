"""The administrators' analytics dashboard: the page, the report as JSON, each figure as CSV.

Officers and content editors get 403; the figures are built by ``bot/analytics.py`` from
the conversation database on each request (well under a second for thousands of
conversations).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.analytics import FIGURE_NAMES, Analytics, Filters, check_dates, doc_topics
from bot.models import CHANNELS, TEST_CHANNELS
from channels.auth import read_session
from channels.console import TEMPLATES
from channels.console_deps import AdminUser
from channels.services import Services, ServicesDep

router = APIRouter(prefix="/console", include_in_schema=False)
# Citizens' channels; "cli" and "eval" conversations are tests of the assistant and are
# never counted (with no channel chosen, only these channels are).
DASHBOARD_CHANNELS = tuple(c for c in CHANNELS if c not in TEST_CHANNELS)
_MISSION = r"^[a-z0-9]+(-[a-z0-9]+)*$"


def report_filters(
    date_from: Annotated[date | None, Query(description="UTC date, inclusive")] = None,
    date_to: Annotated[date | None, Query(description="UTC date, inclusive")] = None,
    mission: Annotated[str | None, Query(max_length=64, pattern=f"{_MISSION}|^$")] = None,
    channel: Annotated[str | None, Query(pattern=f"^({'|'.join(DASHBOARD_CHANNELS)})?$")] = None,
    period: Annotated[str | None, Query(pattern="^(day|week)?$")] = None,
) -> Filters:
    """The dashboard's query string as report filters (an empty field means "any");
    dates outside 2000-01-01..tomorrow or more than three years apart are a 422."""
    check_dates(date_from, date_to)
    return Filters(
        date_from=date_from,
        date_to=date_to,
        mission_id=mission or None,
        channel=channel or None,
        period=period or None,  # type: ignore[arg-type]
    )


FiltersDep = Annotated[Filters, Depends(report_filters)]


def analytics(services: Services) -> Analytics:
    """Topics come from the knowledge the assistant answers from now."""
    return Analytics(
        services.assistant.store.sessions,
        lambda: doc_topics(services.assistant.engine.knowledge.documents),
    )


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard_page(request: Request, services: ServicesDep) -> Response:
    session = await run_in_threadpool(read_session, request, services.sessions, services.users)
    if session is None:
        return RedirectResponse("/console/login", status_code=303)
    context: dict[str, Any] = {"user": session.user, "csrf_token": session.csrf_token}
    if session.user.role != "admin":
        context |= {
            "heading": "No access to the dashboard",
            "message": "The analytics dashboard is for administrators; your role is "
            f"{session.user.role.replace('_', ' ')}.",
        }
        return TEMPLATES.TemplateResponse(request, "message.html", context, status_code=403)
    missions = services.assistant.knowledge.missions.missions
    context |= {
        "missions": [(m.id, m.name.get("en")) for m in missions],
        "channels": DASHBOARD_CHANNELS,
        "figures": FIGURE_NAMES,
    }
    return TEMPLATES.TemplateResponse(
        request, "dashboard.html", context, headers={"Cache-Control": "no-store"}
    )


@router.get("/api/analytics")
async def analytics_json(
    session: AdminUser, services: ServicesDep, filters: FiltersDep
) -> dict[str, Any]:
    """Every figure of the dashboard for the filters, with the totals."""
    report = await run_in_threadpool(analytics(services).report, filters)
    return report.to_dict()


@router.get("/api/analytics/{figure}.csv")
async def analytics_csv(
    figure: str, session: AdminUser, services: ServicesDep, filters: FiltersDep
) -> Response:
    """One figure as a CSV download (UTF-8, header row first)."""
    report = await run_in_threadpool(analytics(services).report, filters)
    table = report.figure(figure)
    suffix = "_".join(
        part
        for part in (
            filters.date_from.isoformat() if filters.date_from else "",
            filters.date_to.isoformat() if filters.date_to else "",
            filters.mission_id or "",
            filters.channel or "",
        )
        if part
    )
    name = f"{table.name}{'_' + suffix if suffix else ''}.csv"
    await run_in_threadpool(
        services.audit.record, session.user.username, "analytics_export", None, name
    )
    return Response(
        table.to_csv(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
