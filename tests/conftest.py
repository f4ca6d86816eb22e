"""Shared fixtures: settings on temporary folders, small knowledge bases, the sample index."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from consular.settings import DEFAULT_KB_DIR, Settings  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = PROJECT_ROOT.parent / "shared"
# SQLite and PostgreSQL stores for every module (database_url, db_engine, store).
pytest_plugins = ["tests.db_fixtures"]


def make_doc(
    doc_id: str = "passport-renewal",
    lang: str = "en",
    *,
    title: str = "Renewing a passport abroad",
    body: str = "Intro for citizens.\n\n## Documents to bring\n- the old passport\n- two photos\n\n## Fee\n70 USD.",
    status: str = "published",
    extra: str = "",
    footer: str = "_Note: sample content._",
) -> str:
    """The text of one guidance document in the on-disk format."""
    front = textwrap.dedent(
        f"""\
        id: {doc_id}
        lang: {lang}
        title: "{title}"
        topics: [passport]
        missions: all
        source: https://example.gov.vn/{doc_id}
        reviewed: 2026-10-01
        status: {status}
        """
    )
    text = f"---\n{front}{extra}---\n\n{body}\n"
    if footer:
        text += f"\n---\n\n{footer}\n"
    return text


def write_doc(kb_dir: Path, doc_id: str, lang: str, text: str) -> Path:
    path = kb_dir / lang / f"{doc_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tmp_settings(tmp_path: Path) -> Settings:
    """Settings whose index and knowledge base live in a temporary folder."""
    kb = tmp_path / "kb"
    kb.mkdir()
    return Settings(data_dir=tmp_path / "var", kb_dir=kb, catalogue_file=None)


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory):
    """The whole sample knowledge base indexed once per test session (about a minute)."""
    from knowledge.base import KnowledgeBase
    from retrieval.service import RetrievalService

    settings = Settings(data_dir=tmp_path_factory.mktemp("sample-index"), kb_dir=DEFAULT_KB_DIR)
    kb = KnowledgeBase.load(settings.kb_dir, settings.missions_file)
    service = RetrievalService.from_settings(settings)
    service.index(kb.published())
    return service


@pytest.fixture(scope="session")
def sample_searcher(sample_index):
    return sample_index.build_searcher()


@pytest.fixture
def conversation_store(tmp_path):
    """A migrated SQLite conversation database in a temporary folder."""
    from bot.database import default_database_url, make_engine, upgrade_database
    from bot.store import ConversationStore

    engine = make_engine(default_database_url(tmp_path / "db"))
    upgrade_database(engine)
    return ConversationStore(engine)


def build_engine(searcher, store, generator=None):
    """The real conversation engine over the sample knowledge base."""
    from bot.assembly import wire_engine
    from knowledge.base import KnowledgeBase

    settings = Settings()
    knowledge = KnowledgeBase.load(settings.kb_dir, settings.missions_file)
    return wire_engine(settings, searcher, knowledge, store, generator)


@pytest.fixture
def engine(sample_searcher, conversation_store):
    return build_engine(sample_searcher, conversation_store)


# -- web app and officer console (channels/app.py) -------------------------------------------


@pytest.fixture(scope="session")
def sample_knowledge():
    from knowledge.base import KnowledgeBase

    settings = Settings()
    return KnowledgeBase.load(settings.kb_dir, settings.missions_file)


@pytest.fixture
def web_assistant(sample_index, sample_searcher, sample_knowledge, conversation_store):
    """The real assistant over the session's sample index and a fresh SQLite database."""
    from bot.assembly import Assistant, wire_engine

    engine = wire_engine(Settings(), sample_searcher, sample_knowledge, conversation_store)
    return Assistant(engine, conversation_store, sample_knowledge, sample_index)


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", session_cookie_secure=False)
