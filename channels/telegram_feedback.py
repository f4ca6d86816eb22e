"""Feedback on Telegram: 👍 / 👎 under each cited answer, the 1-5 rating (on /rate and when
an officer resolves the conversation) and the optional comment after it.

Callback data stays small (``fb:<message id>:<1|0>``, ``rt:<score>``): Telegram allows 64
bytes, and a conversation id (a bearer secret) never goes into a button. Every reply is
idempotent: pressing the same button again, or a redelivered update, changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.feedback import MAX_COMMENT_CHARS, AnswerNotFound, FeedbackStore, NoRatingYet
from bot.safety_checks import SafetyChecks
from bot.store import ConversationStore
from channels.telegram_format import escaped_pieces
from channels.telegram_send import RetryPolicy, call_with_retries, send_html
from channels.telegram_store import TelegramStore
from channels.telegram_texts import text
from consular.errors import ConversationNotFound

CHANNEL = "telegram"
VOTE_CALLBACK = "fb:"
RATE_CALLBACK = "rt:"
_VOTE = re.compile(r"^fb:(\d{1,18}):([01])$")
_SCORE = re.compile(r"^rt:([1-5])$")
HELPFUL, NOT_HELPFUL, CHOSEN = "👍", "👎", "✅"


def vote_keyboard(message_id: int, chosen: bool | None = None) -> InlineKeyboardMarkup:
    """👍 / 👎 for one answer; the chosen one is marked once the citizen has voted."""

    def label(symbol: str, helpful: bool) -> str:
        return f"{CHOSEN} {symbol}" if chosen is helpful else symbol

    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label(HELPFUL, True), callback_data=f"fb:{message_id}:1"),
                InlineKeyboardButton(label(NOT_HELPFUL, False), callback_data=f"fb:{message_id}:0"),
            ]
        ]
    )


def rating_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(n), callback_data=f"{RATE_CALLBACK}{n}") for n in range(1, 6)]]
    )


def parse_vote(data: str | None) -> tuple[int, bool] | None:
    match = _VOTE.match(data or "")
    return (int(match.group(1)), match.group(2) == "1") if match else None


def parse_score(data: str | None) -> int | None:
    match = _SCORE.match(data or "")
    return int(match.group(1)) if match else None


class FeedbackHandlers:
    """The votes, the rating and the comment; ``language`` is the chat's interface language."""

    def __init__(
        self,
        store: ConversationStore,
        chats: TelegramStore,
        feedback: FeedbackStore,
        language: Callable[[Update], Awaitable[str]],
        policy: RetryPolicy,
        safety: SafetyChecks | None = None,
    ) -> None:
        self._safety = safety
        self._store = store
        self._chats = chats
        self._feedback = feedback
        self._language = language
        self._policy = policy

    async def vote(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A press on 👍 or 👎: the vote is kept (a second press replaces it)."""
        query = update.callback_query
        lang = await self._language(update)
        parsed = parse_vote(query.data)
        if parsed is None:
            await self._answer(query, None)  # an old or forged button
            return
        message_id, helpful = parsed
        try:
            await asyncio.to_thread(
                self._feedback.rate_answer_in_chat, CHANNEL, _chat_ref(update), message_id, helpful
            )
        except (AnswerNotFound, ConversationNotFound):
            await self._answer(query, text(lang, "answer_gone"))
            return
        await self._answer(query, text(lang, "vote_thanks"))
        await self._quietly(
            lambda: query.edit_message_reply_markup(vote_keyboard(message_id, chosen=helpful))
        )

    async def rate_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/rate: the 1-5 question for the chat's conversation."""
        lang = await self._language(update)
        conversation = await asyncio.to_thread(
            self._store.find_by_channel_ref, CHANNEL, _chat_ref(update)
        )
        if conversation is None:
            await self._say(context, update, text(lang, "nothing_to_rate"))
            return
        await self._say(
            context, update, text(lang, "rate_question"), reply_markup=rating_keyboard()
        )

    async def score(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A press on 1-5: the rating is kept, and the next text message may comment on it."""
        query = update.callback_query
        lang = await self._language(update)
        score = parse_score(query.data)
        chat_ref = _chat_ref(update)
        conversation = await asyncio.to_thread(self._store.find_by_channel_ref, CHANNEL, chat_ref)
        if score is None or conversation is None:
            await self._answer(query, text(lang, "nothing_to_rate"))
            return
        await asyncio.to_thread(self._feedback.rate_conversation, conversation.id, score)
        await asyncio.to_thread(self._chats.await_comment, chat_ref, conversation.id)
        await self._answer(query, text(lang, "vote_thanks"))
        # The question becomes the thanks and the offer to comment (its buttons go away).
        await self._quietly(lambda: query.edit_message_text(text(lang, "rated", score=score)))

    async def skip(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/skip: no comment on the rating."""
        lang = await self._language(update)
        await asyncio.to_thread(self._chats.await_comment, _chat_ref(update), None)
        await self._say(context, update, text(lang, "comment_skipped"))

    async def take_comment(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """True when the text message was the comment the bot asked for (then it is not a
        question for the assistant).

        Only within COMMENT_WINDOW of the prompt, and never a message the safety checks
        find urgent or a request for a person: that one goes to the engine (hotline,
        urgent handoff) and the pending comment is dropped."""
        chat_ref = _chat_ref(update)
        conversation_id = await asyncio.to_thread(self._chats.comment_for, chat_ref)
        if conversation_id is None:  # none asked for, or asked too long ago
            return False
        comment = update.effective_message.text or ""
        if self._safety is not None:
            verdict = await asyncio.to_thread(self._safety.check, comment)
            if verdict.emergency or verdict.human_request:
                await asyncio.to_thread(self._chats.clear_comment, chat_ref)
                return False
        lang = await self._language(update)
        if len(comment.strip()) > MAX_COMMENT_CHARS:
            await self._say(
                context, update, text(lang, "comment_too_long", limit=MAX_COMMENT_CHARS)
            )
            return True
        try:
            await asyncio.to_thread(self._feedback.add_comment, conversation_id, comment)
        except (ConversationNotFound, NoRatingYet):
            # The conversation was erased meanwhile: the message is a question after all.
            await asyncio.to_thread(self._chats.await_comment, chat_ref, None)
            return False
        await asyncio.to_thread(self._chats.await_comment, chat_ref, None)
        await self._say(context, update, text(lang, "comment_thanks"))
        return True

    # -- helpers ---------------------------------------------------------------------

    async def _answer(self, query, notice: str | None) -> None:
        await call_with_retries(lambda: query.answer(notice), self._policy)

    async def _quietly(self, call: Callable[[], Awaitable[object]]) -> None:
        # "Message is not modified" when the same button is pressed again: nothing to do.
        with contextlib.suppress(BadRequest):
            await call_with_retries(call, self._policy)

    async def _say(
        self, context: ContextTypes.DEFAULT_TYPE, update: Update, plain: str, **extra: object
    ) -> None:
        await send_html(
            context.bot, update.effective_chat.id, escaped_pieces(plain), self._policy, **extra
        )


def _chat_ref(update: Update) -> str:
    return str(update.effective_chat.id)
