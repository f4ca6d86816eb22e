"""Live events for open pages: officer replies to citizens, queue changes to consoles.

Topics are plain strings: ``conversation:<id>`` for one citizen's page and the console
view of it, ``queue`` for every open console. With several app processes the Redis bus
carries events between them; otherwise they stay inside the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

log = logging.getLogger(__name__)

QUEUE_TOPIC = "queue"
# A subscriber that falls this far behind (a stalled browser) loses the oldest events
# rather than growing memory without bound; pages re-fetch state on every event anyway.
_SUBSCRIBER_BACKLOG = 100


def conversation_topic(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


class EventBus(Protocol):
    async def publish(self, topic: str, event: dict[str, Any]) -> None: ...

    def subscribe(
        self, topic: str, *, heartbeat: float | None = None
    ) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any] | None]]:
        """``async with bus.subscribe(topic) as events``: subscribed on entry, so nothing
        published after entering is missed; ``async for event in events`` reads them, and
        None after ``heartbeat`` idle seconds, so that a stream can send a keep-alive."""
        ...

    async def aclose(self) -> None: ...


class InProcessEventBus:
    """asyncio queues, one per subscriber; events never leave the process."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(
        self, topic: str, *, heartbeat: float | None = None
    ) -> AsyncIterator[AsyncIterator[dict[str, Any] | None]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_SUBSCRIBER_BACKLOG)
        self._subscribers[topic].add(queue)

        async def events() -> AsyncIterator[dict[str, Any] | None]:
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), heartbeat)
                except TimeoutError:
                    yield None

        try:
            yield events()
        finally:
            self._subscribers[topic].discard(queue)
            if not self._subscribers[topic]:
                del self._subscribers[topic]

    async def aclose(self) -> None:
        self._subscribers.clear()


class RedisEventBus:
    """Redis pub/sub, so that an officer on one process reaches a citizen on another."""

    def __init__(self, url: str, *, prefix: str = "consular:") -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        await self._redis.publish(self._prefix + topic, json.dumps(event, ensure_ascii=False))

    @asynccontextmanager
    async def subscribe(
        self, topic: str, *, heartbeat: float | None = None
    ) -> AsyncIterator[AsyncIterator[dict[str, Any] | None]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._prefix + topic)

        async def events() -> AsyncIterator[dict[str, Any] | None]:
            while True:
                message = await pubsub.get_message(timeout=heartbeat)
                if message is None:
                    yield None
                    continue
                if message.get("type") != "message":
                    continue
                try:
                    yield json.loads(message["data"])
                except ValueError:
                    log.warning("ignored a malformed event on %s", topic)

        try:
            yield events()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe()
            await pubsub.aclose()

    async def ping(self) -> None:
        await self._redis.ping()

    async def aclose(self) -> None:
        await self._redis.aclose()


def build_event_bus(redis_url: str | None) -> EventBus:
    return RedisEventBus(redis_url) if redis_url else InProcessEventBus()
