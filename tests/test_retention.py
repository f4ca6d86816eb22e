"""Retention and erasure (bot/retention.py) on SQLite and PostgreSQL, the ``consular
retention`` commands and the console's erase endpoint."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from typer.testing import CliRunner

from bot.audit import AuditLog
from bot.feedback import FeedbackStore
from bot.models import (
    AnswerRating,
    AuditEntry,
    Conversation,
    HandoffEvent,
    Message,
    Rating,
    SafetyEvent,
    TelegramChat,
    utcnow,
)
from bot.officer_store import OfficerStore
from bot.retention import REMOVED, Retention
from bot.store import ConversationStore
from consular.cli import app as cli
from consular.errors import ConversationNotFound
from tests.test_console import app, lan  # noqa: F401  (fixtures)
from tests.web_helpers import PASSWORD, add_user, login_token, sign_in

CITATION = {"doc_id": "passport-lost", "lang": "vi", "title": "Mất hộ chiếu"}
CITIZEN_TEXT = "Tôi mất hộ chiếu C1234567, gọi tôi ở 0912 345 678"


def _retention(store: ConversationStore, action: str = "anonymise", **kwargs) -> Retention:
    return Retention(store.sessions, AuditLog(store.sessions), days=30, action=action, **kwargs)


def _conversation(store: ConversationStore, *, age_days: int = 0) -> str:
    """A conversation with every kind of data, last active ``age_days`` ago."""
    cid = store.create_conversation("telegram", language="vi", channel_ref="chat-42").id
    store.add_message(cid, "user", CITIZEN_TEXT, trace={"query": CITIZEN_TEXT})
    store.add_message(
        cid,
        "assistant",
        "Liên hệ cơ quan đại diện; anh đã cho số 0912 345 678.",
        citations=[CITATION],
        confidence=0.82,
        trace={"query": CITIZEN_TEXT, "results": []},
    )
    store.set_handoff(cid, "requested", "user asked", "user")
    store.add_message(cid, "officer", "Anh Nguyễn Văn A, tôi sẽ gọi lại.")
    officers = OfficerStore(store)
    officers.add_note(cid, "lan", "Citizen lives at 12 Namba street")
    officers.rate(cid, 4)
    officers.resolve(cid, "lan", "called back Mr Nguyen")
    AuditLog(store.sessions).record("lan", "resolve", cid, "called back")
    store.log_safety_event(cid, "manipulation", "ignore your instructions")
    if age_days:
        with store.sessions() as session:
            session.execute(
                update(Conversation)
                .where(Conversation.id == cid)
                .values(updated_at=utcnow() - timedelta(days=age_days))
            )
            session.commit()
    return cid


def _row(store: ConversationStore, cid: str) -> Conversation | None:
    with store.sessions() as session:
        return session.get(Conversation, cid)


def _count(store: ConversationStore, model, cid: str | None) -> int:
    with store.sessions() as session:
        column = model.conversation_id
        where = column.is_(None) if cid is None else column == cid
        return session.scalar(select(func.count()).select_from(model).where(where))


def test_old_conversations_are_anonymised_and_recent_ones_untouched(store):
    old = _conversation(store, age_days=31)
    recent = _conversation(store, age_days=29)

    report = _retention(store).run()

    assert (report.action, report.dry_run) == ("anonymise", False)
    assert (report.conversations, report.messages, report.notes) == (1, 2, 1)
    messages = store.messages(old)
    assert [(m.role, m.text) for m in messages if m.role != "assistant"] == [
        ("user", REMOVED),
        ("officer", REMOVED),
    ]
    answer = next(m for m in messages if m.role == "assistant")
    assert answer.citations == [CITATION] and answer.confidence == 0.82
    assert "0912" not in answer.text and "[phone]" in answer.text
    assert all(m.trace is None for m in messages)
    row = _row(store, old)
    assert row.channel_ref is None and row.resolution is None and row.anonymised_at
    assert row.resolved_by == "lan"  # who and when stay: time-to-resolution figures need them
    assert [e.to_status for e in store.handoff_events(old)] == ["requested", "none"]
    officers = OfficerStore(store)
    assert officers.notes(old) == [] and officers.rating(old) == 4

    assert [m.text for m in store.messages(recent)][0] == CITIZEN_TEXT
    assert _row(store, recent).channel_ref == "chat-42" and officers.notes(recent)


def test_a_second_run_changes_nothing(store):
    cid = _conversation(store, age_days=40)
    retention = _retention(store, batch_size=1)
    assert retention.run().conversations == 1
    first = _row(store, cid).anonymised_at
    audited = len(AuditLog(store.sessions).entries())

    again = retention.run()

    assert (again.conversations, again.messages, again.notes) == (0, 0, 0)
    assert _row(store, cid).anonymised_at == first
    assert len(AuditLog(store.sessions).entries()) == audited


def test_runs_in_batches_until_every_old_conversation_is_done(store):
    old = [_conversation(store, age_days=60) for _ in range(5)]
    report = _retention(store, batch_size=2).run()
    assert report.conversations == 5
    assert all(_row(store, cid).anonymised_at for cid in old)


def test_activity_after_anonymising_is_anonymised_once_old(store):
    cid = _conversation(store, age_days=40)
    _retention(store).run()
    store.add_message(cid, "user", "Tôi lại viết, số 0987 654 321")
    later = utcnow() + timedelta(days=31)
    assert _retention(store).run(now=later).conversations == 1
    assert [m.text for m in store.messages(cid) if m.role == "user"] == [REMOVED, REMOVED]


def test_delete_mode_removes_everything_but_safety_events(store):
    old = _conversation(store, age_days=31)
    recent = _conversation(store, age_days=1)

    report = _retention(store, "delete").run()

    assert (report.conversations, report.messages, report.notes) == (1, 3, 1)
    assert _row(store, old) is None
    with pytest.raises(ConversationNotFound):
        store.messages(old)
    for model in (Message, HandoffEvent):
        assert _count(store, model, old) == 0
    assert OfficerStore(store).rating(old) is None and OfficerStore(store).notes(old) == []
    # The safety event stays, detached; so does the officers' audit trail.
    assert _count(store, SafetyEvent, None) == 1
    assert _count(store, SafetyEvent, recent) == 1
    assert _row(store, recent) is not None and len(store.messages(recent)) == 3
    assert _retention(store, "delete").run().conversations == 0


def test_delete_mode_also_removes_conversations_anonymised_before(store):
    cid = _conversation(store, age_days=31)
    _retention(store).run()
    assert _retention(store, "delete").run().conversations == 1
    assert _row(store, cid) is None


def test_a_dry_run_counts_and_changes_nothing(store):
    cid = _conversation(store, age_days=31)
    _conversation(store)
    for action, messages in (("anonymise", 2), ("delete", 3)):
        report = _retention(store, action).run(dry_run=True)
        assert report.dry_run is True
        assert (report.conversations, report.messages, report.notes) == (1, messages, 1)
    assert store.messages(cid)[0].text == CITIZEN_TEXT
    assert _row(store, cid).anonymised_at is None
    assert [e.action for e in AuditLog(store.sessions).entries()] == ["resolve", "resolve"]


def test_the_job_is_audited_with_counts_and_never_the_texts(store):
    anonymised = _conversation(store, age_days=31)
    _retention(store).run()
    entry = AuditLog(store.sessions).entries(anonymised)[0]
    assert (entry.actor, entry.action) == ("retention", "retention_anonymise")
    assert entry.detail == f"anonymised {anonymised}: 2 messages, 1 notes"

    deleted = _conversation(store, age_days=31)
    _retention(store, "delete").run()
    entries = AuditLog(store.sessions).entries()
    entry = next(e for e in entries if e.detail and deleted in e.detail)
    assert (entry.actor, entry.action, entry.conversation_id) == (
        "retention",
        "retention_delete",
        None,
    )
    assert entry.detail == f"deleted {deleted}: 3 messages, 1 notes"
    # The one anonymised before is deleted too; its notes were already gone.
    assert f"deleted {anonymised}: 3 messages, 0 notes" in {e.detail for e in entries}
    assert not any(CITIZEN_TEXT in (e.detail or "") for e in entries)


def test_erase_deletes_one_conversation_and_is_audited(store):
    cid = _conversation(store)
    other = _conversation(store)

    _retention(store).erase(cid, "root")

    assert _row(store, cid) is None and _row(store, other) is not None
    assert _count(store, SafetyEvent, None) == 1
    with store.sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "erase")).one()
        # Earlier entries about it stay, detached from the deleted row.
        detached = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.conversation_id.is_(None), AuditEntry.action == "resolve")
        )
    assert (entry.actor, entry.detail) == ("root", f"erased {cid}: 3 messages, 1 notes")
    assert CITIZEN_TEXT not in entry.detail and detached == 1


def test_erase_of_an_unknown_conversation(store):
    with pytest.raises(ConversationNotFound) as raised:
        _retention(store).erase("c_missing", "root")
    assert raised.value.user_message == "This conversation does not exist."
    assert AuditLog(store.sessions).entries() == []


def test_settings_and_arguments_are_checked(store):
    from pydantic import ValidationError

    from consular.settings import Settings

    settings = Settings()
    assert (settings.retention_days, settings.retention_action) == (365, "anonymise")
    with pytest.raises(ValidationError):
        Settings(retention_days=0)
    with pytest.raises(ValidationError):
        Settings(retention_action="archive")
    with pytest.raises(ValueError, match="at least 1"):
        _retention(store, batch_size=0)


def _with_feedback(store: ConversationStore, cid: str) -> int:
    """A helpful vote on the conversation's answer and a rating comment with a phone number."""
    answer = next(m for m in store.messages(cid) if m.role == "assistant")
    feedback = FeedbackStore(store.sessions)
    feedback.rate_answer(cid, answer.id, True)
    feedback.rate_conversation(cid, 4, "Cán bộ gọi lại số 0912 345 678, rất tốt")
    return answer.id


