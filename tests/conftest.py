"""Shared fixtures: settings on temporary folders, small knowledge bases, the sample index."""

from __future__ import annotations

import hashlib
import os
import shutil
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from consular.settings import DEFAULT_KB_DIR, Settings  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = PROJECT_ROOT.parent / "shared"
# SQLite and PostgreSQL stores for every module (database_url, db_engine, store), and
# Chromium for the browser tests (browser, screenshots).
pytest_plugins = ["tests.db_fixtures", "tests.browser_fixtures"]


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
def sample_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data folder of the session's sample index: copy it (``live_assistant``) before
    anything writes to it, other tests share it."""
    return tmp_path_factory.mktemp("sample-index")


def _sample_index_cache(config: pytest.Config) -> Path:
    """Where an index of exactly these documents and this model was kept by an earlier
    run: embedding the sample knowledge base is most of a short test run's time."""
    digest = hashlib.sha256(Settings().embedding_model.encode())
    for path in sorted(DEFAULT_KB_DIR.glob("*/*.md")):
        digest.update(path.relative_to(DEFAULT_KB_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    for module in ("chunking.py", "embeddings.py", "vector_store.py"):
        digest.update((PROJECT_ROOT / "retrieval" / module).read_bytes())
    return config.cache.mkdir("consular-sample-index") / digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def sample_index(sample_index_dir: Path, pytestconfig: pytest.Config):
    """The whole sample knowledge base indexed once per test session (about a minute; a
    copy of the last run's index when the documents and the model are the same)."""
    from knowledge.base import KnowledgeBase
    from retrieval.service import RetrievalService

    cache = _sample_index_cache(pytestconfig)
    if cache.is_dir():
        shutil.copytree(cache, sample_index_dir, dirs_exist_ok=True)
    settings = Settings(data_dir=sample_index_dir, kb_dir=DEFAULT_KB_DIR)
    kb = KnowledgeBase.load(settings.kb_dir, settings.missions_file)
    service = RetrievalService.from_settings(settings)
    report = service.index(kb.published())
    if not cache.is_dir() and report.added:
        partial = cache.with_name(f"{cache.name}.{os.getpid()}")
        shutil.copytree(sample_index_dir, partial)
        try:
            partial.rename(cache)  # atomic: a concurrent run that got there first wins
        except OSError:
            shutil.rmtree(partial, ignore_errors=True)
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


@pytest.fixture
def live_assistant(tmp_path: Path, sample_index, sample_index_dir: Path, web_settings: Settings):
    """The assistant exactly as the app builds it (content store, live knowledge), on its
    own copy of the sample index and its own SQLite database: publishing may change it.
    The copy holds every chunk already, so only what a test changes is embedded."""
    import shutil

    from bot.assembly import build_assistant

    shutil.copytree(sample_index_dir, web_settings.data_dir)
    return build_assistant(web_settings)
