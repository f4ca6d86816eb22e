"""What the HTTP handlers use, built once in the app's lifespan."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from bot.assembly import Assistant
from bot.audit import AuditLog
from bot.feedback import FeedbackStore
from bot.officer_store import OfficerStore, UserStore
from bot.retention import Retention
from channels.auth import SessionCodec
from channels.delivery import DeliveryRouter
from channels.errors import NotReady
from channels.events import EventBus
from channels.limits import RateLimiter
from consular.settings import Settings

if TYPE_CHECKING:
    from bot.gap_report import GapReport
    from knowledge.workflow import ContentWorkflow


@dataclass
class Services:
    settings: Settings
    assistant: Assistant
    users: UserStore
    officers: OfficerStore
    audit: AuditLog
    bus: EventBus
    deliveries: DeliveryRouter
    chat_limiter: RateLimiter
    sessions: SessionCodec
    retention: Retention
    feedback: FeedbackStore
    # Failed sign-ins per address and username: a password cannot be guessed at speed.
    sign_in_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(5, window=300.0))
    # Set at shutdown, so that open event streams end instead of holding the server up.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # The content workflow (knowledge/workflow.py) of the assistant; None without one.
    content: ContentWorkflow | None = None
    # The knowledge-gaps report (bot/gap_report.py); None without one.
    gaps: GapReport | None = None


def get_services(request: Request) -> Services:
    services = getattr(request.app.state, "services", None)
    if services is None:
        raise NotReady("The assistant is starting; try again in a moment.")
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
