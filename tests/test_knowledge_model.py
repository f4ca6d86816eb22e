"""Loading and validating guidance documents."""

from __future__ import annotations

import datetime as dt
import unicodedata

from knowledge.base import KnowledgeBase
from knowledge.loader import load_documents
from knowledge.missions import load_missions
from tests.conftest import make_doc, write_doc


def test_valid_document_loads_with_sections_and_footer(tmp_path):
    write_doc(tmp_path, "passport-renewal", "en", make_doc())
    result = load_documents(tmp_path)
    assert result.problems == []
    [doc] = result.documents
    assert doc.key == ("passport-renewal", "en")
    assert [s.heading for s in doc.sections()] == ["", "Documents to bring", "Fee"]
    assert doc.footer == "_Note: sample content._"
    assert "Note" not in " ".join(s.text for s in doc.sections())


def test_every_problem_is_reported_with_file_and_field(tmp_path):
    bad = make_doc(title="", extra="").replace("status: published", "status: live")
    bad = bad.replace("source: https://example.gov.vn/passport-renewal", "source: not-a-url")
    bad = bad.replace("topics: [passport]", "topics: [passport, gardening]")
    path = write_doc(tmp_path, "passport-renewal", "en", bad)
    result = load_documents(tmp_path)
    fields = {p.field for p in result.problems}
    assert {"title", "status", "source", "topics"} <= fields
    assert all(p.file == str(path) for p in result.problems)
    assert any("gardening" in p.message for p in result.problems)


def test_one_bad_file_never_stops_the_others(tmp_path):
    write_doc(tmp_path, "passport-renewal", "en", make_doc())
    write_doc(tmp_path, "broken", "en", "---\nid: [unclosed\n---\nbody")
    write_doc(
        tmp_path, "passport-lost", "vi", make_doc("passport-lost", "vi", title="Mất hộ chiếu")
    )
    result = load_documents(tmp_path)
    assert sorted(d.id for d in result.documents) == ["passport-lost", "passport-renewal"]
    assert [p.file.endswith("broken.md") for p in result.problems] == [True]


def test_id_and_language_must_match_file_and_folder(tmp_path):
    write_doc(tmp_path, "other-name", "fr", make_doc("passport-renewal", "en"))
    result = load_documents(tmp_path)
    assert result.documents == []
    assert {p.field for p in result.problems} == {"id", "lang"}


def test_future_review_date_and_unknown_field_are_rejected(tmp_path):
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    text = make_doc(extra="owner: someone\n").replace("reviewed: 2026-10-01", f"reviewed: {future}")
    write_doc(tmp_path, "passport-renewal", "en", text)
    fields = {p.field for p in load_documents(tmp_path).problems}
    assert fields == {"reviewed", "owner"}


def test_unknown_mission_ids_are_reported(tmp_path):
    text = make_doc().replace("missions: all", "missions: [jp-tokyo, xx-nowhere]")
    write_doc(tmp_path, "passport-renewal", "en", text)
    result = load_documents(tmp_path, mission_ids=frozenset({"jp-tokyo"}))
    assert [(p.field, "xx-nowhere" in p.message) for p in result.problems] == [("missions", True)]


def test_vietnamese_is_normalised_to_nfc(tmp_path):
    decomposed = unicodedata.normalize("NFD", "Hộ chiếu hết hạn")
    write_doc(
        tmp_path, "passport-renewal", "vi", make_doc(lang="vi", title=decomposed, body=decomposed)
    )
    [doc] = load_documents(tmp_path).documents
    assert doc.meta.title == unicodedata.normalize("NFC", decomposed)
    assert unicodedata.is_normalized("NFC", doc.body)


def test_document_round_trips_through_markdown(tmp_path):
    write_doc(tmp_path, "passport-renewal", "en", make_doc())
    [doc] = load_documents(tmp_path).documents
    write_doc(tmp_path / "copy", "passport-renewal", "en", doc.to_markdown())
    [again] = load_documents(tmp_path / "copy").documents
    assert again.meta == doc.meta and again.body == doc.body and again.footer == doc.footer


def test_mission_directory_validation_reports_each_bad_entry(tmp_path):
    path = tmp_path / "missions.yaml"
    path.write_text(
        """
missions:
  - id: jp-tokyo
    kind: embassy
    country: JP
    name: {vi: "Đại sứ quán", en: "Embassy"}
    country_names: {vi: "Nhật Bản", en: "Japan"}
    city: {vi: "Tokyo", en: "Tokyo"}
    aliases: ["Tokyo", "東京"]
    address: "50-11 Motoyoyogi-cho, Shibuya-ku"
    opening_hours: {vi: "Xem trang web", en: "See the website"}
    phone: "+81 3 3466 3311"
    emergency_hotline: "+81 80 3590 9136"
    email: "vnconsular@vnembassy.jp"
    website: "https://vnembassy-jp.org"
    source: "https://vnembassy-jp.org/en"
    reviewed: 2026-11-23
  - id: kr-seoul
    kind: palace
    country: KR
    phone: "call us"
""",
        encoding="utf-8",
    )
    directory, problems = load_missions(path)
    assert [m.id for m in directory.missions] == ["jp-tokyo"]
    assert directory.get("jp-tokyo").aliases == ("tokyo", "東京")
    fields = {p.field for p in problems}
    assert {
        "missions[kr-seoul].kind",
        "missions[kr-seoul].phone",
        "missions[kr-seoul].address",
    } <= fields


def test_knowledge_base_reports_missing_catalogue_languages(tmp_path):
    kb_dir = tmp_path / "kb"
    write_doc(kb_dir, "passport-renewal", "en", make_doc())
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text("procedures:\n  - id: passport-renewal\n    languages: [vi, en, fr]\n")
    kb = KnowledgeBase.load(kb_dir, tmp_path / "missing.yaml", catalogue)
    messages = [str(p) for p in kb.problems]
    assert any("passport-renewal" in m and "vi, fr" in m for m in messages)
