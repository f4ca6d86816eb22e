"""Server-Sent Events: framing and a keep-alive stream over an event bus subscription."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import StreamingResponse

from channels.services import Services

HEARTBEAT_SECONDS = 15.0
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def frame(event: str, data: Any) -> str:
    # json.dumps never emits a raw newline, so one data: line always suffices.
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


def sse_response(body: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)


async def bus_stream(services: Services, topic: str) -> AsyncIterator[str]:
    """``ready`` once subscribed, then each event under its ``type``, with keep-alive
    comments in between; ends when the server stops (a disconnect cancels it)."""
    async with services.bus.subscribe(topic, heartbeat=HEARTBEAT_SECONDS) as events:
        yield frame("ready", {"topic": topic})
        async for event in events:
            if services.stopping.is_set():
                return
            if event is None:
                yield ": keep-alive\n\n"
            else:
                yield frame(str(event.get("type", "update")), event)
