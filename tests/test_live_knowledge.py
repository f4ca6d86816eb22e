"""Publishing and retiring reach the running engine: the app's assistant (content store,
incremental index, live knowledge) on its own copy of the sample index."""

from __future__ import annotations

import logging

import pytest

from bot.assembly import Assistant
from knowledge.content_text import parse
from retrieval.chunking import chunk_documents
from retrieval.indexer import IndexReport
from tests.conftest import make_doc

PET_BODY = """People bringing a pet dog or cat with them when they move back to Viet Nam.

## Documents to bring
- A veterinary health certificate for the dog or cat, issued within 7 days of travel.
- Proof of rabies vaccination given at least 30 days before the journey.
- The animal quarantine declaration filled in on arrival at the airport.

## Fee
The animal quarantine fee at the airport is 25 USD per dog or cat."""
QUESTION = "Which papers do I need to bring my pet dog or cat to Viet Nam?"


def _pet_doc() -> str:
    return make_doc(
        "pet-relocation", title="Bringing a pet dog or cat to Viet Nam", body=PET_BODY
    ).replace("topics: [passport]", "topics: [return]")


def _cited(assistant: Assistant) -> set[str]:
    result = assistant.engine.handle(QUESTION, language="en", channel="cli")
    assert result.reply is not None
    return {c.doc_id for c in result.reply.citations}


def _refreshes(assistant: Assistant) -> list[IndexReport]:
    """Every IndexReport of the assistant's live refreshes from now on."""
    assert assistant.content is not None and assistant.live is not None
    reports: list[IndexReport] = []
    live = assistant.live
    assistant.content.on_change = lambda: reports.append(live.refresh())
    return reports


def test_the_app_answers_from_the_content_store_seeded_from_the_files(
    live_assistant: Assistant, sample_knowledge
) -> None:
    content = live_assistant.content
    assert content is not None
    published = {d.key for d in content.published_documents()}
    assert published == {d.key for d in sample_knowledge.published()}
    # The store holds what the sample index was built from: nothing to embed again.
    assert live_assistant.live is not None
    report = live_assistant.live.refresh()
    assert (report.added, report.removed) == (0, 0)


def test_a_published_document_is_answered_and_a_retired_one_no_longer_cited(
    live_assistant: Assistant, caplog: pytest.LogCaptureFixture
) -> None:
    content = live_assistant.content
    assert content is not None
    reports = _refreshes(live_assistant)
    assert "pet-relocation" not in _cited(live_assistant)

    draft = content.save_draft("an", "pet-relocation", "en", _pet_doc(), "new procedure")
    content.submit("an", draft.id)
    # Nothing reaches citizens before a second person publishes it.
    assert reports == [] and "pet-relocation" not in _cited(live_assistant)

    caplog.set_level(logging.INFO, logger="bot.live_knowledge")
    content.publish("binh", draft.id, "checked")
    doc, _ = parse(draft.markdown)
    assert doc is not None
    chunks = len(chunk_documents([doc]))
    [published] = reports
    # Only the new document's chunks were embedded; the rest of the index was kept.
    assert (published.added, published.removed) == (chunks, 0)
    assert f"{chunks} chunks added, 0 removed" in caplog.text
    stored = live_assistant.retrieval.store.stored_ids()
    assert sum(1 for chunk_id in stored if chunk_id.startswith("pet-relocation/en/")) == chunks
    assert "pet-relocation" in _cited(live_assistant)

    content.retire("binh", "pet-relocation", "en", "the procedure moved to another ministry")
    retired = reports[-1]
    assert (retired.added, retired.removed) == (0, chunks)
    assert "pet-relocation" not in _cited(live_assistant)
    assert not any(
        c.startswith("pet-relocation/") for c in live_assistant.retrieval.store.stored_ids()
    )


