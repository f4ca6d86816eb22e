"""Errors of the HTTP channels, and the JSON body every error is rendered as."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.analytics import InvalidFiltersError, UnknownFigureError
from bot.engine import InvalidMessageError
from bot.feedback import AnswerNotFound, InvalidFeedbackError, NoRatingYet
from bot.officer_store import InvalidAccountError, UserExistsError
from consular.errors import ConsularError, ConversationNotFound, IndexNotBuiltError

log = logging.getLogger(__name__)


class HttpError(ConsularError):
    """A channel error with its HTTP status."""

    status_code = 400
    headers: dict[str, str] | None = None


class NotSignedIn(HttpError):
    status_code = 401
    user_message = "Sign in to the officer console first."


class Forbidden(HttpError):
    status_code = 403
    user_message = "Your role does not give access to this part of the console."


class CsrfRefused(HttpError):
    status_code = 403
    user_message = (
        "The form has expired or did not come from the console: reload the page and try again."
    )


class ClaimConflict(HttpError):
    status_code = 409
    user_message = "Another officer has already claimed this conversation."


class NotClaimedByYou(HttpError):
    status_code = 409
    user_message = "Claim this conversation before acting on it."


class RateLimited(HttpError):
    status_code = 429
    user_message = "Too many messages in a short time: please wait a moment and try again."

    def __init__(self, retry_after: float) -> None:
        super().__init__()
        self.headers = {"Retry-After": str(max(1, round(retry_after)))}


class NotReady(HttpError):
    status_code = 503


# Domain errors from the engine and stores, by the status they stand for.
_STATUS = {
    ConversationNotFound: 404,
    AnswerNotFound: 404,
    InvalidFeedbackError: 422,
    NoRatingYet: 409,
    UnknownFigureError: 404,
    InvalidFiltersError: 422,
    InvalidMessageError: 422,
    InvalidAccountError: 422,
    UserExistsError: 409,
    IndexNotBuiltError: 503,
}


def status_of(exc: ConsularError) -> int:
    if isinstance(exc, HttpError):
        return exc.status_code
    return next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)


def _readable(errors: list[dict]) -> list[dict[str, str]]:
    """pydantic's errors as field + problem, without echoing the submitted value."""
    out = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        problem = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        out.append({"field": ".".join(location) or "body", "problem": problem})
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ConsularError)
    async def _consular(request: Request, exc: ConsularError) -> JSONResponse:
        status = status_of(exc)
        if status >= 500:
            log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc.user_message)
        return JSONResponse(
            {"detail": exc.user_message}, status, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _readable(list(exc.errors()))
        detail = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return JSONResponse({"detail": f"Invalid request. {detail}", "errors": problems}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Routing errors (unknown path, wrong method) in the same JSON shape.
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
