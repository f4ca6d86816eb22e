"""The Telegram channel: the Application (polling), the webhook route, officer delivery.

Nothing here talks to Telegram at import or build time; the Application connects in
``initialize()`` (polling: ``run_polling``; webhook: the first request).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, HTTPException, Request
from telegram import Bot, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.assembly import Assistant
from bot.composer import Messages
from bot.store import ConversationRecord
from channels.delivery import DeliveryError
from channels.telegram_feedback import RATE_CALLBACK, VOTE_CALLBACK, rating_keyboard
from channels.telegram_format import escaped_pieces
from channels.telegram_handlers import LANGUAGE_CALLBACK, ChatHandlers
from channels.telegram_send import RetryPolicy, send_html
from channels.telegram_store import TelegramStore
from channels.telegram_texts import text as ui_text
from consular.errors import ConsularError
from consular.settings import Settings

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Updates are a few kilobytes; anything far larger is not from Telegram.
MAX_UPDATE_BYTES = 1024 * 1024


class TelegramNotConfigured(ConsularError):
    user_message = (
        "Telegram is not configured: set CONSULAR_TELEGRAM_BOT_TOKEN (the token from @BotFather)."
    )


class TelegramDeliveryError(DeliveryError):
    """An officer's reply could not be delivered to the Telegram chat (it stays stored)."""


def _token(settings: Settings) -> str:
    if settings.telegram_bot_token is None:
        raise TelegramNotConfigured()
    return settings.telegram_bot_token.get_secret_value()


def build_application(
    settings: Settings,
    assistant: Assistant,
    *,
    base_url: str | None = None,
    polling: bool = True,
    policy: RetryPolicy | None = None,
) -> Application:
    """The bot on the assistant's engine; ``polling=False`` for webhook mode (no Updater)."""
    builder = (
        Application.builder()
        .token(_token(settings))
        .base_url(base_url or settings.telegram_api_base_url)
    )
    if not polling:
        builder = builder.updater(None)
    application = builder.build()
    chats = TelegramStore(assistant.store.sessions)
    chats.prune_updates()
    handlers = ChatHandlers(
        assistant,
        chats,
        Messages.load(),
        settings.citizen_protection_hotline,
        policy or RetryPolicy(),
    )
    _register(application, handlers)
    return application


def _register(application: Application, handlers: ChatHandlers) -> None:
    # Personal data stays in one-to-one chats: groups get no answers. An edited message
    # is not a new question, so only new messages count.
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(TypeHandler(Update, handlers.claim), group=-1)
    application.add_handler(CommandHandler("start", handlers.start, filters=private))
    application.add_handler(CommandHandler("human", handlers.human, filters=private))
    application.add_handler(CommandHandler("hotline", handlers.hotline, filters=private))
    application.add_handler(CommandHandler("rate", handlers.feedback.rate_command, filters=private))
    application.add_handler(CommandHandler("skip", handlers.feedback.skip, filters=private))
    application.add_handler(
        CallbackQueryHandler(handlers.choose_language, pattern=f"^{LANGUAGE_CALLBACK}")
    )
    application.add_handler(
        CallbackQueryHandler(handlers.feedback.vote, pattern=f"^{VOTE_CALLBACK}")
    )
    application.add_handler(
        CallbackQueryHandler(handlers.feedback.score, pattern=f"^{RATE_CALLBACK}")
    )
    application.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, handlers.message)
    )
    application.add_handler(
        MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.not_text)
    )
    application.add_error_handler(handlers.on_error)


# -- webhook -----------------------------------------------------------------------------


class _LazyApplication:
    """Initialises the Application once, on the first update, inside the server's loop."""

    def __init__(self, application: Application) -> None:
        self.application = application
        self._lock = asyncio.Lock()
        self._initialized = False

    async def ready(self) -> Application:
        async with self._lock:
            if not self._initialized:
                await self.application.initialize()
                self._initialized = True
        return self.application

    async def shutdown(self) -> None:
        async with self._lock:
            if self._initialized:
                await self.application.shutdown()
                self._initialized = False


def _check_secret(expected: str, given: str | None) -> None:
    if given is None:
        raise HTTPException(401, detail=f"The {SECRET_HEADER} header is missing.")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, detail=f"The {SECRET_HEADER} header is wrong.")


