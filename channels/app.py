"""The FastAPI app: chat API, citizen chat page and officer console on one engine.

``create_app(settings)`` is cheap; the lifespan builds the assistant (knowledge base,
index, models, database), the event bus and the stores, and shuts them down again.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from bot.assembly import Assistant, build_assistant
from bot.audit import AuditLog
from bot.feedback import FeedbackStore
from bot.gap_report import GapReport, LiveSearcher
from bot.gaps import GapFilters
from bot.live_knowledge import LiveKnowledge
from bot.officer_store import OfficerStore, UserStore
from bot.retention import Retention
from channels import (
    api,
    console,
    console_api,
    content_api,
    content_routes,
    dashboard,
    gaps_routes,
)
from channels.auth import SessionCodec
from channels.console import TEMPLATES
from channels.content_api import install_content_error_handlers
from channels.delivery import Delivery, DeliveryRouter, EventDelivery
from channels.errors import install_error_handlers
from channels.events import EventBus, build_event_bus
from channels.headers import SecurityHeadersMiddleware
from channels.limits import BodySizeLimitMiddleware, RateLimiter
from channels.services import Services
from consular.settings import Settings

log = logging.getLogger(__name__)
WEB_DIR = Path(__file__).with_name("web")
# The period the knowledge-gaps page shows first (DEFAULT_DAYS in web/gaps.js).
GAPS_DEFAULT_DAYS = 90


def create_app(
    settings: Settings,
    *,
    assistant: Assistant | None = None,
    deliveries: Mapping[str, Delivery] | None = None,
) -> FastAPI:
    """The whole web service; pass ``assistant`` to reuse one already built (tests)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ready = assistant or await run_in_threadpool(build_assistant, settings)
        bus = build_event_bus(settings.redis_url)
        services = _services(settings, ready, bus, deliveries)
        async with AsyncExitStack() as stack:
            stack.push_async_callback(bus.aclose)
            if settings.telegram_bot_token is not None:
                await _add_telegram(app, settings, ready, services.deliveries, stack)
            if ready.live is not None:
                follower = asyncio.create_task(
                    _follow_published(ready.live, settings.content_poll_seconds)
                )
                stack.callback(follower.cancel)
            if services.gaps is not None:
                warming = asyncio.create_task(_warm_gap_report(services.gaps))
                stack.callback(warming.cancel)
            app.state.services = services
            log.info("ready: events %s", "via Redis" if settings.redis_url else "in process")
            try:
                yield
            finally:
                services.stopping.set()
                app.state.services = None

    app = FastAPI(
        title="Trợ lý Lãnh sự (Consular Assistant)",
        version="1",
        summary="Chat API of the consular assistant (../shared/spec/chat-api.md).",
        lifespan=lifespan,
    )
    app.state.services = None
    install_error_handlers(app)
    app.add_middleware(SecurityHeadersMiddleware)
    install_content_error_handlers(app)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        # A content editor's upload (HTML, PDF, DOCX) may be larger than any other request.
        path_limits={
            content_api.UPLOAD_PATH: settings.max_upload_bytes,
            **dict.fromkeys(content_api.EDITOR_PATHS, content_api.EDITOR_MAX_BYTES),
        },
    )
    app.include_router(api.router)
    app.include_router(console.router)
    app.include_router(console_api.router)
    app.include_router(content_routes.router)
    app.include_router(content_api.router)
    app.include_router(dashboard.router)
    app.include_router(gaps_routes.router)
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def chat_page(request: Request) -> Response:
        hotline = settings.citizen_protection_hotline
        context = {"hotline": hotline, "hotline_tel": re.sub(r"[^+\d]", "", hotline)}
        return TEMPLATES.TemplateResponse(
            request, "chat.html", context, headers={"Cache-Control": "no-cache"}
        )

    return app


async def _follow_published(live: LiveKnowledge, seconds: float) -> None:
    """Answer from what another process (a second worker, the CLI) published: this
    process's own publishes refresh at once, the rest within ``seconds``."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await run_in_threadpool(live.refresh_if_changed)
        except Exception:
            # The engine keeps its current documents; the next poll tries again.
            log.exception("could not refresh the published guidance")


async def _warm_gap_report(report: GapReport) -> None:
    """Embed the questions of the gaps page's default period once, in the background:
    with thousands of them the first page load would otherwise wait a minute or more."""
    since = datetime.now(UTC) - timedelta(days=GAPS_DEFAULT_DAYS)
    try:
        await run_in_threadpool(report.groups, GapFilters(since=since))
    except Exception:
        log.exception("could not prepare the knowledge-gaps report")


def _services(
    settings: Settings,
    assistant: Assistant,
    bus: EventBus,
    deliveries: Mapping[str, Delivery] | None,
) -> Services:
    to_page = EventDelivery(bus)
    router = DeliveryRouter({"web": to_page, "api": to_page, **(deliveries or {})})
    sessions = assistant.store.sessions
    audit = AuditLog(sessions)
    return Services(
        settings=settings,
        assistant=assistant,
        users=UserStore(sessions),
        officers=OfficerStore(assistant.store),
        audit=audit,
        bus=bus,
        deliveries=router,
        chat_limiter=RateLimiter(settings.rate_limit_per_minute),
        sessions=SessionCodec.from_settings(settings),
        retention=Retention.from_settings(settings, sessions, audit),
        feedback=FeedbackStore(sessions),
        gaps=_gap_report(assistant),
        content=assistant.content,
    )


def _gap_report(assistant: Assistant) -> GapReport:
    """The knowledge-gaps report on the conversation database; declines are searched
    again with the engine's current searcher."""
    return GapReport(
        assistant.store.sessions,
        assistant.retrieval.embedder,
        searcher=LiveSearcher(assistant.engine),
    )


async def _add_telegram(
    app: FastAPI,
    settings: Settings,
    assistant: Assistant,
    router: DeliveryRouter,
    stack: AsyncExitStack,
) -> None:
    """Officer replies to Telegram chats, and the webhook route when its secret is set
    (without one the bot runs by long polling: ``consular telegram``)."""
    from channels.telegram import build_delivery, webhook_router

    delivery = build_delivery(settings)
    router.register("telegram", delivery)
    stack.push_async_callback(delivery.aclose)
    if settings.telegram_webhook_secret is not None:
        webhook = webhook_router(settings, assistant)
        app.include_router(webhook)
        # Included after start-up, so its own lifespan is entered here, not by the app.
        await stack.enter_async_context(webhook.lifespan_context(app))
