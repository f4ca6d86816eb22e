"""Console sign-in: signed session cookies, CSRF tokens and role checks.

The session cookie is signed with itsdangerous (HttpOnly, SameSite=Lax, Secure on HTTPS
or as configured) and carries the username and the session's CSRF token. Every POST
must send that token back (``X-CSRF-Token`` header or ``csrf_token`` form field); a
cross-site page can neither read the cookie nor learn the token. The role is read from
the database on every request, so a disabled account loses access at once.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.officer_store import UserRecord, UserStore
from channels.errors import CsrfRefused, Forbidden, NotSignedIn
from consular.settings import Settings

SESSION_COOKIE = "consular_session"
# Before sign-in there is no session: the login form's token lives in its own cookie.
LOGIN_CSRF_COOKIE = "consular_login_csrf"
CSRF_HEADER = "x-csrf-token"
QUEUE_ROLES = frozenset({"officer", "admin"})
CONTENT_ROLES = frozenset({"content_editor", "admin"})


@dataclass(frozen=True, slots=True)
class Session:
    user: UserRecord
    csrf_token: str


class SessionCodec:
    """Signs and checks the console's cookies."""

    def __init__(self, secret: str, *, max_age: int, secure: bool | None) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="consular-console")
        self.max_age = max_age
        self._secure = secure

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionCodec:
        secret = settings.session_secret
        # A random key per process when none is configured: safe, but sessions end at
        # restart and do not carry across processes (the README says to set one).
        key = secret.get_secret_value() if secret else secrets.token_urlsafe(32)
        return cls(
            key, max_age=settings.session_max_age_seconds, secure=settings.session_cookie_secure
        )

    def dumps(self, data: dict[str, Any]) -> str:
        return self._serializer.dumps(data)

    def loads(self, value: str | None) -> dict[str, Any] | None:
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=self.max_age)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None

    def set_cookie(self, request: Request, response: Response, name: str, data: dict) -> None:
        secure = self._secure if self._secure is not None else request.url.scheme == "https"
        response.set_cookie(
            name,
            self.dumps(data),
            max_age=self.max_age,
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/console",
        )


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(expected, given)


def read_session(request: Request, codec: SessionCodec, users: UserStore) -> Session | None:
    data = codec.loads(request.cookies.get(SESSION_COOKIE))
    if not data or not isinstance(data.get("u"), str) or not isinstance(data.get("csrf"), str):
        return None
    user = users.get(data["u"])
    if user is None or not user.active:
        return None
    return Session(user, data["csrf"])


def require_session(request: Request, codec: SessionCodec, users: UserStore) -> Session:
    session = read_session(request, codec, users)
    if session is None:
        raise NotSignedIn()
    return session


def require_queue_role(session: Session) -> None:
    if session.user.role not in QUEUE_ROLES:
        raise Forbidden(
            "The officer queue is for officers and administrators; "
            f"your role is {session.user.role.replace('_', ' ')}."
        )


def require_content_role(session: Session) -> None:
    if session.user.role not in CONTENT_ROLES:
        raise Forbidden(
            "The content console is for content editors and administrators; "
            f"your role is {session.user.role.replace('_', ' ')}."
        )


def require_admin_role(session: Session) -> None:
    if session.user.role != "admin":
        raise Forbidden(
            f"Only administrators may do this; your role is {session.user.role.replace('_', ' ')}."
        )


async def check_csrf(request: Request, expected: str | None) -> None:
    """Refuse a POST whose token (header, or form field) is not the expected one."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if not tokens_match(expected, given):
        raise CsrfRefused()