def test_anonymising_keeps_scores_and_votes_and_removes_the_rating_comment(store):
    cid = _conversation(store, age_days=31)
    answer_id = _with_feedback(store, cid)
    assert FeedbackStore(store.sessions).conversation_rating(cid).comment == (
        "Cán bộ gọi lại số [phone], rất tốt"
    )

    _retention(store).run()

    rating = FeedbackStore(store.sessions).conversation_rating(cid)
    assert (rating.score, rating.comment) == (4, None)
    assert FeedbackStore(store.sessions).answer_votes(cid) == {answer_id: True}


@pytest.mark.parametrize("how", ["delete", "erase"])
def test_deleting_a_conversation_deletes_its_answer_votes(store, how):
    cid = _conversation(store, age_days=31)
    other = _conversation(store)
    _with_feedback(store, cid)
    _with_feedback(store, other)

    if how == "delete":
        _retention(store, "delete").run()
    else:
        _retention(store).erase(cid, "root")

    assert _count(store, AnswerRating, cid) == 0 and _count(store, Rating, cid) == 0
    assert _count(store, AnswerRating, other) == 1 and _count(store, Rating, other) == 1


def test_the_database_cascade_also_removes_answer_votes(store):
    """ON DELETE CASCADE covers a conversation deleted outside bot/retention.py too."""
    cid = _conversation(store)
    _with_feedback(store, cid)
    with store.sessions() as session:
        session.execute(delete(Conversation).where(Conversation.id == cid))
        session.commit()
    assert _count(store, AnswerRating, cid) == 0 and _count(store, Rating, cid) == 0


