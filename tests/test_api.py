"""The chat API (../shared/spec/chat-api.md) through the app's test client, on the real
engine over the sample knowledge base and a SQLite database."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.officer_store import OfficerStore
from channels.app import create_app
from tests.web_helpers import parse_sse


@pytest.fixture
def client(web_settings, web_assistant):
    with TestClient(create_app(web_settings, assistant=web_assistant)) as client:
        yield client


def _client(settings, assistant, **changes):
    return TestClient(create_app(settings.model_copy(update=changes), assistant=assistant))


def test_health_is_ok_once_started(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_is_503_with_the_reason_before_start_up(web_settings, web_assistant):
    # Without entering the client, the lifespan (which builds the assistant) has not run.
    client = TestClient(create_app(web_settings, assistant=web_assistant))
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert "starting" in response.json()["detail"]


def test_chat_answers_a_vietnamese_question_with_citations(client):
    response = client.post(
        "/api/v1/chat", json={"message": "Làm lại hộ chiếu ở Tokyo cần giấy tờ gì?"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["conversation_id"].startswith("c_") and len(body["conversation_id"]) >= 24
    reply = body["reply"]
    assert reply["language"] == "vi"
    assert reply["declined"] is False
    assert 0 <= reply["confidence"] <= 1
    assert reply["citations"], reply
    assert set(reply["citations"][0]) >= {"doc_id", "lang", "title", "source", "reviewed"}
    assert reply["citations"][0]["doc_id"].startswith("passport")
    assert body["handoff"]["status"] in {"none", "offered"}


def test_chat_continues_a_conversation_and_lists_its_messages(client):
    first = client.post("/api/v1/chat", json={"message": "I lost my passport in Osaka"}).json()
    cid = first["conversation_id"]
    second = client.post(
        "/api/v1/chat", json={"message": "How much does it cost?", "conversation_id": cid}
    )
    assert second.status_code == 200
    assert second.json()["conversation_id"] == cid

    listed = client.get(f"/api/v1/conversations/{cid}/messages")
    assert listed.status_code == 200
    messages = listed.json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[0]["text"] == "I lost my passport in Osaka"
    assert all(m["created_at"] for m in messages)
    assert "citations" in messages[1] and "citations" not in messages[0]


def test_a_request_for_an_officer_from_the_page_button_queues_the_conversation(client):
    for text in (
        "Tôi muốn nói chuyện với cán bộ lãnh sự.",
        "I would like to talk to a consular officer.",
    ):
        body = client.post("/api/v1/chat", json={"message": text}).json()
        assert body["handoff"]["status"] == "requested", (text, body)


def test_unknown_conversation_is_404(client):
    response = client.post(
        "/api/v1/chat", json={"message": "hello", "conversation_id": "c_doesnotexist"}
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "This conversation does not exist."}
    assert client.get("/api/v1/conversations/c_nope/messages").status_code == 404
    assert client.get("/api/v1/conversations/c_nope/events").status_code == 404
    assert client.post("/api/v1/conversations/c_nope/rating", json={"score": 3}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"message": ""}, "message", "empty"),
        ({"message": "   \n "}, "message", "empty"),
        ({"message": "x" * 4001}, "message", "at most 4000"),
        ({}, "message", "required"),
        ({"message": 42}, "message", "string"),
        ({"message": "hi", "language": "Vietnamese"}, "language", "pattern"),
    ],
)
def test_invalid_chat_requests_are_422_with_a_readable_explanation(client, body, field, words):
    response = client.post("/api/v1/chat", json=body)
    assert response.status_code == 422
    data = response.json()
    assert data["errors"][0]["field"] == field
    assert words in data["detail"].lower()
    assert data["detail"].startswith("Invalid request. message") or field != "message"


def test_a_message_of_4000_characters_after_trimming_is_accepted(client):
    response = client.post("/api/v1/chat", json={"message": "  " + "hộ chiếu " * 444 + "  "})
    assert response.status_code == 200


def test_oversized_bodies_are_413(web_settings, web_assistant):
    with _client(web_settings, web_assistant, max_request_bytes=2048) as client:
        big = {"message": "a" * 3000}
        response = client.post("/api/v1/chat", json=big)
        assert response.status_code == 413
        assert "at most 2048 bytes" in response.json()["detail"]

        # Without Content-Length (chunked), the cap applies while reading.
        def chunks():
            yield b'{"message": "'
            for _ in range(10):
                yield b"a" * 500
            yield b'"}'

        response = client.post(
            "/api/v1/chat", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert client.post("/api/v1/chat", json={"message": "a" * 100}).status_code == 200


def test_rate_limit_per_client_ip_is_429_with_retry_after(web_settings, web_assistant):
    with _client(web_settings, web_assistant, rate_limit_per_minute=2) as client:
        for _ in range(2):
            assert client.post("/api/v1/chat", json={"message": "visa"}).status_code == 200
        response = client.post("/api/v1/chat", json={"message": "visa"})
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
        assert "wait" in response.json()["detail"]
        stream = client.post("/api/v1/chat/stream", json={"message": "visa"})
        assert stream.status_code == 429


def test_rate_limit_by_conversation_counts_each_conversation_apart(web_settings, web_assistant):
    with _client(
        web_settings, web_assistant, rate_limit_per_minute=2, rate_limit_key="conversation"
    ) as client:

        def send(cid=None):
            return client.post("/api/v1/chat", json={"message": "visa", "conversation_id": cid})

        # New conversations still count by client IP, so they cannot be opened in a flood.
        first, second = (send().json()["conversation_id"] for _ in range(2))
        assert send().status_code == 429
        assert [send(first).status_code for _ in range(3)] == [200, 200, 429]
        assert send(second).status_code == 200


def test_openapi_describes_the_contract(client):
    schema = client.get("/openapi.json").json()
    assert {
        "/api/v1/health",
        "/api/v1/chat",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/chat/stream",
        "/api/v1/conversations/{conversation_id}/events",
    } <= set(schema["paths"])
    assert client.get("/docs").status_code == 200


def test_the_streamed_reply_arrives_in_pieces_then_the_whole_response(client):
    response = client.post("/api/v1/chat/stream", json={"message": "Đăng ký khai sinh cho con"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    assert events[0][0] == "start"
    kind, done = events[-1]
    assert kind == "done"
    deltas = "".join(data["text"] for kind, data in events if kind == "delta")
    assert deltas == done["reply"]["text"]
    assert done["reply"]["citations"]
    # The web page's conversations are on the "web" channel.
    conversation = client.app.state.services.assistant.store.get_conversation(
        done["conversation_id"]
    )
    assert conversation.channel == "web"


def test_streaming_an_unknown_conversation_is_a_plain_404(client):
    response = client.post(
        "/api/v1/chat/stream", json={"message": "hi", "conversation_id": "c_unknown"}
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "This conversation does not exist."


def test_satisfaction_rating_is_stored_and_validated(client, web_assistant):
    cid = client.post("/api/v1/chat", json={"message": "visa"}).json()["conversation_id"]
    assert client.post(f"/api/v1/conversations/{cid}/rating", json={"score": 4}).status_code == 200
    assert client.post(f"/api/v1/conversations/{cid}/rating", json={"score": 5}).status_code == 200
    assert OfficerStore(web_assistant.store).rating(cid) == 5
    bad = client.post(f"/api/v1/conversations/{cid}/rating", json={"score": 6})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "score"


def test_the_chat_page_is_served_with_the_configured_hotline(web_settings, web_assistant):
    with _client(web_settings, web_assistant, citizen_protection_hotline="+84 24 1234 5678") as c:
        page = c.get("/")
        assert page.status_code == 200
        assert 'href="tel:+842412345678"' in page.text
        assert "+84 24 1234 5678" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert c.get("/static/chat.js").status_code == 200


def test_unknown_paths_are_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
