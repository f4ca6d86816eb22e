"""Helpers of the web and console tests: accounts, signing in, reading event streams."""

from __future__ import annotations

import json
import re

from bot.officer_store import UserStore
from bot.store import ConversationStore

PASSWORD = "correct horse battery"


def add_user(store: ConversationStore, username: str, role: str = "officer") -> None:
    UserStore(store.sessions).add(username, PASSWORD, role)


def login_token(client) -> str:
    page = client.get("/console/login")
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the login form has no CSRF token"
    return match.group(1)


def sign_in(client, username: str, password: str = PASSWORD) -> str:
    """Sign ``client`` in; returns the session's CSRF token from the console page."""
    token = login_token(client)
    response = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get("/console")
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def parse_sse(text: str) -> list[tuple[str, dict]]:
    """``(event, data)`` pairs of a text/event-stream body."""
    events = []
    for frame in text.split("\n\n"):
        kind = re.search(r"^event: (.*)$", frame, re.M)
        data = re.search(r"^data: (.*)$", frame, re.M)
        if kind and data:
            events.append((kind.group(1), json.loads(data.group(1))))
    return events
