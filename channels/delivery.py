"""Delivering an officer's reply to the citizen on the channel they wrote from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bot.store import ConversationRecord
from channels.events import EventBus, conversation_topic
from consular.errors import ConsularError


class DeliveryError(ConsularError):
    user_message = (
        "The reply is saved in the conversation but could not be delivered to the citizen now."
    )


class Delivery(Protocol):
    async def deliver(self, conversation: ConversationRecord, text: str) -> None: ...


class EventDelivery:
    """Web and API citizens read replies from their conversation's event stream (and
    from ``GET /api/v1/conversations/{id}/messages``, where the reply is already stored)."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    async def deliver(self, conversation: ConversationRecord, text: str) -> None:
        await self._bus.publish(
            conversation_topic(conversation.id),
            {"type": "message", "role": "officer", "text": text},
        )


class DeliveryRouter:
    """Maps ``conversation.channel`` to the Delivery that reaches that channel."""

    def __init__(self, deliveries: Mapping[str, Delivery]) -> None:
        self._deliveries = dict(deliveries)

    def register(self, channel: str, delivery: Delivery) -> None:
        self._deliveries[channel] = delivery

    async def deliver(self, conversation: ConversationRecord, text: str) -> None:
        delivery = self._deliveries.get(conversation.channel)
        if delivery is None:
            raise DeliveryError(
                f"Replies cannot be delivered on the {conversation.channel!r} channel; "
                "the reply is saved in the conversation."
            )
        await delivery.deliver(conversation, text)

    async def resolved(self, conversation: ConversationRecord) -> None:
        """Tell the citizen's channel that an officer resolved the conversation, where the
        channel does more than the page's event stream (Telegram asks for a rating)."""
        delivery = self._deliveries.get(conversation.channel)
        notify = getattr(delivery, "resolved", None)
        if notify is not None:
            await notify(conversation)
