"""Citizens' feedback (bot/feedback.py) on SQLite and PostgreSQL, and its chat API routes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.feedback import (
    MAX_COMMENT_CHARS,
    AnswerNotFound,
    ConversationAnonymised,
    FeedbackStore,
    InvalidFeedbackError,
    NoRatingYet,
)
from bot.officer_store import OfficerStore
from bot.store import ConversationStore
from channels.app import create_app
from consular.errors import ConversationNotFound

CITATION = {"doc_id": "passport-lost", "lang": "vi", "title": "Mất hộ chiếu"}


def _answered(store: ConversationStore) -> tuple[str, int, int]:
    """A conversation with a question and a cited answer: (id, question id, answer id)."""
    cid = store.create_conversation("web", language="vi").id
    question = store.add_message(cid, "user", "Mất hộ chiếu thì làm sao?")
    answer = store.add_message(cid, "assistant", "Báo công an…", citations=[CITATION])
    return cid, question.id, answer.id


# -- the store -----------------------------------------------------------------------------


def test_a_vote_is_kept_and_a_second_vote_replaces_it(store):
    feedback = FeedbackStore(store.sessions)
    cid, _, answer = _answered(store)
    vote = feedback.rate_answer(cid, answer, True)
    assert (vote.message_id, vote.conversation_id, vote.helpful) == (answer, cid, True)
    assert feedback.answer_votes(cid) == {answer: True}

    feedback.rate_answer(cid, answer, False)
    feedback.rate_answer(cid, answer, False)  # a redelivered vote changes nothing
    assert feedback.answer_votes(cid) == {answer: False}


def test_only_assistant_answers_of_that_conversation_can_be_voted_on(store):
    feedback = FeedbackStore(store.sessions)
    cid, question, answer = _answered(store)
    other, _, other_answer = _answered(store)
    with pytest.raises(AnswerNotFound):
        feedback.rate_answer(cid, question, True)  # the citizen's own message
    with pytest.raises(AnswerNotFound):
        feedback.rate_answer(cid, other_answer, True)  # another conversation's answer
    with pytest.raises(AnswerNotFound):
        feedback.rate_answer(cid, answer + 1000, True)
    with pytest.raises(ConversationNotFound):
        feedback.rate_answer("c_missing", answer, True)
    assert feedback.answer_votes(cid) == {} and feedback.answer_votes(other) == {}


def test_a_rating_with_a_redacted_comment_and_its_replacement(store):
    feedback = FeedbackStore(store.sessions)
    cid, _, _ = _answered(store)
    assert feedback.conversation_rating(cid) is None

    first = feedback.rate_conversation(cid, 2, "  Chờ lâu quá. Gọi tôi: 0912 345 678  ")
    assert (first.score, first.comment) == (2, "Chờ lâu quá. Gọi tôi: [phone]")
    # A later score without a comment keeps the comment; a blank one clears it.
    assert feedback.rate_conversation(cid, 4).comment == "Chờ lâu quá. Gọi tôi: [phone]"
    stored = feedback.conversation_rating(cid)
    assert (stored.score, stored.comment) == (4, "Chờ lâu quá. Gọi tôi: [phone]")
    assert feedback.rate_conversation(cid, 4, "   ").comment is None
    assert OfficerStore(store).rating(cid) == 4


def test_a_comment_added_after_the_score(store):
    feedback = FeedbackStore(store.sessions)
    cid, _, _ = _answered(store)
    with pytest.raises(NoRatingYet):
        feedback.add_comment(cid, "Tốt")
    feedback.rate_conversation(cid, 5)
    rated = feedback.add_comment(cid, "Rất tốt, email a.b@example.com")
    assert (rated.score, rated.comment) == (5, "Rất tốt, email [email]")


def test_scores_and_comments_are_checked(store):
    feedback = FeedbackStore(store.sessions)
    cid, _, _ = _answered(store)
    for score in (0, 6, 2.5):
        with pytest.raises(InvalidFeedbackError, match="1 to 5"):
            feedback.rate_conversation(cid, score)
    with pytest.raises(InvalidFeedbackError, match=f"at most {MAX_COMMENT_CHARS}"):
        feedback.rate_conversation(cid, 3, "x" * (MAX_COMMENT_CHARS + 1))
    assert feedback.rate_conversation(cid, 3, "x" * MAX_COMMENT_CHARS).comment == (
        "x" * MAX_COMMENT_CHARS
    )
    with pytest.raises(ConversationNotFound):
        feedback.rate_conversation("c_missing", 3)
    with pytest.raises(ValueError, match="1 to 5"):
        OfficerStore(store).rate(cid, 9)


# -- the chat API --------------------------------------------------------------------------


@pytest.fixture
def client(web_settings, web_assistant):
    with TestClient(create_app(web_settings, assistant=web_assistant)) as client:
        yield client


def test_voting_on_an_answer_through_the_api(client, web_assistant):
    asked = client.post("/api/v1/chat", json={"message": "Làm lại hộ chiếu ở Tokyo cần gì?"})
    cid = asked.json()["conversation_id"]
    answer = next(
        m
        for m in client.get(f"/api/v1/conversations/{cid}/messages").json()["messages"]
        if m["role"] == "assistant"
    )
    assert answer["helpful"] is None

    url = f"/api/v1/conversations/{cid}/messages/{answer['id']}/feedback"
    response = client.post(url, json={"helpful": True})
    assert response.status_code == 200, response.text
    assert response.json() == {"conversation_id": cid, "message_id": answer["id"], "helpful": True}
    assert client.post(url, json={"helpful": False}).status_code == 200
    assert FeedbackStore(web_assistant.store.sessions).answer_votes(cid) == {answer["id"]: False}
    listed = client.get(f"/api/v1/conversations/{cid}/messages").json()["messages"]
    assert next(m for m in listed if m["id"] == answer["id"])["helpful"] is False

    question = next(m for m in listed if m["role"] == "user")
    wrong = client.post(
        f"/api/v1/conversations/{cid}/messages/{question['id']}/feedback", json={"helpful": True}
    )
    assert wrong.status_code == 404
    assert wrong.json() == {"detail": "This answer does not exist in this conversation."}
    unknown = client.post(
        f"/api/v1/conversations/c_nope/messages/{answer['id']}/feedback", json={"helpful": True}
    )
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "This conversation does not exist."}
    invalid = client.post(url, json={"helpful": "maybe"})
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "helpful"


def test_rating_a_conversation_with_a_comment_through_the_api(client, web_assistant):
    cid = client.post("/api/v1/chat", json={"message": "Xin chào"}).json()["conversation_id"]
    url = f"/api/v1/conversations/{cid}/rating"

    assert client.post(url, json={"score": 4}).json() == {
        "conversation_id": cid,
        "score": 4,
        "has_comment": False,
    }
    response = client.post(url, json={"score": 5, "comment": "Nhanh. SĐT 0912 345 678"})
    assert response.json() == {"conversation_id": cid, "score": 5, "has_comment": True}
    rating = FeedbackStore(web_assistant.store.sessions).conversation_rating(cid)
    assert (rating.score, rating.comment) == (5, "Nhanh. SĐT [phone]")

    too_long = client.post(url, json={"score": 5, "comment": "x" * (MAX_COMMENT_CHARS + 1)})
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "comment"
    assert client.post(url, json={"score": 6}).status_code == 422
    missing = client.post("/api/v1/conversations/c_nope/rating", json={"score": 3})
    assert missing.status_code == 404


# -- anonymised conversations ---------------------------------------------------------------


def _anonymise_all(store: ConversationStore) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.audit import AuditLog
    from bot.retention import Retention

    retention = Retention(store.sessions, AuditLog(store.sessions), days=1, action="anonymise")
    retention.run(now=datetime.now(UTC) + timedelta(days=3))


def test_anonymised_conversations_take_no_more_feedback(store):
    feedback = FeedbackStore(store.sessions)
    cid, _, answer = _answered(store)
    feedback.rate_conversation(cid, 4)
    _anonymise_all(store)

    for write in (
        lambda: feedback.rate_answer(cid, answer, True),
        lambda: feedback.rate_conversation(cid, 2, "gọi 0912 345 678"),
        lambda: feedback.add_comment(cid, "Anh Nguyễn ở 12 Namba"),
    ):
        with pytest.raises(ConversationAnonymised, match="anonymised under the retention"):
            write()
    rating = feedback.conversation_rating(cid)
    assert (rating.score, rating.comment) == (4, None)
    assert feedback.answer_votes(cid) == {}
    # Still a ConversationNotFound for the callers that fall back on it (Telegram).
    assert issubclass(ConversationAnonymised, ConversationNotFound)


def test_the_api_refuses_feedback_on_an_anonymised_conversation(client, web_assistant):
    asked = client.post("/api/v1/chat", json={"message": "Làm lại hộ chiếu ở Tokyo cần gì?"})
    cid = asked.json()["conversation_id"]
    answer = next(
        m
        for m in client.get(f"/api/v1/conversations/{cid}/messages").json()["messages"]
        if m["role"] == "assistant"
    )
    _anonymise_all(web_assistant.store)

    vote = client.post(
        f"/api/v1/conversations/{cid}/messages/{answer['id']}/feedback", json={"helpful": True}
    )
    rating = client.post(f"/api/v1/conversations/{cid}/rating", json={"score": 5})
    readable = {
        "detail": "This conversation was anonymised under the retention policy; "
        "it can no longer be rated or commented on."
    }
    assert (vote.status_code, vote.json()) == (404, readable)
    assert (rating.status_code, rating.json()) == (404, readable)
    assert FeedbackStore(web_assistant.store.sessions).conversation_rating(cid) is None
