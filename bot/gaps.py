"""The knowledge-gaps report: what citizens asked that the knowledge base did not answer well.

A question (the citizen's message) is a gap for one or more reasons:

- ``low_confidence``: answered from a document, but with a confidence below the engine's
  "sure" threshold (the reply said it was unsure);
- ``no_answer``: no document was good enough, the assistant offered an officer instead;
- ``declined_consular``: turned away as out of scope, yet retrieval finds consular guidance
  for it when searched again now (manipulation attempts are never gaps);
- ``handoff_requested``: the citizen asked for an officer (when they accepted an offer, the
  question that led to the offer counts); ``handoff_offered``: an officer was offered for
  another reason (a long personal case). Urgent emergencies are not knowledge gaps;
- ``not_helpful``: the citizen rated the answer not helpful.

Every text is redacted before it leaves this module; anonymised conversations are skipped.
Grouping similar questions is in ``bot/gap_clusters.py``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from bot.engine import Thresholds
from bot.models import (
    TEST_CHANNELS,
    AnswerRating,
    AuditEntry,
    Conversation,
    HandoffEvent,
    Message,
    SafetyEvent,
)
from bot.redaction import redact
from consular.errors import ConsularError

GAP_REASONS = (
    "low_confidence",
    "no_answer",
    "declined_consular",
    "handoff_requested",
    "handoff_offered",
    "not_helpful",
)
# Handoff changes made on the citizen's side; an officer's own status changes are not gaps.
_CITIZEN_SIDE = frozenset({"user", "assistant"})
# Documents kept per question: what the assistant cited and the best few it retrieved.
_RETRIEVED_PER_QUESTION = 3
DEFAULT_OFFICER_REPLIES = 20
# The engine's reply key for an out-of-scope decline (stored in the reply's trace).
SCOPE_DECLINE = "decline_scope"
_COMMAND = re.compile(r"^/[A-Za-z_]+(?:@\w+)?\s*$")


class GapGroupNotFound(ConsularError):
    user_message = "This group of questions is no longer in the report: reload the page."


class OfficerReplyNotFound(ConsularError):
    user_message = "This officer reply does not exist (or its text was removed by retention)."


class Searcher(Protocol):
    """What the report needs from retrieval (``retrieval.search.HybridSearcher``)."""

    def search(self, query: str, lang: str | None = None, k: int = 5) -> Any: ...


@dataclass(frozen=True, slots=True)
class GapFilters:
    """Which questions the report covers; None means no limit."""

    since: datetime | None = None
    until: datetime | None = None
    language: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.reason is not None and self.reason not in GAP_REASONS:
            raise ValueError(f"unknown reason {self.reason!r}; expected one of {GAP_REASONS}")

    def admits(self, question: GapQuestion) -> bool:
        return (
            (self.since is None or question.asked_at >= self.since)
            and (self.until is None or question.asked_at < self.until)
            and (self.language is None or question.language == self.language)
            and (self.reason is None or self.reason in question.reasons)
        )


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """A document the assistant cited or retrieved for a question."""

    doc_id: str
    lang: str
    title: str


@dataclass(frozen=True, slots=True)
class GapQuestion:
    """One citizen question the knowledge base did not answer well; ``text`` is redacted."""

    message_id: int
    conversation_id: str
    language: str
    text: str
    asked_at: datetime
    reasons: tuple[str, ...]
    documents: tuple[DocumentRef, ...] = ()
    # What grouping embeds: the text as retrieval prepared it (diacritics restored,
    # abbreviations expanded), redacted; the question itself when no trace has it.
    search_text: str = ""


@dataclass(frozen=True, slots=True)
class OfficerReply:
    """An officer's reply and the citizen's question it answered (both redacted)."""

    message_id: int
    conversation_id: str
    officer: str | None
    language: str | None
    question: str | None
    reply: str
    created_at: datetime
    cited: DocumentRef | None
    topic_doc_id: str | None


@dataclass
class _Conversation:
    """One conversation's rows, as loaded for the report."""

    row: Conversation
    messages: list[Message] = field(default_factory=list)
    handoffs: list[HandoffEvent] = field(default_factory=list)
    safety: list[SafetyEvent] = field(default_factory=list)


@dataclass
class _Draft:
    """A question being collected: its reasons and documents so far."""

    message: Message
    language: str
    search_text: str | None = None
    reasons: list[str] = field(default_factory=list)
    documents: list[DocumentRef] = field(default_factory=list)

    def add(self, reason: str, documents: Iterable[DocumentRef] = ()) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)
        for doc in documents:
            if doc not in self.documents:
                self.documents.append(doc)


