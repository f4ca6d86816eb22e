"""Dependencies of the console routes: the signed-in officer, content editor or
administrator, with CSRF on every POST."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from channels.auth import (
    Session,
    check_csrf,
    require_admin_role,
    require_content_role,
    require_queue_role,
    require_session,
)
from channels.services import Services, get_services


def signed_in(request: Request, services: Annotated[Services, Depends(get_services)]) -> Session:
    return require_session(request, services.sessions, services.users)


def queue_officer(session: Annotated[Session, Depends(signed_in)]) -> Session:
    """Officers and administrators; a content editor gets 403."""
    require_queue_role(session)
    return session


async def acting_officer(
    request: Request, session: Annotated[Session, Depends(queue_officer)]
) -> Session:
    """An officer's POST: the session's CSRF token must come with it."""
    await check_csrf(request, session.csrf_token)
    return session


async def acting_admin(
    request: Request, session: Annotated[Session, Depends(signed_in)]
) -> Session:
    """An administrator's POST (erasure): other roles get 403, and CSRF as for officers."""
    require_admin_role(session)
    await check_csrf(request, session.csrf_token)
    return session


def content_editor(session: Annotated[Session, Depends(signed_in)]) -> Session:
    """Content editors and administrators; an officer gets 403."""
    require_content_role(session)
    return session


async def acting_editor(
    request: Request, session: Annotated[Session, Depends(content_editor)]
) -> Session:
    """A content editor's POST, with the session's CSRF token."""
    await check_csrf(request, session.csrf_token)
    return session


def admin_user(session: Annotated[Session, Depends(signed_in)]) -> Session:
    """Administrators only (the analytics dashboard); officers and content editors get 403."""
    require_admin_role(session)
    return session


SignedIn = Annotated[Session, Depends(signed_in)]
QueueOfficer = Annotated[Session, Depends(queue_officer)]
ActingOfficer = Annotated[Session, Depends(acting_officer)]
ActingAdmin = Annotated[Session, Depends(acting_admin)]
AdminUser = Annotated[Session, Depends(admin_user)]
ContentEditor = Annotated[Session, Depends(content_editor)]
ActingEditor = Annotated[Session, Depends(acting_editor)]