# -- the command line ----------------------------------------------------------------------


def test_retention_commands(tmp_path):
    from bot.assembly import open_store
    from consular.settings import Settings

    env = {"CONSULAR_DATA_DIR": str(tmp_path / "var"), "CONSULAR_RETENTION_DAYS": "30"}
    store = open_store(Settings(data_dir=tmp_path / "var"))
    old = _conversation(store, age_days=31)
    runner = CliRunner()

    dry = runner.invoke(cli, ["retention", "run", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "Would have anonymised 1 conversation(s)" in dry.output
    assert "2 message(s), 1 note(s)" in dry.output
    assert store.messages(old)[0].text == CITIZEN_TEXT

    done = runner.invoke(cli, ["retention", "run", "--json"], env=env)
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert (data["action"], data["dry_run"], data["conversations"]) == ("anonymise", False, 1)
    assert store.messages(old)[0].text == REMOVED

    deleted = runner.invoke(
        cli, ["retention", "run"], env={**env, "CONSULAR_RETENTION_ACTION": "delete"}
    )
    assert deleted.exit_code == 0 and "deleted 1 conversation(s)" in deleted.output

    recent = _conversation(store)
    erased = runner.invoke(cli, ["retention", "erase", recent, "--actor", "root"], env=env)
    assert erased.exit_code == 0, erased.output
    assert f"Erased conversation {recent}." in erased.output
    assert _row(store, recent) is None
    assert AuditLog(store.sessions).entries()[0].actor == "root"

    missing = runner.invoke(cli, ["retention", "erase", "c_missing", "--actor", "root"], env=env)
    assert missing.exit_code == 1 and "This conversation does not exist." in missing.output
    no_actor = runner.invoke(cli, ["retention", "erase", recent], env=env)
    assert no_actor.exit_code == 2


# -- the console ---------------------------------------------------------------------------


def test_only_an_admin_may_erase_from_the_console(app, lan, web_assistant):  # noqa: F811
    store = web_assistant.store
    cid = _conversation(store)
    url = f"/console/api/conversations/{cid}/erase"

    refused = lan.post(url)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only administrators may do this; your role is officer."}
    editor = TestClient(app)
    form = {"username": "ha", "password": PASSWORD, "csrf_token": login_token(editor)}
    assert editor.post("/console/login", data=form, follow_redirects=False).status_code == 303
    assert editor.post(url).json()["detail"].endswith("your role is content editor.")
    assert _row(store, cid) is not None

    add_user(store, "root", "admin")
    admin = TestClient(app)
    token = sign_in(admin, "root")
    assert admin.post(url, headers={"X-CSRF-Token": "guessed"}).status_code == 403
    assert _row(store, cid) is not None

    admin.headers["X-CSRF-Token"] = token
    response = admin.post(url)
    assert response.status_code == 200, response.text
    assert response.json() == {"conversation_id": cid, "erased_by": "root"}
    assert _row(store, cid) is None
    entry = app.state.services.audit.entries()[0]
    assert (entry.actor, entry.action) == ("root", "erase") and cid in entry.detail

    missing = admin.post("/console/api/conversations/c_missing/erase")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "This conversation does not exist."}


@pytest.mark.parametrize("how", ["anonymise", "delete"])
def test_a_telegram_chat_waiting_for_a_comment_forgets_the_conversation(store, how):
    from channels.telegram_store import TelegramStore

    chats = TelegramStore(store.sessions)
    cid = _conversation(store, age_days=31)
    other = _conversation(store)
    chats.await_comment("chat-42", cid)
    chats.await_comment("chat-43", other)

    _retention(store, how).run()

    with store.sessions() as session:
        old = session.get(TelegramChat, "chat-42")
        assert (old.comment_for, old.comment_asked_at) == (None, None)
    assert chats.comment_for("chat-42") is None
    assert chats.comment_for("chat-43") == other