async def _read_update(request: Request) -> dict:
    body = await request.body()
    if len(body) > MAX_UPDATE_BYTES:
        raise HTTPException(413, detail="The update is too large.")
    try:
        payload = json.loads(body)
    except ValueError:
        raise HTTPException(400, detail="The body is not JSON.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
        raise HTTPException(400, detail="The body is not a Telegram update (no update_id).")
    return payload


def webhook_router(
    settings: Settings, assistant: Assistant, *, base_url: str | None = None
) -> APIRouter:
    """``POST /telegram/webhook``: Telegram's updates, accepted with the right secret only."""
    if settings.telegram_webhook_secret is None:
        raise TelegramNotConfigured(
            "Telegram webhook mode needs CONSULAR_TELEGRAM_WEBHOOK_SECRET (16+ random characters)."
        )
    secret = settings.telegram_webhook_secret.get_secret_value()
    lazy = _LazyApplication(
        build_application(settings, assistant, base_url=base_url, polling=False)
    )
    chats = TelegramStore(assistant.store.sessions)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await lazy.shutdown()

    router = APIRouter(lifespan=lifespan)

    @router.post("/telegram/webhook", include_in_schema=False)
    async def telegram_webhook(
        request: Request,
        token: Annotated[str | None, Header(alias=SECRET_HEADER)] = None,
    ) -> dict:
        _check_secret(secret, token)
        payload = await _read_update(request)
        try:
            application = await lazy.ready()
        except TelegramError:
            log.exception("Telegram Bot API unreachable")
            raise HTTPException(
                503, detail="Telegram is unreachable; send the update again."
            ) from None
        try:
            update = Update.de_json(payload, application.bot)
        except (KeyError, TypeError, ValueError):
            raise HTTPException(400, detail="The body is not a Telegram update.") from None
        await application.process_update(update)
        if not await asyncio.to_thread(chats.is_claimed, payload["update_id"]):
            # Processing failed and released the update: a non-2xx makes Telegram resend it.
            raise HTTPException(500, detail="The update could not be processed; send it again.")
        return {"ok": True}

    return router


# -- officer replies ---------------------------------------------------------------------


class TelegramDelivery:
    """Sends an officer's reply to the conversation's chat (``channel_ref`` is the chat id)."""

    def __init__(self, bot: Bot, policy: RetryPolicy | None = None) -> None:
        self._bot = bot
        self._policy = policy or RetryPolicy()
        self._lock = asyncio.Lock()
        self._initialized = False

    async def deliver(self, conversation: ConversationRecord, text: str) -> None:
        if conversation.channel != "telegram" or not conversation.channel_ref:
            raise TelegramDeliveryError("This conversation is not a Telegram chat.")
        await self._ready()
        label = ui_text(conversation.language, "officer")
        try:
            await send_html(
                self._bot,
                conversation.channel_ref,
                escaped_pieces(f"{label}\n{text}"),
                self._policy,
            )
        except Forbidden:
            raise TelegramDeliveryError(
                "The citizen has blocked the bot or deleted the chat: the reply was not delivered."
            ) from None
        except TelegramError as error:
            log.warning("officer reply to Telegram failed: %s", error)
            raise TelegramDeliveryError() from error

    async def resolved(self, conversation: ConversationRecord) -> None:
        """The officer closed the conversation: tell the chat and ask for a 1-5 rating."""
        if conversation.channel != "telegram" or not conversation.channel_ref:
            raise TelegramDeliveryError("This conversation is not a Telegram chat.")
        await self._ready()
        lang = conversation.language
        question = f"{ui_text(lang, 'resolved')}\n\n{ui_text(lang, 'rate_question')}"
        try:
            await send_html(
                self._bot,
                conversation.channel_ref,
                escaped_pieces(question),
                self._policy,
                reply_markup=rating_keyboard(),
            )
        except TelegramError as error:
            log.warning("rating question to Telegram failed: %s", error)
            raise TelegramDeliveryError(
                "The conversation is resolved, but the chat could not be asked for a rating."
            ) from error

    async def _ready(self) -> None:
        async with self._lock:
            if not self._initialized:
                await self._bot.initialize()
                self._initialized = True

    async def aclose(self) -> None:
        if self._initialized:
            await self._bot.shutdown()
            self._initialized = False


def build_delivery(settings: Settings, *, policy: RetryPolicy | None = None) -> TelegramDelivery:
    """Officer replies for Telegram conversations, through the configured Bot API."""
    return TelegramDelivery(Bot(_token(settings), base_url=settings.telegram_api_base_url), policy)