def test_a_rollback_restores_the_old_answer(live_assistant: Assistant) -> None:
    content = live_assistant.content
    assert content is not None
    reports = _refreshes(live_assistant)
    [old] = [r for r in content.history("fees-and-payment", "en") if r.state == "published"]
    changed = old.markdown.replace("## ", "## Updated: ", 1)
    draft = content.save_draft("an", "fees-and-payment", "en", changed, "headings")
    content.submit("an", draft.id)
    content.publish("binh", draft.id)
    assert reports[-1].added >= 1 and reports[-1].removed >= 1
    content.rollback("binh", "fees-and-payment", "en", old.id, "the change was wrong")
    # The restored chunks are the old ones again: they are re-embedded, the edits dropped.
    assert (reports[-1].added, reports[-1].removed) == (reports[0].removed, reports[0].added)
    [live] = [d for d in content.published_documents() if d.key == ("fees-and-payment", "en")]
    assert "Updated:" not in live.body


def test_an_editors_retirement_survives_a_restart(live_assistant: Assistant, web_settings) -> None:
    from bot.assembly import build_assistant

    content = live_assistant.content
    assert content is not None
    content.retire("binh", "e-visa", "en", "replaced by the new portal")
    restarted = build_assistant(web_settings)
    assert restarted.content is not None
    # The file did not change, so the start-up import leaves the retirement alone.
    assert ("e-visa", "en") not in {d.key for d in restarted.content.published_documents()}
    assert restarted.content.document("e-visa", "en").status == "retired"
    assert not any(c.startswith("e-visa/en/") for c in restarted.retrieval.store.stored_ids())


def test_a_publish_by_another_process_is_picked_up_by_the_poll(
    live_assistant: Assistant, web_settings
) -> None:
    from bot.assembly import build_content_workflow, known_mission_ids

    live = live_assistant.live
    assert live is not None
    # Nothing changed since start-up: the poll does no work.
    assert live.refresh_if_changed() is None
    # Another process (the CLI, a second worker) has its own workflow and no engine.
    elsewhere = build_content_workflow(
        web_settings, live_assistant.store, known_mission_ids(web_settings)
    )
    draft = elsewhere.save_draft("an", "pet-relocation", "en", _pet_doc(), "new procedure")
    elsewhere.submit("an", draft.id)
    elsewhere.publish("binh", draft.id)
    assert "pet-relocation" not in _cited(live_assistant)
    # The console tells the editor the truth: this process is not answering from it yet.
    assert not live.is_current()
    report = live.refresh_if_changed()
    assert report is not None and report.added > 0
    assert "pet-relocation" in _cited(live_assistant)
    assert live.is_current() and live.refresh_if_changed() is None


def test_a_follow_up_on_a_retired_procedure_gets_a_reply_not_an_error(
    live_assistant: Assistant,
) -> None:
    content, engine = live_assistant.content, live_assistant.engine
    assert content is not None
    first = engine.handle("How do I apply for an e-visa?", language="en", channel="cli")
    assert first.reply is not None and first.reply.citations[0].doc_id == "e-visa"
    for summary in content.documents(status="published"):
        if summary.doc_id == "e-visa":
            content.retire("binh", "e-visa", summary.lang, "replaced by the new portal")
    follow_up = engine.handle("how much?", first.conversation_id, language="en", channel="cli")
    assert follow_up.reply is not None
    assert all(c.doc_id != "e-visa" for c in follow_up.reply.citations)


def test_an_emergency_gets_the_hotline_even_without_its_guidance(
    live_assistant: Assistant, sample_searcher, sample_knowledge
) -> None:
    from knowledge.base import KnowledgeBase

    # The workflow refuses to retire it; a broken deployment could still lack it.
    without = [d for d in sample_knowledge.published() if d.id != "citizen-protection"]
    engine = live_assistant.engine
    engine.use_knowledge(sample_searcher, KnowledgeBase(without, sample_knowledge.missions))
    result = engine.handle("I was arrested by the police and they took my passport", language="en")
    assert result.handoff_status == "urgent" and result.reply is not None
    assert "+84 981 84 84 84" in result.reply.text and result.reply.citations == []
