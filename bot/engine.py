"""The conversation engine: a citizen's message in, a grounded reply or a human out.

One engine serves every channel (CLI, HTTP, Telegram, evals). Each user message is
committed before anything else happens; emergencies are recognised before retrieval;
the assistant answers only from published guidance, and says so when it is unsure.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from bot.composer import AnswerComposer, Citation
from bot.generative import GenerativeAnswerer
from bot.intents import Intent, question_intents
from bot.places import MissionMatcher
from bot.safety import SafetyVerdict
from bot.safety_checks import SafetyChecks
from bot.store import ConversationRecord, ConversationStore, MessageRecord
from consular.errors import ConsularError
from knowledge.base import KnowledgeBase
from knowledge.missions import Mission
from knowledge.model import GuidanceDocument
from retrieval.search import HybridSearcher, SearchResponse
from retrieval.textnorm import SPACELESS_SCRIPT, words

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
# The guidance an emergency reply cites, by kind: the hotline comes first in any case.
EMERGENCY_DOCS = {
    "war": "crisis-evacuation",
    "disaster": "crisis-evacuation",
    "death": "death-registration",
}
EMERGENCY_DOC = "citizen-protection"
EMERGENCY_DOC_IDS = frozenset({EMERGENCY_DOC, *EMERGENCY_DOCS.values()})


class InvalidMessageError(ConsularError):
    """A message that is empty or too long."""


@dataclass(frozen=True)
class Thresholds:
    """Confidence cut-offs, chosen on conversation_dev.jsonl (see evals/README.md)."""

    answer: float = 0.55
    sure: float = 0.7  # below it the answer says so and offers an officer
    follow_up_words: int = 12
    personal_case_words: int = 25
    topic_change: float = 0.85


@dataclass(frozen=True)
class Reply:
    text: str
    language: str
    citations: list[Citation]
    confidence: float
    declined: bool


@dataclass(frozen=True)
class EngineResult:
    """What a channel needs: the reply (None while an officer handles it) and the handoff."""

    conversation_id: str
    reply: Reply | None
    handoff_status: str
    handoff_reason: str | None
    trace: dict = field(default_factory=dict)
    # The stored assistant message: channels use it to attach "was this helpful?".
    message_id: int | None = None

    def to_api(self) -> dict:
        """The JSON body of ``POST /api/v1/chat`` (../shared/spec/chat-api.md)."""
        reply = None
        if self.reply:
            reply = {**asdict(self.reply), "confidence": round(self.reply.confidence, 4)}
        return {
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "reply": reply,
            "handoff": {"status": self.handoff_status, "reason": self.handoff_reason},
        }


def validate_message(message: str) -> str:
    text = (message or "").strip()
    if not text:
        raise InvalidMessageError("The message is empty: type a question.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidMessageError(
            f"The message is too long ({len(text)} characters; at most {MAX_MESSAGE_CHARS})."
        )
    return text


@dataclass(frozen=True)
class KnowledgeView:
    """What one message is answered from: the searcher and the published documents of
    the same moment. Swapped whole on publish, so a message never mixes two versions."""

    searcher: HybridSearcher
    knowledge: KnowledgeBase
    published: dict[tuple[str, str], GuidanceDocument]

    @classmethod
    def of(cls, searcher: HybridSearcher, knowledge: KnowledgeBase) -> KnowledgeView:
        return cls(searcher, knowledge, {(d.id, d.lang): d for d in knowledge.published()})

    def has(self, doc_id: str) -> bool:
        """Whether some language version of ``doc_id`` is published."""
        return any(i == doc_id for i, _ in self.published)


class ConversationEngine:
    """Turns messages into replies; every collaborator comes in through the constructor."""

    def __init__(
        self,
        *,
        searcher: HybridSearcher,
        knowledge: KnowledgeBase,
        store: ConversationStore,
        safety: SafetyChecks,
        composer: AnswerComposer,
        missions: MissionMatcher,
        hotline: str,
        thresholds: Thresholds | None = None,
        generator: GenerativeAnswerer | None = None,
    ) -> None:
        self._view = KnowledgeView.of(searcher, knowledge)
        self._store = store
        self._safety = safety
        self._composer = composer
        self._messages = composer.messages
        self._missions = missions
        self._directory = knowledge.missions
        self._hotline = hotline
        self._thresholds = thresholds or Thresholds()
        self._generator = generator

    @property
    def safety(self) -> SafetyChecks:
        """The safety checks the engine runs on every message (channels reuse them)."""
        return self._safety

    @property
    def searcher(self) -> HybridSearcher:
        """The searcher of the current knowledge view (it changes on publish)."""
        return self._view.searcher

    @property
    def knowledge(self) -> KnowledgeBase:
        """The published documents answered from now (they change on publish)."""
        return self._view.knowledge

    def use_knowledge(self, searcher: HybridSearcher, knowledge: KnowledgeBase) -> None:
        """Answer from now on from ``knowledge`` (after a publish or retire); messages
        already being answered finish on the view they started with."""
        self._view = KnowledgeView.of(searcher, knowledge)

    # -- entry point -------------------------------------------------------------------

    def handle(
        self,
        message: str,
        conversation_id: str | None = None,
        language: str | None = None,
        *,
        channel: str = "api",
        channel_ref: str | None = None,
        client_ref: str | None = None,
    ) -> EngineResult:
        """Persist the message, decide, persist the reply, return both."""
        text = validate_message(message)
        if conversation_id:
            conversation = self._store.get_conversation(conversation_id)
        else:
            conversation = self._store.create_conversation(
                channel, language=language, channel_ref=channel_ref
            )
        user_message = self._store.add_message(conversation.id, "user", text, client_ref=client_ref)
        earlier = self._reply_already_given(conversation.id, user_message)
        if earlier is not None:
            return earlier
        if conversation.claimed_by:
            # An officer has the conversation: the assistant stays silent until handed back.
            return EngineResult(
                conversation.id, None, conversation.handoff_status, conversation.handoff_reason
            )
        return self._respond(self._view, conversation, text, language)

    # -- decisions ---------------------------------------------------------------------

    def _respond(
        self,
        view: KnowledgeView,
        conversation: ConversationRecord,
        text: str,
        language: str | None,
    ) -> EngineResult:
        lang = language or self._detect_language(view, text, conversation)
        reply_lang = self._messages.reply_language(lang)
        verdict = self._safety.check(text, follow_up=self._is_follow_up(conversation, text))
        mission = self._missions.find(text) or self._directory.get(conversation.mission_id or "")
        self._store.update_context(
            conversation.id, language=lang, mission_id=mission.id if mission else None
        )

        if verdict.emergency:
            return self._emergency(view, conversation, lang, reply_lang, verdict, mission)
        if verdict.manipulation:
            self._store.log_safety_event(conversation.id, verdict.manipulation, text)
            log.warning("declined manipulation attempt: %s", verdict.reason)
            return self._decline(conversation, reply_lang, "decline_manipulation")
        if verdict.human_request or (
            verdict.affirmative and conversation.handoff_status == "offered"
        ):
            return self._to_officer(view, conversation, text, lang, reply_lang, verdict)
        if verdict.out_of_scope:
            return self._decline(conversation, reply_lang, "decline_scope")
        return self._answer(view, conversation, text, lang, reply_lang, mission)

    def _emergency(self, view, conversation, lang, reply_lang, verdict: SafetyVerdict, mission):
        if mission:
            alert = self._messages.get(
                reply_lang,
                "emergency_mission",
                mission=mission.name.get(reply_lang),
                mission_hotline=mission.emergency_hotline,
                hotline=self._hotline,
            )
        else:
            alert = self._messages.get(reply_lang, "emergency", hotline=self._hotline)
        # No retrieval here: the reply must not wait, and the kind says which guidance applies.
        doc = self._version(view, EMERGENCY_DOCS.get(verdict.emergency, EMERGENCY_DOC), lang, None)
        parts = [alert]
        if mission:
            parts.append(self._composer.mission_details(mission, reply_lang))
        # The hotline goes out even when the guidance it cites has been withdrawn.
        citations = [Citation.of(doc)] if doc else []
        if citations:
            parts.append(self._composer.source_line(citations[0], reply_lang))
        reason = f"emergency: {verdict.emergency}"
        self._store.set_handoff(conversation.id, "urgent", reason, "assistant")
        reply = Reply("\n\n".join(parts), reply_lang, citations, 1.0, False)
        return self._finish(conversation, reply, None, doc.id if doc else None)

    def _to_officer(self, view, conversation, text, lang, reply_lang, verdict: SafetyVerdict):
        reason = (
            "accepted the offer of an officer"
            if not verdict.human_request
            else "asked for an officer"
        )
        record = self._store.set_handoff(conversation.id, "requested", reason, "user")
        parts = [self._messages.get(reply_lang, "human_request", hotline=self._hotline)]
        citations: list[Citation] = []
        response = None
        if verdict.human_request:
            # "I'd like an officer about renouncing my nationality": point to the guidance too.
            response = view.searcher.search(self._retrieval_text(text), lang=lang, k=1)
            if response.results and response.confidence >= self._thresholds.answer:
                doc = self._version(view, response.results[0].doc_id, lang, response)
                if doc:
                    citations = [Citation.of(doc)]
                    parts.append(self._composer.source_line(citations[0], reply_lang))
        confidence = response.confidence if citations else 0.0
        reply = Reply("\n\n".join(parts), reply_lang, citations, confidence, False)
        message_id = self._save_reply(conversation.id, reply, response)
        return EngineResult(
            conversation.id,
            reply,
            record.handoff_status,
            record.handoff_reason,
            message_id=message_id,
        )

    def _decline(self, conversation, reply_lang, key: str):
        reply = Reply(self._messages.get(reply_lang, key), reply_lang, [], 0.0, True)
        # The trace says which decline it was: the knowledge-gaps report looks at scope ones.
        message_id = self._save_reply(conversation.id, reply, None, trace={"decline": key})
        current = self._store.get_conversation(conversation.id)
        return EngineResult(
            conversation.id,
            reply,
            current.handoff_status,
            current.handoff_reason,
            message_id=message_id,
        )

    def _answer(self, view, conversation, text, lang, reply_lang, mission: Mission | None):
        response = view.searcher.search(self._retrieval_text(text), lang=lang, k=3)
        doc_id, confidence = self._topic(view, conversation, text, response)
        doc = self._version(view, doc_id, lang, response) if doc_id else None
        if doc is None or confidence < self._thresholds.answer:
            record = self._store.set_handoff(
                conversation.id, "offered", "low confidence", "assistant"
            )
            reply = Reply(
                self._messages.get(reply_lang, "offer"), reply_lang, [], confidence, False
            )
            message_id = self._save_reply(conversation.id, reply, response)
            return EngineResult(
                conversation.id,
                reply,
                record.handoff_status,
                record.handoff_reason,
                response.to_dict(),
                message_id,
            )
        generated = self._generator.answer(text, lang, response) if self._generator else None
        cited = (
            [self._version(view, d, lang, response) for d in generated.doc_ids] if generated else []
        )
        if generated and all(cited):
            reply = Reply(
                generated.text, reply_lang, [Citation.of(d) for d in cited], confidence, False
            )
            return self._finish(conversation, reply, response, cited[0].id)
        headings = next((h.sections for h in response.results if h.doc_id == doc_id), [])
        body = self._composer.answer(text, doc, lang, [s.heading for s in headings], mission)
        if confidence < self._thresholds.sure:
            body += "\n\n" + self._messages.get(reply_lang, "uncertain")
            self._store.set_handoff(conversation.id, "offered", "uncertain answer", "assistant")
        elif self._is_personal_case(text):
            # General guidance rarely settles a long personal story: offer the officer too.
            body += "\n\n" + self._messages.get(reply_lang, "personal_case")
            self._store.set_handoff(conversation.id, "offered", "personal case", "assistant")
        reply = Reply(body, reply_lang, [Citation.of(doc)], confidence, False)
        return self._finish(conversation, reply, response, doc.id)

    # -- helpers -----------------------------------------------------------------------

    def _retrieval_text(self, text: str) -> str:
        """ "Lost my passport in Osaka" is about a lost passport; Osaka only picks the mission.

        Place names are kept when the question asks for a mission's contact details.
        """
        if Intent.CONTACT in question_intents(text):
            return text
        stripped = self._missions.without_places(text)
        return stripped if len(words(stripped)) >= 2 else text

    def _topic(
        self, view: KnowledgeView, conversation, text: str, response: SearchResponse
    ) -> tuple[str | None, float]:
        """The procedure this message is about: its own best match, or the conversation's topic.

        "how much does it cost?" after "I lost my passport in Osaka" has no topic of its own;
        it continues the previous one unless it clearly names another procedure.
        """
        best = response.results[0].doc_id if response.results else None
        topic = conversation.topic_doc_id
        if topic and not view.has(topic):
            return best, response.confidence  # withdrawn since: nothing left to continue
        if self._is_follow_up(conversation, text) and best != topic:
            names_new_topic = (
                response.confidence >= self._thresholds.topic_change and not question_intents(text)
            )
            if not names_new_topic:
                return topic, max(response.confidence, self._last_confidence(conversation.id))
        return best, response.confidence

    def _is_follow_up(self, conversation: ConversationRecord, text: str) -> bool:
        """A short message in a conversation that already has a procedure."""
        short = len(words(text)) <= self._thresholds.follow_up_words
        return bool(conversation.topic_doc_id) and short

    def _is_personal_case(self, text: str) -> bool:
        """A long story or several questions at once (CJK is counted in characters)."""
        questions = sum(text.count(mark) for mark in "?？")
        length = len(words(text)) if not SPACELESS_SCRIPT.search(text) else len(text) // 3
        return questions >= 2 or length >= self._thresholds.personal_case_words

    def _last_confidence(self, conversation_id: str) -> float:
        for message in reversed(self._store.messages(conversation_id)):
            if message.role == "assistant" and message.citations:
                return message.confidence or 0.0
        return 0.0

    @staticmethod
    def _version(
        view: KnowledgeView, doc_id: str, lang: str, response: SearchResponse | None
    ) -> GuidanceDocument | None:
        """The published document in the user's language, else the version retrieval chose,
        else any; None once it is no longer published (retired since)."""
        results = response.results if response else []
        shown = next((h.lang for h in results if h.doc_id == doc_id), None)
        for candidate in (lang, shown, "en", "vi"):
            if candidate and (doc_id, candidate) in view.published:
                return view.published[(doc_id, candidate)]
        return next((d for (i, _), d in sorted(view.published.items()) if i == doc_id), None)

    @staticmethod
    def _detect_language(view: KnowledgeView, text: str, conversation: ConversationRecord) -> str:
        # "ok", "yes", "vâng": too short to tell; keep the conversation's language.
        if conversation.language and len(words(text)) <= 2:
            return conversation.language
        return view.searcher.detect_language(text)

    def _finish(
        self, conversation, reply: Reply, response: SearchResponse | None, doc_id: str | None
    ) -> EngineResult:
        message_id = self._save_reply(conversation.id, reply, response)
        self._store.update_context(conversation.id, topic_doc_id=doc_id)
        current = self._store.get_conversation(conversation.id)
        trace = response.to_dict() if response else {}
        return EngineResult(
            conversation.id,
            reply,
            current.handoff_status,
            current.handoff_reason,
            trace,
            message_id,
        )

    def _save_reply(
        self,
        conversation_id: str,
        reply: Reply,
        response: SearchResponse | None,
        *,
        trace: dict | None = None,
    ) -> int:
        """Store the reply; returns its message id."""
        stored = self._store.add_message(
            conversation_id,
            "assistant",
            reply.text,
            language=reply.language,
            citations=[asdict(c) for c in reply.citations],
            confidence=reply.confidence,
            declined=reply.declined,
            trace=response.to_dict() if response else trace,
        )
        return stored.id

    def _reply_already_given(
        self, conversation_id: str, user_message: MessageRecord
    ) -> EngineResult | None:
        """A retried message (same client_ref) gets the reply already stored, not a second one."""
        history = self._store.messages(conversation_id)
        position = next(i for i, m in enumerate(history) if m.id == user_message.id)
        following = history[position + 1] if position + 1 < len(history) else None
        if following is None or following.role != "assistant":
            return None
        conversation = self._store.get_conversation(conversation_id)
        reply = Reply(
            following.text,
            following.language or "en",
            [Citation(**c) for c in following.citations or []],
            following.confidence or 0.0,
            following.declined,
        )
        return EngineResult(
            conversation_id,
            reply,
            conversation.handoff_status,
            conversation.handoff_reason,
            message_id=following.id,
        )
