"""The sample knowledge base covers the catalogue, validates, and says it is illustrative."""

from __future__ import annotations

import re

import pytest

from consular.settings import DEFAULT_CATALOGUE_FILE, DEFAULT_KB_DIR, DEFAULT_MISSIONS_FILE
from knowledge.base import KnowledgeBase
from knowledge.catalogue import load_catalogue
from tests.conftest import SHARED_DIR

DISCLAIMER_MARKERS = {"vi": "minh họa", "en": "illustrative", "fr": "illustratif"}
REQUIRED_MISSIONS = {"jp-tokyo", "jp-osaka", "kr-seoul", "fr-paris", "de-berlin", "us-washington"}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load(DEFAULT_KB_DIR, DEFAULT_MISSIONS_FILE, DEFAULT_CATALOGUE_FILE)


def test_sample_knowledge_base_has_no_problems(kb):
    assert [str(p) for p in kb.problems] == []


@pytest.mark.parametrize("entry", load_catalogue(DEFAULT_CATALOGUE_FILE), ids=lambda e: e.id)
def test_every_catalogue_id_exists_in_every_required_language(kb, entry):
    have = {d.lang for d in kb.versions(entry.id) if d.is_published}
    assert set(entry.languages) <= have


def test_catalogue_copy_matches_the_shared_spec():
    spec = SHARED_DIR / "spec" / "knowledge-catalogue.md"
    if not spec.is_file():
        pytest.skip("../shared is not beside this checkout")
    rows = re.findall(
        r"^\| ([a-z0-9-]+) \| .+? \| (fr)? ?\|$", spec.read_text(encoding="utf-8"), re.MULTILINE
    )
    expected = {
        doc_id: ("vi", "en", "fr") if fr else ("vi", "en") for doc_id, fr in rows if doc_id != "id"
    }
    ours = {e.id: e.languages for e in load_catalogue(DEFAULT_CATALOGUE_FILE)}
    assert ours == expected


def test_every_sample_document_says_it_is_illustrative_and_has_the_core_sections(kb):
    for doc in kb.documents:
        assert DISCLAIMER_MARKERS[doc.lang] in doc.footer, doc.path
        assert len(doc.sections()) >= 6, doc.path
        assert str(doc.meta.source).startswith("http"), doc.path


def test_language_versions_of_one_id_share_topics(kb):
    for doc_id in {d.id for d in kb.documents}:
        topics = {d.meta.topics for d in kb.versions(doc_id)}
        assert len(topics) == 1, doc_id


def test_mission_directory_has_the_sample_missions(kb):
    assert kb.missions.ids >= REQUIRED_MISSIONS
    for mission in kb.missions.missions:
        assert mission.emergency_hotline.startswith("+")
        assert mission.city.get("vi") and mission.city.get("en")


def test_citizen_protection_gives_the_24h_hotline_in_every_language(kb):
    for doc in kb.versions("citizen-protection"):
        assert "+84 981 84 84 84" in doc.body, doc.lang
