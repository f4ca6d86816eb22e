"""Building the conversation engine from settings (CLI, HTTP app, evals)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.composer import AnswerComposer, Messages
from bot.database import make_engine, upgrade_database
from bot.engine import ConversationEngine
from bot.generative import GenerativeAnswerer, build_chat_model, build_local_chat_model
from bot.places import MissionMatcher
from bot.safety import SafetyClassifier
from bot.safety_checks import SafetyChecks
from bot.safety_model import trained_model
from bot.store import ConversationStore
from consular.settings import Settings
from knowledge.base import KnowledgeBase
from retrieval.search import HybridSearcher
from retrieval.service import RetrievalService


@dataclass
class Assistant:
    """The engine and what it was built from (kept for channels and health checks)."""

    engine: ConversationEngine
    store: ConversationStore
    knowledge: KnowledgeBase
    retrieval: RetrievalService


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


def build_assistant(settings: Settings, *, store: ConversationStore | None = None) -> Assistant:
    """Load the knowledge base, bring the index up to date, and wire the engine."""
    knowledge = KnowledgeBase.load(settings.kb_dir, settings.missions_file)
    retrieval = RetrievalService.from_settings(settings)
    retrieval.index(knowledge.published())
    store = store or open_store(settings)
    engine = wire_engine(
        settings, retrieval.build_searcher(), knowledge, store, build_generator(settings)
    )
    return Assistant(engine, store, knowledge, retrieval)


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