class GapCollector:
    """Finds the gap questions in the conversation database."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        searcher: Searcher | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self._sessions = sessions
        # Without a searcher, out-of-scope declines cannot be told apart and are left out.
        self._searcher = searcher
        self._thresholds = thresholds or Thresholds()

    def questions(self, filters: GapFilters | None = None) -> list[GapQuestion]:
        """Every gap question that passes the filters, oldest first."""
        filters = filters or GapFilters()
        ids = self._conversation_ids(filters)
        conversations = self._load(ids)
        ratings = self._unhelpful(ids)
        found: list[GapQuestion] = []
        for conversation in conversations.values():
            for draft in self._conversation_gaps(conversation, ratings):
                question = _finish(draft, conversation.row.id)
                if filters.admits(question):
                    found.append(question)
        return sorted(found, key=lambda q: (q.asked_at, q.message_id))

    # -- loading -------------------------------------------------------------------------

    @staticmethod
    def _conversation_ids(filters: GapFilters) -> Select:
        """Conversations with a citizen message in the date range, not anonymised, not
        a staff test or an evaluation run (TEST_CHANNELS)."""
        asked = select(Message.conversation_id).where(Message.role == "user")
        if filters.since is not None:
            asked = asked.where(Message.created_at >= filters.since)
        if filters.until is not None:
            asked = asked.where(Message.created_at < filters.until)
        return select(Conversation.id).where(
            Conversation.id.in_(asked),
            Conversation.anonymised_at.is_(None),
            Conversation.channel.not_in(TEST_CHANNELS),
        )

    def _load(self, ids: Select) -> dict[str, _Conversation]:
        """Those conversations whole (earlier messages are needed to find the question
        behind an accepted offer), with their handoff and safety events."""
        loaded: dict[str, _Conversation] = {}
        with self._sessions() as session:
            for row in session.scalars(select(Conversation).where(Conversation.id.in_(ids))):
                loaded[row.id] = _Conversation(row)
            related = (
                (Message, lambda c: c.messages),
                (HandoffEvent, lambda c: c.handoffs),
                (SafetyEvent, lambda c: c.safety),
            )
            for model, target in related:
                query = select(model).where(model.conversation_id.in_(ids)).order_by(model.id)
                for item in session.scalars(query):
                    target(loaded[item.conversation_id]).append(item)
            session.expunge_all()
        return loaded

    def _unhelpful(self, ids: Select) -> set[int]:
        """Ids of the assistant messages rated not helpful."""
        with self._sessions() as session:
            query = select(AnswerRating.message_id).where(
                AnswerRating.helpful.is_(False), AnswerRating.conversation_id.in_(ids)
            )
            return set(session.scalars(query))

    # -- deciding ------------------------------------------------------------------------

    def _conversation_gaps(self, conversation: _Conversation, unhelpful: set[int]) -> list[_Draft]:
        turns = _turns(conversation)
        drafts: dict[int, _Draft] = {}

        def draft_for(turn: _Turn) -> _Draft:
            key = turn.question.id
            if key not in drafts:
                drafts[key] = _Draft(
                    turn.question, _language(turn, conversation.row), _prepared_text(turn.reply)
                )
            return drafts[key]

        for index, turn in enumerate(turns):
            if turn.has_handoff("urgent"):
                continue  # an emergency: the hotline and an officer, not a knowledge gap
            requested = turn.handoff("requested")
            if requested is not None:
                origin = _offer_origin(turns, index) if requested.from_status == "offered" else turn
                draft_for(origin).add("handoff_requested", origin.documents())
            elif turn.reply is not None:
                self._judge_reply(turn, draft_for)
            if turn.reply is not None and turn.reply.id in unhelpful:
                draft_for(turn).add("not_helpful", turn.documents())
            if turn.has_handoff("offered") and turn.question.id not in drafts:
                draft_for(turn).add("handoff_offered", turn.documents())
        return [d for d in drafts.values() if d.reasons]

    def _judge_reply(self, turn: _Turn, draft_for) -> None:
        reply = turn.reply
        if reply.declined:
            if _is_manipulation_decline(turn):
                return
            match = self._consular_match(turn)
            if match is not None:
                draft = draft_for(turn)
                draft.add("declined_consular", match[0])
                draft.search_text = match[1]
            return
        if not reply.citations:
            draft_for(turn).add("no_answer", turn.documents())
        elif (reply.confidence or 0.0) < self._thresholds.sure:
            draft_for(turn).add("low_confidence", turn.documents())

    def _consular_match(self, turn: _Turn) -> tuple[list[DocumentRef], str | None] | None:
        """The guidance found for a declined question now (and the prepared query), when
        it is good enough to have answered from; None when it still looks out of scope."""
        if self._searcher is None:
            return None
        lang = turn.reply.language if turn.reply is not None else None
        response = self._searcher.search(turn.question.text, lang=lang, k=_RETRIEVED_PER_QUESTION)
        if not response.results or response.confidence < self._thresholds.answer:
            return None
        prepared = getattr(response, "prepared", None)
        documents = [DocumentRef(r.doc_id, r.lang, r.title) for r in response.results]
        return documents, getattr(prepared, "dense", None)


@dataclass
class _Turn:
    """A citizen message, the assistant's reply to it (if any), and what happened until
    the next citizen message."""

    question: Message
    reply: Message | None
    handoffs: list[HandoffEvent]
    safety: list[SafetyEvent]

    def handoff(self, status: str) -> HandoffEvent | None:
        return next((e for e in self.handoffs if e.to_status == status), None)

    def has_handoff(self, status: str) -> bool:
        return self.handoff(status) is not None

    def documents(self) -> list[DocumentRef]:
        return documents_of(self.reply) if self.reply is not None else []


def _turns(conversation: _Conversation) -> list[_Turn]:
    """The conversation cut at each citizen message. Events belong to the last citizen
    message at or before them (the engine stores the question first, then decides)."""
    messages = conversation.messages
    questions = [i for i, m in enumerate(messages) if m.role == "user" and not _is_command(m)]
    turns = []
    for n, position in enumerate(questions):
        question = messages[position]
        following = messages[position + 1] if position + 1 < len(messages) else None
        reply = following if following is not None and following.role == "assistant" else None
        end = messages[questions[n + 1]].created_at if n + 1 < len(questions) else None

        def within(event, start=question.created_at, end=end) -> bool:
            return event.created_at >= start and (end is None or event.created_at < end)

        handoffs = [e for e in conversation.handoffs if e.actor in _CITIZEN_SIDE and within(e)]
        safety = [e for e in conversation.safety if within(e)]
        turns.append(_Turn(question, reply, handoffs, safety))
    return turns


def _is_manipulation_decline(turn: _Turn) -> bool:
    """The engine's trace names the decline ("decline_manipulation" or "decline_scope");
    replies stored before it did count as manipulation when a safety event was logged
    for the question."""
    trace = turn.reply.trace if turn.reply is not None else None
    key = trace.get("decline") if isinstance(trace, dict) else None
    if key is not None:
        return key != SCOPE_DECLINE
    return bool(turn.safety)


def _is_command(message: Message) -> bool:
    """A chat command ("/human" on Telegram) is not a question; its handoff belongs to
    the question before it."""
    return _COMMAND.match(message.text or "") is not None


def _offer_origin(turns: list[_Turn], index: int) -> _Turn:
    """The turn whose question led to the offer the citizen accepted at ``turns[index]``."""
    for earlier in reversed(turns[:index]):
        if earlier.has_handoff("offered"):
            return earlier
    return turns[index]


def _language(turn: _Turn, conversation: Conversation) -> str:
    """The reply's language (the citizen's, when the assistant writes it), else the
    conversation's."""
    if turn.reply is not None and turn.reply.language:
        return turn.reply.language
    return conversation.language or "und"


