"""Helpers of the web and console tests: accounts, signing in (test client or browser),
reading event streams."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from bot.officer_store import UserStore
from bot.store import ConversationStore
from channels.app import create_app
from consular.settings import Settings
from tests.browser_fixtures import new_page

PASSWORD = "correct horse battery"


def add_user(store: ConversationStore, username: str, role: str = "officer") -> None:
    UserStore(store.sessions).add(username, PASSWORD, role)


def login_token(client) -> str:
    page = client.get("/console/login")
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the login form has no CSRF token"
    return match.group(1)


def submit_login(client, username: str, password: str = PASSWORD) -> None:
    """Post the console's login form as ``username``: ``client`` gets the session cookie."""
    token = login_token(client)
    response = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def sign_in(client, username: str, password: str = PASSWORD, *, page: str = "/console") -> str:
    """Sign ``client`` in; returns the session's CSRF token from the console ``page`` (a
    content editor's gaps page, for one: the queue is 403 to an editor)."""
    submit_login(client, username, password)
    response = client.get(page)
    assert response.status_code == 200, response.text[:500]
    match = re.search(r'name="csrf-token" content="([^"]+)"', response.text)
    assert match, response.text[:500]
    return match.group(1)


def signed_in(client, username: str, *, page: str = "/console"):
    """``client`` signed in as ``username``, sending its CSRF token with every request."""
    client.headers["X-CSRF-Token"] = sign_in(client, username, page=page)
    return client


def console_app(settings: Settings, assistant, users: Iterable[tuple[str, str]]):
    """The web app on ``assistant`` with these ``(username, role)`` accounts."""
    for username, role in users:
        add_user(assistant.store, username, role)
    return create_app(settings, assistant=assistant)


def console_page(
    browser,
    base: str,
    username: str,
    *,
    width: int = 1440,
    login: str = "/console/login",
    ready: str | None = "#queue-title",
):
    """A Playwright page signed in as ``username`` through the login form at ``login``;
    when ``ready`` is given, once the landing page shows that selector."""
    page = new_page(browser, base, width, 900)
    page.goto(login)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if ready is not None:
        page.wait_for_selector(ready)
    return page


def parse_sse(text: str) -> list[tuple[str, dict]]:
    """``(event, data)`` pairs of a text/event-stream body."""
    events = []
    for frame in text.split("\n\n"):
        kind = re.search(r"^event: (.*)$", frame, re.M)
        data = re.search(r"^data: (.*)$", frame, re.M)
        if kind and data:
            events.append((kind.group(1), json.loads(data.group(1))))
    return events
