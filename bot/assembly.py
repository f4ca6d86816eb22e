"""Building the conversation engine from settings (CLI, HTTP app, evals)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.audit import AuditLog
from bot.composer import AnswerComposer, Messages
from bot.database import make_engine, upgrade_database
from bot.engine import EMERGENCY_DOC_IDS, ConversationEngine
from bot.generative import GenerativeAnswerer, build_chat_model, build_local_chat_model
from bot.live_knowledge import LiveKnowledge
from bot.places import MissionMatcher
from bot.safety import SafetyClassifier
from bot.safety_checks import SafetyChecks
from bot.safety_model import trained_model
from bot.store import ConversationStore
from consular.settings import Settings
from knowledge.base import KnowledgeBase
from knowledge.missions import load_missions
from knowledge.workflow import ContentWorkflow
from retrieval.search import HybridSearcher
from retrieval.service import RetrievalService

log = logging.getLogger(__name__)


@dataclass
class Assistant:
    """The engine and what it was built from (kept for channels and health checks).

    ``knowledge`` is the snapshot the engine started with (its mission directory does
    not change); the engine's current documents follow ``live.refresh()``.
    """

    engine: ConversationEngine
    store: ConversationStore
    knowledge: KnowledgeBase
    retrieval: RetrievalService
    content: ContentWorkflow | None = None
    live: LiveKnowledge | None = None


def open_store(settings: Settings) -> ConversationStore:
    """The conversation database, migrated to the latest schema."""
    engine = make_engine(settings.resolved_database_url())
    upgrade_database(engine)
    return ConversationStore(engine)


def build_generator(settings: Settings) -> GenerativeAnswerer | None:
    """The operator's language model, if one is configured (an endpoint wins over a path)."""
    if settings.llm_base_url:
        model = build_chat_model(
            settings.llm_base_url,
            settings.llm_model,
            settings.llm_api_key,
            settings.llm_timeout_seconds,
        )
    elif settings.llm_local_path:
        model = build_local_chat_model(str(settings.llm_local_path))
    else:
        return None
    return GenerativeAnswerer(model, timeout=settings.llm_timeout_seconds)


def known_mission_ids(settings: Settings) -> frozenset[str] | None:
    """The mission directory's ids; None (no check) when the directory has problems."""
    missions, problems = load_missions(settings.missions_file)
    return None if problems else missions.ids


def build_content_workflow(
    settings: Settings, store: ConversationStore, mission_ids: frozenset[str] | None
) -> ContentWorkflow:
    """The content workflow on the conversation database (the web app and the CLI)."""
    return ContentWorkflow(
        store.sessions,
        AuditLog(store.sessions),
        review_max_age_days=settings.content_review_max_age_days,
        mission_ids=mission_ids,
        protected=EMERGENCY_DOC_IDS,
    )


def build_assistant(settings: Settings, *, store: ConversationStore | None = None) -> Assistant:
    """Import changed guidance files into the content store, index what is published
    there, and wire the engine to it (later publishes reach it through ``live``)."""
    store = store or open_store(settings)
    missions, mission_problems = load_missions(settings.missions_file)
    content = build_content_workflow(settings, store, None if mission_problems else missions.ids)
    report = content.sync_files(settings.kb_dir)
    for problem in report.problems:
        log.warning("guidance file not published: %s", problem)
    signature = content.live_signature()
    documents = content.published_documents()
    knowledge = KnowledgeBase(documents, missions, mission_problems)
    retrieval = RetrievalService.from_settings(settings)
    retrieval.index(documents)
    engine = wire_engine(
        settings, retrieval.build_searcher(), knowledge, store, build_generator(settings)
    )
    live = LiveKnowledge(content, retrieval, engine, missions, signature=signature)
    content.on_change = live.refresh
    return Assistant(engine, store, knowledge, retrieval, content, live)


def build_safety(settings: Settings) -> SafetyChecks:
    """The phrase lists, and the model trained on the labelled examples when configured."""
    patterns = SafetyClassifier.load()
    model = None
    if settings.safety_examples_dir is not None:
        model = trained_model(
            settings.safety_examples_dir, patterns.normalise, cache_key=str(patterns.source)
        )
    return SafetyChecks(patterns, model)


def wire_engine(
    settings: Settings,
    searcher: HybridSearcher,
    knowledge: KnowledgeBase,
    store: ConversationStore,
    generator: GenerativeAnswerer | None = None,
) -> ConversationEngine:
    """The engine over ready parts (the tests pass their own searcher and store)."""
    return ConversationEngine(
        searcher=searcher,
        knowledge=knowledge,
        store=store,
        safety=build_safety(settings),
        composer=AnswerComposer(Messages.load()),
        missions=MissionMatcher(knowledge.missions),
        hotline=settings.citizen_protection_hotline,
        generator=generator,
    )