def documents_of(message: Message) -> list[DocumentRef]:
    """What the assistant cited, then the best documents it retrieved, without repeats."""
    found: list[DocumentRef] = []
    hits = message.trace.get("results", []) if isinstance(message.trace, dict) else []
    for item in [*(message.citations or []), *hits[:_RETRIEVED_PER_QUESTION]]:
        if not isinstance(item, dict) or not item.get("doc_id"):
            continue
        doc = DocumentRef(
            str(item["doc_id"]), str(item.get("lang") or ""), str(item.get("title") or "")
        )
        if doc not in found:
            found.append(doc)
    return found


def _prepared_text(reply: Message | None) -> str | None:
    """The dense query text retrieval embedded for the question (from the reply's trace)."""
    trace = reply.trace if reply is not None else None
    normalized = trace.get("normalized") if isinstance(trace, dict) else None
    dense = normalized.get("dense") if isinstance(normalized, dict) else None
    return dense if isinstance(dense, str) and dense.strip() else None


def _finish(draft: _Draft, conversation_id: str) -> GapQuestion:
    reasons = tuple(r for r in GAP_REASONS if r in draft.reasons)
    text = redact(draft.message.text)
    return GapQuestion(
        message_id=draft.message.id,
        conversation_id=conversation_id,
        language=draft.language,
        text=text,
        asked_at=draft.message.created_at,
        reasons=reasons,
        documents=tuple(draft.documents),
        search_text=redact(draft.search_text) if draft.search_text else text,
    )


