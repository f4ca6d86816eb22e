"""The console's stores (users, queue, notes, resolution, ratings, audit) on SQLite and
PostgreSQL."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy

from bot.audit import AuditLog
from bot.officer_store import InvalidAccountError, OfficerStore, UserExistsError, UserStore
from bot.store import ConversationStore


def _waiting(store: ConversationStore, status: str = "requested") -> str:
    cid = store.create_conversation("web", language="vi").id
    store.set_handoff(cid, status, "test", "user" if status == "requested" else "assistant")
    return cid


def test_passwords_are_hashed_and_checked(store):
    users = UserStore(store.sessions)
    users.add("lan", "a long enough password", "officer")
    with store.sessions() as session:
        stored = session.execute(sqlalchemy.text("SELECT password_hash FROM users")).scalar()
    assert stored.startswith("$argon2") and "a long enough password" not in stored
    assert users.authenticate("lan", "a long enough password").role == "officer"
    assert users.authenticate("lan", "a long enough passwort") is None
    assert users.authenticate("nobody", "a long enough password") is None
    with pytest.raises(UserExistsError):
        users.add("lan", "another long password", "admin")
    with pytest.raises(InvalidAccountError, match="Unknown role"):
        users.add("minh", "a long enough password", "boss")
    with pytest.raises(InvalidAccountError, match="username"):
        users.add("Lan Nguyen", "a long enough password", "officer")


def test_queue_is_urgent_first_then_by_waiting_time(store):
    older = _waiting(store)
    newer = _waiting(store)
    urgent = _waiting(store, "urgent")
    answered = store.create_conversation("web").id
    store.set_handoff(answered, "offered", "low confidence", "assistant")
    queue = OfficerStore(store).queue()
    assert [item.conversation.id for item in queue] == [urgent, older, newer]
    assert queue[1].waiting_since <= queue[2].waiting_since


def test_waiting_time_restarts_when_a_resolved_conversation_comes_back(store):
    officers = OfficerStore(store)
    cid = _waiting(store)
    first_wait = officers.queue()[0].waiting_since
    store.claim(cid, "lan")
    officers.resolve(cid, "lan", "answered")
    assert officers.queue() == []
    store.set_handoff(cid, "requested", "again", "user")
    assert officers.queue()[0].waiting_since > first_wait


def test_two_officers_claiming_at_once_exactly_one_wins(store):
    cid = _waiting(store, "urgent")
    barrier = threading.Barrier(2)
    results: dict[str, bool] = {}

    def claim(officer: str) -> None:
        barrier.wait()
        results[officer] = store.claim(cid, officer)

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("lan", "minh")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [False, True]
    winner = next(name for name, won in results.items() if won)
    assert store.get_conversation(cid).claimed_by == winner


def test_resolve_notes_and_ratings(store):
    officers = OfficerStore(store)
    cid = _waiting(store)
    store.claim(cid, "lan")
    officers.add_note(cid, "lan", "asked for the passport number")
    officers.resolve(cid, "lan", "booked an appointment")
    record = store.get_conversation(cid)
    assert (record.handoff_status, record.claimed_by) == ("none", None)
    resolved_at, resolved_by, resolution = officers.resolution(cid)
    assert resolved_at is not None and (resolved_by, resolution) == ("lan", "booked an appointment")
    assert [n.text for n in officers.notes(cid)] == ["asked for the passport number"]
    officers.rate(cid, 2)
    officers.rate(cid, 4)
    assert officers.rating(cid) == 4
    with pytest.raises(ValueError):
        officers.rate(cid, 0)


def test_audit_log_keeps_every_action_redacted(store):
    audit = AuditLog(store.sessions)
    cid = store.create_conversation("web").id
    audit.record("lan", "claim", cid)
    audit.record("lan", "note", cid, "citizen passport C1234567, phone +81 90 1234 5678")
    entries = audit.entries(cid)
    assert [(e.actor, e.action) for e in entries] == [("lan", "note"), ("lan", "claim")]
    assert "C1234567" not in entries[0].detail and "1234 5678" not in entries[0].detail
    with pytest.raises(ValueError):
        audit.record("lan", "delete_everything", cid)
