"""Sending to Telegram with flood-control and network retries.

Flood control (HTTP 429, ``RetryAfter``) says how long to wait: we wait that long and send
again, so a reply is delayed, not dropped. Network errors and timeouts are retried with
exponential backoff. Both are bounded; after the last attempt the error goes up to the
caller (the update is then released for redelivery, or the officer is told).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``attempts`` per call, backoff doubling from ``backoff`` seconds."""

    attempts: int = 6
    backoff: float = 1.0
    max_backoff: float = 30.0
    # Added to Telegram's retry_after, which is rounded to whole seconds.
    flood_margin: float = 0.1


def retry_seconds(error: RetryAfter) -> float:
    """``retry_after`` in seconds, as an int (PTB 22 default) or a timedelta (PTB_TIMEDELTA)."""
    with warnings.catch_warnings():
        # PTB warns that the int will become a timedelta; both are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """``await call()``, again after flood control or a network error, at most policy.attempts."""
    delay = policy.backoff
    for attempt in range(1, policy.attempts + 1):
        try:
            return await call()
        except RetryAfter as error:
            if attempt == policy.attempts:
                raise
            wait = retry_seconds(error) + policy.flood_margin
            log.warning("Telegram flood control: waiting %.1f s (attempt %d)", wait, attempt)
            await sleep(wait)
        except NetworkError as error:
            # BadRequest is a NetworkError in PTB, but sending it again cannot fix it.
            if isinstance(error, BadRequest) or attempt == policy.attempts:
                raise
            log.warning("Telegram unreachable (%s): retrying in %.1f s", error, delay)
            await sleep(delay)
            delay = min(delay * 2, policy.max_backoff)
    raise AssertionError("unreachable: the last attempt returns or raises")


async def send_html(
    bot: Bot, chat_id: int | str, messages: Sequence[str], policy: RetryPolicy, **extra: object
) -> None:
    """Send the messages in order; ``extra`` (a keyboard) goes with the last one."""
    for index, message in enumerate(messages):
        options = extra if index == len(messages) - 1 else {}
        await call_with_retries(
            lambda message=message, options=options: bot.send_message(
                chat_id,
                message,
                parse_mode=ParseMode.HTML,
                # Previews of the source pages would bury the answer.
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                **options,
            ),
            policy,
        )
