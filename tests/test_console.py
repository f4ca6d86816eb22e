"""The officer console through the app's test client: sign-in, CSRF, roles, queue,
claim, reply, notes, resolve, hand back, and the audit log of all of it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bot.audit import AuditLog
from bot.officer_store import UserStore
from channels.app import create_app
from consular.cli import app as cli
from tests.web_helpers import PASSWORD, add_user, console_app, login_token, sign_in, signed_in

URGENT = "Tôi bị công an bắt giữ ở Osaka, giúp tôi với"
REQUEST = "I would like to talk to a consular officer about my visa."


USERS = (("lan", "officer"), ("minh", "officer"), ("ha", "content_editor"))


@pytest.fixture
def app(web_settings, web_assistant):
    return console_app(web_settings, web_assistant, USERS)


@pytest.fixture
def lan(app):
    with TestClient(app) as client:
        yield signed_in(client, "lan")


@pytest.fixture
def minh(app, lan):
    # Not entered: it shares the app that lan's client started (one lifespan, one key).
    return signed_in(TestClient(app), "minh")


def _citizen_asks(client, text: str) -> str:
    response = client.post("/api/v1/chat", json={"message": text})
    assert response.status_code == 200, response.text
    return response.json()["conversation_id"]


def _audit(app, conversation_id=None):
    services = app.state.services
    return [(e.actor, e.action) for e in reversed(services.audit.entries(conversation_id))]


# -- sign-in -------------------------------------------------------------------------------


def test_the_console_asks_for_sign_in(app):
    with TestClient(app) as client:
        page = client.get("/console", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/console/login"
        response = client.get("/console/api/queue")
        assert response.status_code == 401
        assert response.json() == {"detail": "Sign in to the officer console first."}


def test_sign_in_sets_a_signed_httponly_lax_cookie_and_is_audited(app):
    with TestClient(app) as client:
        token = login_token(client)
        response = client.post(
            "/console/login",
            data={"username": "LAN", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        cookie = next(
            h for h in response.headers.get_list("set-cookie") if h.startswith("consular_session=")
        )
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
        assert "Secure" not in cookie  # the test client speaks plain HTTP, as configured
        assert client.get("/console/api/queue").status_code == 200
        assert ("lan", "sign_in") in _audit(app)


def test_secure_cookies_when_configured(web_settings, web_assistant):
    add_user(web_assistant.store, "lan")
    settings = web_settings.model_copy(update={"session_cookie_secure": True})
    app = create_app(settings, assistant=web_assistant)
    # Secure cookies only travel over HTTPS, so this client speaks it.
    with TestClient(app, base_url="https://testserver") as client:
        token = login_token(client)
        response = client.post(
            "/console/login",
            data={"username": "lan", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert "Secure" in response.headers["set-cookie"]


def test_a_wrong_password_is_refused_and_audited(app):
    with TestClient(app) as client:
        token = login_token(client)
        response = client.post(
            "/console/login",
            data={"username": "lan", "password": "not the password", "csrf_token": token},
        )
        assert response.status_code == 401
        assert "Wrong username or password." in response.text
        assert "consular_session" not in client.cookies
        assert ("lan", "sign_in_failed") in _audit(app)


def test_repeated_wrong_passwords_lock_the_sign_in_for_a_while(app):
    with TestClient(app) as client:
        for _ in range(5):
            wrong = {"username": "lan", "password": "guess", "csrf_token": login_token(client)}
            assert client.post("/console/login", data=wrong).status_code == 401
        right = {"username": "lan", "password": PASSWORD, "csrf_token": login_token(client)}
        response = client.post("/console/login", data=right, follow_redirects=False)
        assert response.status_code == 429
        assert "Too many failed sign-ins" in response.text
        assert "consular_session" not in client.cookies
        assert ("lan", "sign_in_throttled") in _audit(app)


def test_sign_in_without_the_form_token_is_refused(app):
    with TestClient(app) as client:
        login_token(client)
        response = client.post(
            "/console/login", data={"username": "lan", "password": PASSWORD, "csrf_token": "x"}
        )
        assert response.status_code == 403
        assert "reload the page" in response.json()["detail"]


def test_a_forged_session_cookie_is_not_a_session(app):
    with TestClient(app) as client:
        client.cookies.set("consular_session", "eyJ1IjoibGFuIn0.forged.sig", path="/console")
        assert client.get("/console/api/queue").status_code == 401


def test_sign_out_needs_the_token_and_ends_the_session(lan, app):
    token = lan.headers.pop("X-CSRF-Token")
    assert lan.post("/console/logout").status_code == 403
    response = lan.post("/console/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert lan.get("/console/api/queue").status_code == 401
    assert ("lan", "sign_out") in _audit(app)


# -- roles ---------------------------------------------------------------------------------


def test_a_content_editor_cannot_see_the_queue(app):
    with TestClient(app) as client:
        sign_in_page = client
        token = login_token(sign_in_page)
        client.post(
            "/console/login", data={"username": "ha", "password": PASSWORD, "csrf_token": token}
        )
        # Their console is the content console (tests/test_content_api.py), not the queue.
        page = client.get("/console", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/console/content"
        response = client.get("/console/api/queue")
        assert response.status_code == 403
        assert "officers and administrators" in response.json()["detail"]


def test_an_admin_sees_the_queue(app, web_assistant):
    add_user(web_assistant.store, "root", "admin")
    with TestClient(app) as client:
        sign_in(client, "root")
        assert client.get("/console/api/queue").status_code == 200


# -- queue and claim -----------------------------------------------------------------------


def test_queue_puts_urgent_first_then_the_longest_wait(lan):
    waiting_longest = _citizen_asks(lan, REQUEST)
    waiting_less = _citizen_asks(lan, "Tôi muốn gặp cán bộ lãnh sự.")
    urgent = _citizen_asks(lan, URGENT)
    _citizen_asks(lan, "Làm lại hộ chiếu cần giấy tờ gì?")  # answered: not in the queue

    items = lan.get("/console/api/queue").json()["items"]
    assert [i["conversation_id"] for i in items] == [urgent, waiting_longest, waiting_less]
    first = items[0]
    assert first["status"] == "urgent"
    assert first["language"] == "vi"
    assert first["channel"] == "api"
    assert first["mission"] == "jp-osaka"
    assert first["waiting_seconds"] >= 0 and first["waiting_since"]
    assert first["claimed_by"] is None


def test_claim_needs_the_csrf_token(lan):
    cid = _citizen_asks(lan, URGENT)
    response = lan.post(f"/console/api/conversations/{cid}/claim", headers={"X-CSRF-Token": ""})
    assert response.status_code == 403
    response = lan.post(
        f"/console/api/conversations/{cid}/claim", headers={"X-CSRF-Token": "guessed"}
    )
    assert response.status_code == 403


def test_two_officers_claim_and_exactly_one_wins(lan, minh, app):
    cid = _citizen_asks(lan, URGENT)
    assert lan.post(f"/console/api/conversations/{cid}/claim").status_code == 200
    refused = minh.post(f"/console/api/conversations/{cid}/claim")
    assert refused.status_code == 409
    assert (
        refused.json()["detail"] == "lan has already claimed this conversation; it stays with them."
    )
    # The winner claiming again is harmless.
    assert lan.post(f"/console/api/conversations/{cid}/claim").status_code == 200
    assert _audit(app, cid).count(("lan", "claim")) == 2
    assert ("minh", "claim") not in _audit(app, cid)


def test_unknown_conversation_in_the_console_is_404(lan):
    assert lan.get("/console/api/conversations/c_missing").status_code == 404
    assert lan.post("/console/api/conversations/c_missing/claim").status_code == 404


# -- reply, notes, resolve, release --------------------------------------------------------


def test_reply_needs_a_claim_then_is_stored_as_an_officer_message(lan, minh, app):
    cid = _citizen_asks(lan, URGENT)
    body = {"text": "Chào anh, tôi là cán bộ lãnh sự. Anh đang ở đồn cảnh sát nào?"}
    not_claimed = lan.post(f"/console/api/conversations/{cid}/reply", json=body)
    assert not_claimed.status_code == 409
    assert not_claimed.json()["detail"] == "Claim this conversation before acting on it."

    lan.post(f"/console/api/conversations/{cid}/claim")
    response = lan.post(f"/console/api/conversations/{cid}/reply", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["delivered"] is True
    messages = lan.get(f"/api/v1/conversations/{cid}/messages").json()["messages"]
    assert (messages[-1]["role"], messages[-1]["text"]) == ("officer", body["text"])

    other = minh.post(f"/console/api/conversations/{cid}/reply", json={"text": "me too"})
    assert other.status_code == 409
    assert "lan has claimed" in other.json()["detail"]
    assert (
        lan.post(f"/console/api/conversations/{cid}/reply", json={"text": "  "}).status_code == 422
    )
    assert ("lan", "reply") in _audit(app, cid)


def test_while_an_officer_has_it_the_assistant_stays_silent(lan):
    cid = _citizen_asks(lan, URGENT)
    lan.post(f"/console/api/conversations/{cid}/claim")
    body = lan.post("/api/v1/chat", json={"message": "Xin hãy nhanh lên", "conversation_id": cid})
    assert body.status_code == 200
    assert body.json()["reply"] is None


def test_conversation_view_has_history_citations_mission_notes_and_audit(lan, minh, app):
    cid = _citizen_asks(lan, URGENT)
    lan.post(f"/console/api/conversations/{cid}/claim")
    assert (
        lan.post(
            f"/console/api/conversations/{cid}/notes", json={"text": "Called the police station"}
        ).status_code
        == 200
    )
    # Any officer may add a note, claimed or not.
    assert (
        minh.post(
            f"/console/api/conversations/{cid}/notes", json={"text": "Family called too"}
        ).status_code
        == 200
    )

    view = lan.get(f"/console/api/conversations/{cid}").json()
    assert view["conversation"]["status"] == "urgent"
    assert view["conversation"]["claimed_by"] == "lan"
    assistant = [m for m in view["messages"] if m["role"] == "assistant"][0]
    assert assistant["citations"] and assistant["confidence"] is not None
    assert view["mission"]["id"] == "jp-osaka" and view["mission"]["emergency_hotline"]
    assert [(n["author"], n["text"]) for n in view["notes"]] == [
        ("lan", "Called the police station"),
        ("minh", "Family called too"),
    ]
    assert {("lan", "claim"), ("lan", "note"), ("minh", "note")} <= {
        (a["actor"], a["action"]) for a in view["audit"]
    }
    # Notes never reach the citizen.
    texts = [m["text"] for m in lan.get(f"/api/v1/conversations/{cid}/messages").json()["messages"]]
    assert "Called the police station" not in texts


def test_resolve_takes_it_out_of_the_queue_and_keeps_the_outcome(lan, app):
    cid = _citizen_asks(lan, REQUEST)
    assert lan.post(f"/console/api/conversations/{cid}/resolve", json={}).status_code == 409
    lan.post(f"/console/api/conversations/{cid}/claim")
    response = lan.post(
        f"/console/api/conversations/{cid}/resolve", json={"resolution": "explained the e-visa"}
    )
    assert response.status_code == 200
    assert cid not in [i["conversation_id"] for i in lan.get("/console/api/queue").json()["items"]]
    view = lan.get(f"/console/api/conversations/{cid}").json()["conversation"]
    assert (view["status"], view["claimed_by"], view["resolved_by"]) == ("none", None, "lan")
    assert view["resolution"] == "explained the e-visa" and view["resolved_at"]
    assert ("lan", "resolve") in _audit(app, cid)
    # The citizen's rating and comment (redacted) reach the officer's view.
    rated = lan.post(
        f"/api/v1/conversations/{cid}/rating",
        json={"score": 2, "comment": "Too slow, call me on 0912 345 678"},
    )
    assert rated.status_code == 200, rated.text
    data = lan.get(f"/console/api/conversations/{cid}").json()
    assert data["rating"] == 2
    assert "0912" not in data["rating_comment"] and "Too slow" in data["rating_comment"]


def test_hand_back_to_the_assistant(lan, app):
    cid = _citizen_asks(lan, REQUEST)
    lan.post(f"/console/api/conversations/{cid}/claim")
    assert lan.post(f"/console/api/conversations/{cid}/release").status_code == 200
    view = lan.get(f"/console/api/conversations/{cid}").json()["conversation"]
    assert (view["status"], view["claimed_by"]) == ("none", None)
    # The assistant answers again.
    body = lan.post(
        "/api/v1/chat", json={"message": "Phí làm hộ chiếu là bao nhiêu?", "conversation_id": cid}
    ).json()
    assert body["reply"] is not None
    assert _audit(app, cid) == [("lan", "claim"), ("lan", "release")]


def test_every_officer_action_is_audited_in_order(lan, app):
    cid = _citizen_asks(lan, URGENT)
    for path, body in (
        ("claim", None),
        ("reply", {"text": "Tôi đang gọi cho đồn cảnh sát."}),
        ("notes", {"text": "detained at Namba station"}),
        ("resolve", {"resolution": "released, passport returned"}),
    ):
        assert lan.post(f"/console/api/conversations/{cid}/{path}", json=body).status_code == 200
    assert _audit(app, cid) == [
        ("lan", "claim"),
        ("lan", "reply"),
        ("lan", "note"),
        ("lan", "resolve"),
    ]


# -- the users command ---------------------------------------------------------------------


def test_users_add_creates_an_account_that_can_sign_in(tmp_path, web_assistant):
    env = {"CONSULAR_DATA_DIR": str(tmp_path / "cli-var")}
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["users", "add", "thu.tran", "--role", "content-editor", "--password-stdin"],
        input="a long enough password\n",
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "content editor account 'thu.tran'" in result.output

    again = runner.invoke(
        cli, ["users", "add", "thu.tran", "--password-stdin"], input="another password\n", env=env
    )
    assert again.exit_code == 1
    assert "already exists" in again.output
    short = runner.invoke(
        cli, ["users", "add", "x.y", "--password-stdin"], input="short\n", env=env
    )
    assert short.exit_code == 1 and "too short" in short.output
    role = runner.invoke(
        cli,
        ["users", "add", "x.y", "--role", "boss", "--password-stdin"],
        input="long password here\n",
        env=env,
    )
    assert role.exit_code == 1 and "Unknown role" in role.output

    from bot.database import default_database_url, make_engine
    from bot.store import ConversationStore

    engine = make_engine(default_database_url(tmp_path / "cli-var"))
    users = UserStore(ConversationStore(engine).sessions)
    assert users.authenticate("thu.tran", "a long enough password").role == "content_editor"
    assert users.authenticate("thu.tran", "wrong") is None
    assert AuditLog(ConversationStore(engine).sessions).entries() == []
    engine.dispose()


def test_weak_session_secrets_are_refused():
    from pydantic import ValidationError

    from consular.settings import Settings

    for weak in ("short", "please-change-me-please-change-me-123", "a" * 40):
        with pytest.raises(ValidationError, match="CONSULAR_SESSION_SECRET"):
            Settings(session_secret=weak)
    assert Settings(session_secret="q3J9-vX2mT8pLw0sRk5ZbN7cYhF4dG1e").session_secret


def test_serve_is_a_command():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "--port" in result.output
