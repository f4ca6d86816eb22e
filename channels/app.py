"""The FastAPI app: chat API, citizen chat page and officer console on one engine.

``create_app(settings)`` is cheap; the lifespan builds the assistant (knowledge base,
index, models, database), the event bus and the stores, and shuts them down again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from bot.assembly import Assistant, build_assistant
from bot.audit import AuditLog
from bot.officer_store import OfficerStore, UserStore
from bot.retention import Retention
from channels import api, console, console_api
from channels.auth import SessionCodec
from channels.console import TEMPLATES
from channels.delivery import Delivery, DeliveryRouter, EventDelivery
from channels.errors import install_error_handlers
from channels.events import EventBus, build_event_bus
from channels.headers import SecurityHeadersMiddleware
from channels.limits import BodySizeLimitMiddleware, RateLimiter
from channels.services import Services
from consular.settings import Settings

log = logging.getLogger(__name__)
WEB_DIR = Path(__file__).with_name("web")


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
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.include_router(api.router)
    app.include_router(console.router)
    app.include_router(console_api.router)
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def chat_page(request: Request) -> Response:
        hotline = settings.citizen_protection_hotline
        context = {"hotline": hotline, "hotline_tel": re.sub(r"[^+\d]", "", hotline)}
        return TEMPLATES.TemplateResponse(
            request, "chat.html", context, headers={"Cache-Control": "no-cache"}
        )

    return app


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