# -- officer replies ---------------------------------------------------------------------


class OfficerReplies:
    """Officers' replies to escalated conversations, as starting points for guidance."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def recent(self, limit: int = DEFAULT_OFFICER_REPLIES) -> list[OfficerReply]:
        """The newest officer replies (anonymised conversations left out), newest first."""
        with self._sessions() as session:
            rows = session.scalars(
                select(Message)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.role == "officer", Conversation.anonymised_at.is_(None))
                .order_by(Message.id.desc())
                .limit(limit)
            ).all()
            return [self._reply(session, row) for row in rows]

    def get(self, message_id: int, conversation_id: str | None = None) -> OfficerReply:
        """One officer reply, by its (global) message id; when ``conversation_id`` is given
        the reply must belong to that conversation. OfficerReplyNotFound otherwise.

        Content editors look replies up by message id only: a conversation id is the
        citizen's bearer credential and is never shown to them."""
        with self._sessions() as session:
            row = session.get(Message, message_id)
            conversation = session.get(Conversation, row.conversation_id) if row else None
            if (
                row is None
                or conversation is None
                or (conversation_id is not None and row.conversation_id != conversation_id)
                or row.role != "officer"
                or conversation.anonymised_at is not None
            ):
                raise OfficerReplyNotFound()
            return self._reply(session, row)

    def _reply(self, session: Session, row: Message) -> OfficerReply:
        conversation = session.get(Conversation, row.conversation_id)
        before = _Conversation(conversation)
        before.messages = list(
            session.scalars(
                select(Message)
                .where(Message.conversation_id == row.conversation_id, Message.id < row.id)
                .order_by(Message.id)
            )
        )
        before.handoffs = list(
            session.scalars(
                select(HandoffEvent)
                .where(HandoffEvent.conversation_id == row.conversation_id)
                .where(HandoffEvent.created_at <= row.created_at)
                .order_by(HandoffEvent.id)
            )
        )
        turn = _answered_turn(_turns(before))
        return OfficerReply(
            message_id=row.id,
            conversation_id=row.conversation_id,
            officer=_reply_author(session, row),
            language=row.language or conversation.language,
            question=redact(turn.question.text) if turn is not None else None,
            reply=redact(row.text),
            created_at=row.created_at,
            cited=_cited(before.messages, turn),
            topic_doc_id=conversation.topic_doc_id,
        )


def _answered_turn(turns: list[_Turn]) -> _Turn | None:
    """The question the officer answered: the latest citizen message that was not itself
    the request for an officer ("yes", "I want to speak to someone"), else the latest."""
    for turn in reversed(turns):
        if not turn.has_handoff("requested"):
            return turn
    return turns[-1] if turns else None


def _cited(messages: list[Message], turn: _Turn | None) -> DocumentRef | None:
    """The guidance the assistant cited for that question, else the latest it cited."""
    if turn is not None and turn.reply is not None and turn.reply.citations:
        found = next(iter(documents_of(turn.reply)), None)
        if found is not None:
            return found
    cited = [m for m in messages if m.role == "assistant" and m.citations]
    return next(iter(documents_of(cited[-1])), None) if cited else None


def _reply_author(session: Session, row: Message) -> str | None:
    """Who sent the reply: the console's audit entry for it (messages carry no author)."""
    return session.scalars(
        select(AuditEntry.actor).where(
            AuditEntry.action == "reply",
            AuditEntry.conversation_id == row.conversation_id,
            AuditEntry.detail == f"message {row.id}",
        )
    ).first()


def group_by_language(questions: Iterable[GapQuestion]) -> dict[str, list[GapQuestion]]:
    grouped: dict[str, list[GapQuestion]] = defaultdict(list)
    for question in questions:
        grouped[question.language].append(question)
    return dict(grouped)
