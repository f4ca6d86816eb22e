"""Thin async handlers: translate Telegram updates to engine calls and replies back.

The engine and the store are synchronous (SQLAlchemy, model inference), so every call
into them goes through ``asyncio.to_thread`` and the event loop keeps serving updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.assembly import Assistant
from bot.composer import Messages
from bot.engine import MAX_MESSAGE_CHARS, InvalidMessageError
from bot.feedback import FeedbackStore
from bot.store import ConversationRecord
from channels.telegram_feedback import FeedbackHandlers, vote_keyboard
from channels.telegram_format import escaped_pieces, format_reply
from channels.telegram_send import RetryPolicy, call_with_retries, send_html
from channels.telegram_store import TelegramStore
from channels.telegram_texts import LANGUAGE_BUTTONS, LANGUAGES, interface_language, text

log = logging.getLogger(__name__)
CHANNEL = "telegram"
LANGUAGE_CALLBACK = "lang:"


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(LANGUAGE_BUTTONS[lang], callback_data=LANGUAGE_CALLBACK + lang)
                for lang in LANGUAGES
            ]
        ]
    )


class ChatHandlers:
    """One method per command; the collaborators come in through the constructor."""

    def __init__(
        self,
        assistant: Assistant,
        chats: TelegramStore,
        messages: Messages,
        hotline: str,
        policy: RetryPolicy,
        feedback: FeedbackStore | None = None,
    ) -> None:
        self._assistant = assistant
        self._store = assistant.store
        self._chats = chats
        self._messages = messages
        self._hotline = hotline
        self._policy = policy
        self.feedback = FeedbackHandlers(
            assistant.store,
            chats,
            feedback or FeedbackStore(assistant.store.sessions),
            self._language,
            policy,
            assistant.engine.safety,
        )

    # -- once per update -------------------------------------------------------------

    async def claim(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Group -1: a redelivered update_id stops here, before any handler sees it."""
        if not await asyncio.to_thread(self._chats.claim_update, update.update_id):
            log.info("Telegram update %d was processed before; skipped", update.update_id)
            raise ApplicationHandlerStop
        message = update.message  # a citizen's new message, not a button under the bot's
        if update.effective_chat is not None and message is not None and _is_command(message):
            # Any command (/start, /human, /rate, /hotline, /skip...) ends the wait for a
            # comment: the text after it is a new question, never the comment.
            await asyncio.to_thread(self._chats.clear_comment, _chat_ref(update))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the traceback (redacted by the log filter), free the update, apologise."""
        log.error("Telegram update failed", exc_info=context.error)
        if not isinstance(update, Update):
            return
        await asyncio.to_thread(self._chats.release_update, update.update_id)
        if update.effective_chat is None:
            return
        lang = await self._language(update)
        try:
            await update.effective_chat.send_message(text(lang, "error", hotline=self._hotline))
        except TelegramError:
            log.warning("could not tell chat about the failure either")

    # -- commands --------------------------------------------------------------------

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        lang = await self._language(update)
        await self._say(
            update,
            context,
            text(lang, "welcome", hotline=self._hotline),
            reply_markup=language_keyboard(),
        )

    async def choose_language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        lang = query.data.removeprefix(LANGUAGE_CALLBACK)
        await call_with_retries(query.answer, self._policy)
        if lang not in LANGUAGES:
            return  # an old or forged button: nothing to store
        await asyncio.to_thread(self._remember_language, _chat_ref(update), lang)
        # Plain text (no parse mode): nothing in it can become markup.
        await call_with_retries(
            lambda: query.edit_message_text(text(lang, "language_set")), self._policy
        )

    async def human(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        lang = await self._language(update)
        reply = await asyncio.to_thread(
            self._queue_for_officer, _chat_ref(update), update.update_id, lang
        )
        await self._say(update, context, reply)

    async def hotline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        conversation = await self._conversation(update)
        lang = await self._language(update, conversation)
        lines = [text(lang, "hotline", hotline=self._hotline)]
        mission_id = conversation.mission_id if conversation else None
        mission = self._assistant.knowledge.missions.get(mission_id) if mission_id else None
        if mission is not None:
            name = mission.name.get(interface_language(lang))
            lines.append(
                text(
                    lang, "hotline_mission", mission=name, mission_hotline=mission.emergency_hotline
                )
            )
        await self._say(update, context, "\n".join(lines))

    async def message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A question: the engine answers it, idempotently per update_id. After a rating,
        the next text message is its comment instead."""
        if await self.feedback.take_comment(update, context):
            return
        chat_ref = _chat_ref(update)
        conversation = await self._conversation(update)
        chosen = await asyncio.to_thread(self._chats.chosen_language, chat_ref)
        await self._typing(update)
        try:
            result = await asyncio.to_thread(
                self._assistant.engine.handle,
                update.effective_message.text,
                conversation.id if conversation else None,
                chosen,
                channel=CHANNEL,
                channel_ref=chat_ref,
                client_ref=f"tg:{update.update_id}",
            )
        except InvalidMessageError:
            lang = await self._language(update, conversation)
            await self._say(update, context, text(lang, "invalid", limit=MAX_MESSAGE_CHARS))
            return
        if result.reply is None:
            return  # an officer holds the conversation: the assistant stays silent
        # A cited answer asks "was this helpful?" (declines and safety replies do not).
        extra = (
            {"reply_markup": vote_keyboard(result.message_id)}
            if result.reply.citations and result.message_id is not None
            else {}
        )
        await send_html(
            context.bot,
            update.effective_chat.id,
            format_reply(result.reply, self._messages),
            self._policy,
            **extra,
        )

    async def not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._say(update, context, text(await self._language(update), "not_text"))

    # -- helpers ---------------------------------------------------------------------

    async def _say(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, plain: str, **extra: object
    ) -> None:
        await send_html(
            context.bot, update.effective_chat.id, escaped_pieces(plain), self._policy, **extra
        )

    async def _typing(self, update: Update) -> None:
        # Only a courtesy while the engine works: a failure here must not cost the answer.
        with contextlib.suppress(TelegramError):
            await update.effective_chat.send_chat_action(ChatAction.TYPING)

    async def _conversation(self, update: Update) -> ConversationRecord | None:
        return await asyncio.to_thread(self._store.find_by_channel_ref, CHANNEL, _chat_ref(update))

    async def _language(
        self, update: Update, conversation: ConversationRecord | None = None
    ) -> str:
        """Chosen with /start, else the conversation's, else the Telegram app's language."""
        chosen = await asyncio.to_thread(self._chats.chosen_language, _chat_ref(update))
        if chosen:
            return chosen
        conversation = conversation or await self._conversation(update)
        if conversation and conversation.language:
            return conversation.language
        user = update.effective_user
        code = (user.language_code or "").split("-")[0] if user else ""
        return code if code in LANGUAGES else "vi"

    def _remember_language(self, chat_ref: str, lang: str) -> None:
        self._chats.choose_language(chat_ref, lang)
        conversation = self._store.find_by_channel_ref(CHANNEL, chat_ref)
        if conversation is not None:
            self._store.update_context(conversation.id, language=lang)

    def _queue_for_officer(self, chat_ref: str, update_id: int, lang: str) -> str:
        conversation = self._store.find_by_channel_ref(
            CHANNEL, chat_ref
        ) or self._store.create_conversation(CHANNEL, language=lang, channel_ref=chat_ref)
        self._store.add_message(conversation.id, "user", "/human", client_ref=f"tg:{update_id}")
        self._store.set_handoff(
            conversation.id, "requested", "asked for an officer (/human)", "user"
        )
        reply_lang = self._messages.reply_language(lang)
        reply = self._messages.get(reply_lang, "human_request", hotline=self._hotline)
        self._store.add_message(conversation.id, "assistant", reply, language=reply_lang)
        return reply


def _chat_ref(update: Update) -> str:
    return str(update.effective_chat.id)


def _is_command(message: object) -> bool:
    return (getattr(message, "text", None) or "").startswith("/")
