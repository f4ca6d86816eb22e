"""The officer console: sign-in pages and the console shell (HTML), and its JSON API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from channels.auth import (
    CONTENT_ROLES,
    LOGIN_CSRF_COOKIE,
    QUEUE_ROLES,
    SESSION_COOKIE,
    check_csrf,
    new_csrf_token,
    read_session,
)
from channels.console_deps import SignedIn
from channels.services import Services, ServicesDep

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
router = APIRouter(prefix="/console", include_in_schema=False)
TOO_MANY_ATTEMPTS = "Too many failed sign-ins: wait a few minutes, then try again."


@router.get("", response_class=HTMLResponse)
async def console_page(request: Request, services: ServicesDep) -> Response:
    session = await run_in_threadpool(read_session, request, services.sessions, services.users)
    if session is None:
        return RedirectResponse("/console/login", status_code=303)
    context = {
        "user": session.user,
        "csrf_token": session.csrf_token,
        "hotline": services.settings.citizen_protection_hotline,
    }
    if session.user.role not in QUEUE_ROLES:
        if session.user.role in CONTENT_ROLES:
            # A content editor's console is the knowledge base, not the queue.
            return RedirectResponse("/console/content", status_code=303)
        context |= {
            "heading": "No access to the queue",
            "message": "The officer queue is for officers and administrators.",
        }
        return TEMPLATES.TemplateResponse(request, "message.html", context, status_code=403)
    return TEMPLATES.TemplateResponse(request, "console.html", context)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, services: ServicesDep) -> Response:
    return _login_form(request, services, error=None, status_code=200)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    services: ServicesDep,
    username: str = Form(max_length=64),
    password: str = Form(max_length=1024),
) -> Response:
    login_cookie = services.sessions.loads(request.cookies.get(LOGIN_CSRF_COOKIE)) or {}
    await check_csrf(request, login_cookie.get("csrf"))
    username = username.strip().lower()
    attempts_key = f"{request.client.host if request.client else '-'}:{username}"
    if services.sign_in_limiter.blocked(attempts_key):
        await run_in_threadpool(services.audit.record, username or "-", "sign_in_throttled")
        return _login_form(request, services, error=TOO_MANY_ATTEMPTS, status_code=429)
    user = await run_in_threadpool(services.users.authenticate, username, password)
    if user is None:
        services.sign_in_limiter.hit(attempts_key)
        await run_in_threadpool(services.audit.record, username or "-", "sign_in_failed")
        return _login_form(request, services, error="Wrong username or password.", status_code=401)
    await run_in_threadpool(services.audit.record, user.username, "sign_in")
    response = RedirectResponse("/console", status_code=303)
    # A fresh token at sign-in: one planted before it (session fixation) is worthless.
    data = {"u": user.username, "csrf": new_csrf_token()}
    services.sessions.set_cookie(request, response, SESSION_COOKIE, data)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request, session: SignedIn, services: ServicesDep) -> Response:
    await check_csrf(request, session.csrf_token)
    await run_in_threadpool(services.audit.record, session.user.username, "sign_out")
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


def _login_form(
    request: Request, services: Services, *, error: str | None, status_code: int
) -> Response:
    token = new_csrf_token()
    response = TEMPLATES.TemplateResponse(
        request, "login.html", {"csrf_token": token, "error": error}, status_code=status_code
    )
    services.sessions.set_cookie(request, response, LOGIN_CSRF_COOKIE, {"csrf": token})
    return response
