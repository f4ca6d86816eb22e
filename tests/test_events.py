"""Live events: the in-process and Redis buses, and officer replies reaching a citizen's
open event stream on a real server (across two app instances through Redis).

Redis comes from CONSULAR_TEST_REDIS_URL (default: the local server). Without it those
cases are skipped, except under CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import functools
import os
import queue
import threading

import httpx
import pytest

from channels.app import create_app
from channels.events import InProcessEventBus, RedisEventBus
from tests.live_server import serve
from tests.web_helpers import add_user, sign_in

REDIS_URL = os.environ.get("CONSULAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1")


@functools.cache
def redis_problem() -> str | None:
    async def ping() -> None:
        bus = RedisEventBus(REDIS_URL)
        try:
            await bus.ping()
        finally:
            await bus.aclose()

    try:
        asyncio.run(ping())
    except Exception as exc:  # any failure to connect means "no Redis here"
        return f"Redis at {REDIS_URL} is not reachable ({type(exc).__name__})"
    return None


@pytest.fixture
def redis_url() -> str:
    problem = redis_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"{problem}; CI must run the Redis tests")
        pytest.skip(problem)
    return REDIS_URL


def test_redis_is_reachable_in_ci() -> None:
    """Under CI=true a missing Redis is a failure, reported here as well as below."""
    if redis_problem():
        if IN_CI:
            pytest.fail(redis_problem())
        pytest.skip(redis_problem())


async def _one_event(publisher, subscriber, topic: str) -> dict | None:
    async with subscriber.subscribe(topic, heartbeat=5) as events:
        await publisher.publish(topic, {"type": "message", "text": "xin chào"})
        async for event in events:
            if event is not None:
                return event
    return None


def test_in_process_bus_delivers_to_subscribers_of_the_topic_only() -> None:
    async def scenario() -> None:
        bus = InProcessEventBus()
        async with bus.subscribe("a") as a_events, bus.subscribe("b") as b_events:
            await bus.publish("a", {"type": "x"})
            assert await asyncio.wait_for(anext(a_events), 1) == {"type": "x"}
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(anext(b_events), 0.1)
        await bus.publish("a", {"type": "nobody listens"})  # no subscriber: no error

    asyncio.run(scenario())


def test_heartbeat_yields_none_when_idle() -> None:
    async def scenario() -> None:
        bus = InProcessEventBus()
        async with bus.subscribe("a", heartbeat=0.05) as events:
            assert await asyncio.wait_for(anext(events), 1) is None

    asyncio.run(scenario())


def test_redis_bus_crosses_two_bus_instances(redis_url) -> None:
    async def scenario() -> dict | None:
        one, two = RedisEventBus(redis_url), RedisEventBus(redis_url)
        try:
            return await asyncio.wait_for(_one_event(one, two, "conversation:c_test"), 10)
        finally:
            await one.aclose()
            await two.aclose()

    assert asyncio.run(scenario()) == {"type": "message", "text": "xin chào"}


def _read_stream(url: str, found: queue.Queue, stop: threading.Event) -> None:
    """Put each SSE event name (and its data line) on ``found`` until stopped."""
    with httpx.Client(timeout=30) as client, client.stream("GET", url) as response:
        found.put(("status", str(response.status_code)))
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: ") and event:
                found.put((event, line[len("data: ") :]))
            if stop.is_set():
                return


def _wait_for(found: queue.Queue, kind: str, timeout: float = 20) -> str:
    while True:
        event, data = found.get(timeout=timeout)
        if event == kind:
            return data


def _officer_replies(base: str, conversation_id: str, text: str) -> None:
    with httpx.Client(base_url=base, timeout=60) as officer:
        officer.headers["X-CSRF-Token"] = sign_in(officer, "lan")
        claim = officer.post(f"/console/api/conversations/{conversation_id}/claim")
        assert claim.status_code == 200, claim.text
        reply = officer.post(
            f"/console/api/conversations/{conversation_id}/reply", json={"text": text}
        )
        assert reply.status_code == 200 and reply.json()["delivered"], reply.text


def _citizen_waits_for_reply(citizen_base: str, officer_base: str) -> str:
    with httpx.Client(base_url=citizen_base, timeout=60) as citizen:
        body = citizen.post("/api/v1/chat", json={"message": "Tôi muốn gặp cán bộ lãnh sự"}).json()
    cid = body["conversation_id"]
    found: queue.Queue = queue.Queue()
    stop = threading.Event()
    url = f"{citizen_base}/api/v1/conversations/{cid}/events"
    reader = threading.Thread(target=_read_stream, args=(url, found, stop), daemon=True)
    reader.start()
    try:
        _wait_for(found, "ready")
        _officer_replies(officer_base, cid, "Chào chị, tôi là cán bộ lãnh sự Lan.")
        return _wait_for(found, "message")
    finally:
        stop.set()


def test_an_officer_reply_reaches_the_citizens_open_stream(web_settings, web_assistant):
    add_user(web_assistant.store, "lan")
    with serve(create_app(web_settings, assistant=web_assistant)) as base:
        data = _citizen_waits_for_reply(base, base)
    assert "cán bộ lãnh sự Lan" in data and '"role": "officer"' in data


def test_with_redis_the_reply_crosses_from_one_app_process_to_another(
    web_settings, web_assistant, redis_url
):
    add_user(web_assistant.store, "lan")
    settings = web_settings.model_copy(update={"redis_url": redis_url})
    # Two apps, each with its own Redis connection, on one database: two "processes".
    with (
        serve(create_app(settings, assistant=web_assistant)) as officer_base,
        serve(create_app(settings, assistant=web_assistant)) as citizen_base,
    ):
        data = _citizen_waits_for_reply(citizen_base, officer_base)
    assert "cán bộ lãnh sự Lan" in data


def test_the_console_queue_stream_announces_new_urgent_conversations(web_settings, web_assistant):
    add_user(web_assistant.store, "lan")
    with serve(create_app(web_settings, assistant=web_assistant)) as base:
        found: queue.Queue = queue.Queue()
        stop = threading.Event()
        with httpx.Client(base_url=base, timeout=60) as officer:
            sign_in(officer, "lan")
            cookies = dict(officer.cookies)

        def read() -> None:
            with (
                httpx.Client(base_url=base, timeout=30, cookies=cookies) as client,
                client.stream("GET", "/console/api/events") as response,
            ):
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        found.put((line[7:], ""))
                    if stop.is_set():
                        return

        threading.Thread(target=read, daemon=True).start()
        try:
            _wait_for(found, "ready")
            httpx.post(
                f"{base}/api/v1/chat", json={"message": "Tôi bị bắt giữ ở Osaka"}, timeout=60
            )
            _wait_for(found, "queue")
        finally:
            stop.set()
