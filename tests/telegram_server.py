"""A small local Bot API server for the Telegram tests (Telegram itself is unreachable).

It speaks the part of https://core.telegram.org/bots/api the channel uses: ``POST
/bot<token>/<method>`` with form-encoded parameters, answering ``{"ok": true, "result":
...}``. It queues updates for ``getUpdates`` (honouring ``offset``), records what the bot
sends, and can answer with flood control (429 + retry_after), a gateway error or
``Forbidden``, to test the retries.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "123456789:TEST-token-for-the-local-bot-api"
BOT_USER = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "Consular Assistant",
    "username": "consular_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# Parameters that travel as JSON strings inside the form.
_JSON_FIELDS = {"reply_markup", "link_preview_options", "allowed_updates", "reply_parameters"}
_LONG_POLL_CAP = 0.5  # seconds: keeps the tests quick whatever timeout the bot asks for


@dataclass
class Failure:
    status: int
    description: str
    parameters: dict[str, Any] | None = None


@dataclass
class BotApiState:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class BotApiServer:
    """Runs in a thread on a free port; ``base_url`` goes to python-telegram-bot."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.state = BotApiState()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1000)
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        app = Starlette(routes=[Route("/bot{token}/{method}", self._handle, methods=["POST"])])
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> BotApiServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the local Bot API server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    # -- test controls -------------------------------------------------------------

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def queue(self, update: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            self.state.updates.append(update)
        return update

    def fail(self, method: str, *failures: Failure) -> None:
        """The next calls of ``method`` answer these failures, in order."""
        with self.state.lock:
            self.state.failures.setdefault(method, []).extend(failures)

    def calls(self, method: str) -> list[dict[str, Any]]:
        with self.state.lock:
            return [params for name, params in self.state.calls if name == method]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent successfully (to ``chat_id``), oldest first."""
        with self.state.lock:
            return [
                params
                for name, params in self.state.calls
                if name == "sendMessage"
                and params.get("_delivered")
                and (chat_id is None or int(params["chat_id"]) == chat_id)
            ]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls so far: {self.state.calls}")
            time.sleep(0.05)

    # -- the Bot API ---------------------------------------------------------------

    async def _handle(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.path_params["method"]
        params = await _params(request)
        with self.state.lock:
            self.state.calls.append((method, params))
            pending = self.state.failures.get(method)
            failure = pending.pop(0) if pending else None
        if failure is not None:
            return _error(failure.status, failure.description, failure.parameters)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result = await handler(params)
        return JSONResponse({"ok": True, "result": result})

    async def _api_getMe(self, params: dict) -> dict:
        return BOT_USER

    async def _api_deleteWebhook(self, params: dict) -> bool:
        return True

    async def _api_setWebhook(self, params: dict) -> bool:
        return True

    async def _api_getWebhookInfo(self, params: dict) -> dict:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    async def _api_answerCallbackQuery(self, params: dict) -> bool:
        return True

    async def _api_sendChatAction(self, params: dict) -> bool:
        return True

    async def _api_getUpdates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), _LONG_POLL_CAP)
        deadline = time.monotonic() + wait
        while True:
            with self.state.lock:
                # An offset confirms every update before it: Telegram forgets them.
                self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset]
                ready = list(self.state.updates)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.02)

    async def _api_sendMessage(self, params: dict) -> dict:
        params["_delivered"] = True
        return self._message(int(params["chat_id"]), params["text"])

    async def _api_editMessageReplyMarkup(self, params: dict) -> dict:
        return self._message(int(params["chat_id"]), "", int(params["message_id"]))

    async def _api_editMessageText(self, params: dict) -> dict:
        return self._message(int(params["chat_id"]), params["text"], int(params["message_id"]))

    def _message(self, chat_id: int, text: str, message_id: int | None = None) -> dict:
        return {
            "message_id": message_id or next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
            "text": text,
        }


async def _params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        return await request.json()
    form = await request.form()
    params: dict[str, Any] = {}
    for key, value in form.items():
        params[key] = json.loads(value) if key in _JSON_FIELDS else value
    return params


def _error(status: int, description: str, parameters: dict | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=status)


# -- updates as Telegram sends them ------------------------------------------------------

USER = {"id": 555001, "is_bot": False, "first_name": "Lan", "language_code": "vi"}


def text_update(update_id: int, text: str, chat_id: int = 555001, **user: Any) -> dict:
    """A private text message; a leading /command gets its bot_command entity."""
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Lan"},
        "from": {**USER, "id": chat_id, **user},
        "text": text,
    }
    if text.startswith("/"):
        length = len(text.split()[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return {"update_id": update_id, "message": message}


def callback_update(update_id: int, data: str, chat_id: int = 555001, message_id: int = 1) -> dict:
    """A press on an inline button of the bot's message ``message_id``."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "from": {**USER, "id": chat_id},
            "chat_instance": "ci-1",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Lan"},
                "from": BOT_USER,
                "text": "Choose your language:",
            },
        },
    }
