"""Satisfaction and operations figures for the admin dashboard, each also as CSV.

A few plain SELECTs of the columns needed (portable between SQLite and PostgreSQL), then
the aggregation in Python: about 5,000 conversations take well under a second (see
``bench/analytics_bench.py``). Conversations are chosen by their creation date (UTC,
both ends inclusive), mission and channel; every figure is about those conversations.
With no channel chosen, the citizens' channels only: ``cli`` (staff trying the assistant)
and ``eval`` (evaluation runs) conversations are never counted (``TEST_CHANNELS``).
Dates from requests are checked with ``check_dates`` (2000-01-01 to tomorrow, at most
three years): a typo must not become a multi-million-row report or an overflow.

Definitions:
- handed off: the conversation went to the officers' queue (a handoff event to
  ``requested`` or ``urgent``, or that status now) or an officer wrote in it; otherwise it
  was answered by the assistant.
- officer time to first reply / to resolution: from the first time the conversation
  entered the queue to the first officer message after it / to ``resolved_at``; in
  minutes, by the day it entered the queue. Median (the middle value, or the mean of the
  two middle ones) and p90 (nearest rank: the smallest value with 90 % at or below it).
- topic: the topics of the conversation's ``topic_doc_id`` in the knowledge base (a
  conversation counts once in each of its document's topics), else ``other``.
- satisfaction: the 1-5 ratings (mean) and the answer votes (share helpful), by the day or
  ISO week (its Monday) they were given, by topic and by channel.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import TEST_CHANNELS, AnswerRating, Conversation, HandoffEvent, Message, Rating
from bot.redaction import redact
from consular.errors import ConsularError

QUEUE_STATUSES = ("requested", "urgent")
OTHER_TOPIC = "other"
UNKNOWN = "unknown"
# Longer ranges are shown by week: a year of days is unreadable as a chart.
DAILY_UP_TO_DAYS = 62
Period = Literal["day", "week"]
TopicSource = Mapping[str, Sequence[str]] | Callable[[], Mapping[str, Sequence[str]]]


class UnknownFigureError(ConsularError):
    """A figure name the dashboard does not have."""

    user_message = "There is no such figure."


class InvalidFiltersError(ConsularError):
    """Filters that cannot select anything meaningful (e.g. the range ends before it starts)."""


EARLIEST_DATE = date(2000, 1, 1)
MAX_RANGE_DAYS = 3 * 366  # three years


def check_dates(date_from: date | None, date_to: date | None, today: date | None = None) -> None:
    """Dates a report may ask for: from 2000-01-01 to tomorrow (UTC), the end not before
    the start, at most three years apart when both are given (one alone is bounded by
    the data); InvalidFiltersError (422) otherwise."""
    today = today or datetime.now(UTC).date()
    latest = today + timedelta(days=1)
    for value in (date_from, date_to):
        if value is not None and not EARLIEST_DATE <= value <= latest:
            raise InvalidFiltersError(
                f"Dates must be between {EARLIEST_DATE.isoformat()} and {latest.isoformat()}."
            )
    if date_from and date_to and date_to < date_from:
        raise InvalidFiltersError("The end date is before the start date.")
    if date_from and date_to and (date_to - date_from).days > MAX_RANGE_DAYS:
        raise InvalidFiltersError("The date range can be at most three years.")


@dataclass(frozen=True, slots=True)
class Filters:
    """Which conversations a report is about; None means "any"."""

    date_from: date | None = None
    date_to: date | None = None
    mission_id: str | None = None
    channel: str | None = None
    period: Period | None = None  # None: by day up to DAILY_UP_TO_DAYS, else by week

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise InvalidFiltersError("The end date is before the start date.")

    def to_dict(self) -> dict[str, str | None]:
        return {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "mission_id": self.mission_id,
            "channel": self.channel,
            "period": self.period,
        }


@dataclass(frozen=True, slots=True)
class Figure:
    """One table of the report: what a chart draws and what its CSV holds."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": list(self.columns), "rows": self.rows}

    def to_csv(self) -> str:
        """The figure as CSV (header row first); text cells are redacted."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(
                ["" if v is None else redact(v) if isinstance(v, str) else v for v in row]
            )
        return out.getvalue()


@dataclass(frozen=True, slots=True)
class Report:
    filters: Filters
    period: Period
    totals: dict[str, Any]
    figures: dict[str, Figure] = field(default_factory=dict)

    def figure(self, name: str) -> Figure:
        if name not in self.figures:
            raise UnknownFigureError()
        return self.figures[name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "filters": self.filters.to_dict(),
            "period": self.period,
            "totals": self.totals,
            "figures": {name: f.to_dict() for name, f in self.figures.items()},
        }


FIGURE_NAMES = (
    "conversations_by_day",
    "conversations_by_language",
    "conversations_by_channel",
    "conversations_by_topic",
    "handling",
    "urgent_by_day",
    "response_times",
    "response_times_by_day",
    "satisfaction_over_time",
    "satisfaction_by_topic",
    "satisfaction_by_channel",
)


def doc_topics(documents: Iterable[Any]) -> dict[str, tuple[str, ...]]:
    """doc id -> its topics, over every language version (GuidanceDocument-like objects)."""
    topics: dict[str, list[str]] = defaultdict(list)
    for doc in documents:
        for topic in doc.meta.topics:
            if topic not in topics[doc.id]:
                topics[doc.id].append(topic)
    return {doc_id: tuple(values) for doc_id, values in topics.items()}


@dataclass(slots=True)
class _Conversation:
    id: str
    day: date
    channel: str
    language: str
    topics: tuple[str, ...]
    status: str
    resolved_at: datetime | None
    queued_at: datetime | None = None
    urgent_at: datetime | None = None
    first_reply_at: datetime | None = None
    officer_wrote: bool = False

    @property
    def handed_off(self) -> bool:
        return self.officer_wrote or self.queued_at is not None or self.status in QUEUE_STATUSES


class Analytics:
    """Builds the dashboard's report from the conversation database."""

    def __init__(self, sessions: sessionmaker[Session], topics: TopicSource) -> None:
        self._sessions = sessions
        self._topics = topics

    def report(self, filters: Filters | None = None) -> Report:
        """Every figure for the conversations the filters select."""
        filters = filters or Filters()
        topics = self._topics() if callable(self._topics) else self._topics
        with self._sessions() as session:
            conversations = self._load(session, filters, topics)
            ratings, votes = self._feedback(session, filters)
        return _build(filters, conversations, ratings, votes)

    # -- reading -------------------------------------------------------------------------

    def _load(
        self, session: Session, filters: Filters, topics: Mapping[str, Sequence[str]]
    ) -> dict[str, _Conversation]:
        rows = session.execute(
            _where(
                select(
                    Conversation.id,
                    Conversation.created_at,
                    Conversation.channel,
                    Conversation.language,
                    Conversation.topic_doc_id,
                    Conversation.handoff_status,
                    Conversation.resolved_at,
                ),
                filters,
            )
        ).all()
        found = {
            cid: _Conversation(
                id=cid,
                day=created.astimezone(UTC).date(),
                channel=channel,
                language=language or UNKNOWN,
                topics=tuple(topics.get(doc_id or "", ())) or (OTHER_TOPIC,),
                status=status,
                resolved_at=_utc(resolved_at),
            )
            for cid, created, channel, language, doc_id, status, resolved_at in rows
        }
        chosen = _where(select(Conversation.id), filters).scalar_subquery()
        events = session.execute(
            select(HandoffEvent.conversation_id, HandoffEvent.to_status, HandoffEvent.created_at)
            .where(HandoffEvent.conversation_id.in_(chosen))
            .order_by(HandoffEvent.created_at, HandoffEvent.id)
        ).all()
        for cid, to_status, at in events:
            c = found.get(cid)
            if c is None:
                continue
            at = _utc(at)
            if c.queued_at is None and to_status in QUEUE_STATUSES:
                c.queued_at = at
            if c.urgent_at is None and to_status == "urgent":
                c.urgent_at = at
        replies = session.execute(
            select(Message.conversation_id, Message.created_at)
            .where(Message.role == "officer", Message.conversation_id.in_(chosen))
            .order_by(Message.created_at, Message.id)
        ).all()
        for cid, at in replies:
            c = found.get(cid)
            if c is None:
                continue
            c.officer_wrote = True
            at = _utc(at)
            if c.first_reply_at is None and c.queued_at is not None and at >= c.queued_at:
                c.first_reply_at = at
        return found

    def _feedback(
        self, session: Session, filters: Filters
    ) -> tuple[list[tuple[str, int, datetime]], list[tuple[str, bool, datetime]]]:
        chosen = _where(select(Conversation.id), filters).scalar_subquery()
        ratings = session.execute(
            select(Rating.conversation_id, Rating.score, Rating.created_at).where(
                Rating.conversation_id.in_(chosen)
            )
        ).all()
        votes = session.execute(
            select(
                AnswerRating.conversation_id, AnswerRating.helpful, AnswerRating.created_at
            ).where(AnswerRating.conversation_id.in_(chosen))
        ).all()
        return (
            [(cid, int(score), _utc(at)) for cid, score, at in ratings],
            [(cid, bool(helpful), _utc(at)) for cid, helpful, at in votes],
        )


def _where(query: Select, filters: Filters) -> Select:
    if filters.date_from:
        query = query.where(Conversation.created_at >= _start_of(filters.date_from))
    if filters.date_to:
        query = query.where(Conversation.created_at < _start_of(filters.date_to + timedelta(1)))
    if filters.mission_id:
        query = query.where(Conversation.mission_id == filters.mission_id)
    if filters.channel:
        query = query.where(Conversation.channel == filters.channel)
    else:
        query = query.where(Conversation.channel.not_in(TEST_CHANNELS))
    return query


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# -- aggregation ---------------------------------------------------------------------------


def _build(
    filters: Filters,
    conversations: dict[str, _Conversation],
    ratings: list[tuple[str, int, datetime]],
    votes: list[tuple[str, bool, datetime]],
) -> Report:
    items = sorted(conversations.values(), key=lambda c: (c.day, c.id))
    days = _days(filters, [c.day for c in items])
    period = filters.period or ("day" if len(days) <= DAILY_UP_TO_DAYS else "week")
    figures = [
        _by_day(items, days),
        _count_by("conversations_by_language", "Conversations by language", "language",
                  [c.language for c in items]),
        _count_by("conversations_by_channel", "Conversations by channel", "channel",
                  [c.channel for c in items]),
        _count_by("conversations_by_topic", "Conversations by topic", "topic",
                  [t for c in items for t in c.topics], share=False),
        _handling(items),
        _urgent_by_day(items, days),
        _response_times(items),
        _response_times_by_day(items, days),
        _satisfaction_over_time(ratings, votes, period, days),
        _satisfaction_by("satisfaction_by_topic", "Satisfaction by topic", "topic", conversations,
                         ratings, votes, lambda c: c.topics),
        _satisfaction_by("satisfaction_by_channel", "Satisfaction by channel", "channel",
                         conversations, ratings, votes, lambda c: (c.channel,)),
    ]  # fmt: skip
    handed_off = sum(c.handed_off for c in items)
    first_replies = _minutes(items, "first_reply_at")
    resolutions = _minutes(items, "resolved_at")
    totals = {
        "conversations": len(items),
        "answered_by_assistant": len(items) - handed_off,
        "handed_off": handed_off,
        "handed_off_share": _share(handed_off, len(items)),
        "urgent": sum(c.urgent_at is not None for c in items),
        "ratings": len(ratings),
        "mean_score": _mean([s for _, s, _ in ratings]),
        "votes": len(votes),
        "helpful_share": _share(sum(h for _, h, _ in votes), len(votes)),
        "first_reply_median_minutes": _median(first_replies),
        "resolution_median_minutes": _median(resolutions),
    }
    return Report(filters, period, totals, {f.name: f for f in figures})


def _days(filters: Filters, seen: list[date]) -> list[date]:
    """Every day of the range (the filter's, else the data's), so that charts show gaps."""
    first = filters.date_from or (min(seen) if seen else None)
    last = filters.date_to or (max(seen) if seen else None)
    if first is None or last is None or last < first:
        return []
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _by_day(items: list[_Conversation], days: list[date]) -> Figure:
    counts = Counter(c.day for c in items)
    rows = [(d.isoformat(), counts.get(d, 0)) for d in days]
    return Figure("conversations_by_day", "Conversations by day", ("day", "conversations"), rows)


def _count_by(
    name: str, title: str, column: str, values: list[str], *, share: bool = True
) -> Figure:
    counts = Counter(values)
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if share:
        rows = [(key, n, _share(n, total)) for key, n in ordered]
        return Figure(name, title, (column, "conversations", "share"), rows)
    return Figure(name, title, (column, "conversations"), [(k, n) for k, n in ordered])


def _handling(items: list[_Conversation]) -> Figure:
    officer = sum(c.handed_off for c in items)
    assistant = len(items) - officer
    rows = [
        ("assistant", assistant, _share(assistant, len(items))),
        ("officer", officer, _share(officer, len(items))),
    ]
    return Figure(
        "handling",
        "Answered by the assistant vs handed off to an officer",
        ("outcome", "conversations", "share"),
        rows,
    )


def _urgent_by_day(items: list[_Conversation], days: list[date]) -> Figure:
    counts = Counter(c.urgent_at.date() for c in items if c.urgent_at is not None)
    # An urgent handoff can come a day after the conversation started (past the range).
    shown = sorted(set(days) | set(counts))
    rows = [(d.isoformat(), counts.get(d, 0)) for d in shown]
    return Figure("urgent_by_day", "Urgent handoffs by day", ("day", "urgent"), rows)


def _minutes(items: Iterable[_Conversation], until: str) -> list[float]:
    out = []
    for c in items:
        end = getattr(c, until)
        if c.queued_at is not None and end is not None and end >= c.queued_at:
            out.append((end - c.queued_at).total_seconds() / 60)
    return out


def _response_times(items: list[_Conversation]) -> Figure:
    rows = []
    for measure, until in (("first_reply", "first_reply_at"), ("resolution", "resolved_at")):
        values = _minutes(items, until)
        rows.append((measure, len(values), _median(values), _p90(values)))
    return Figure(
        "response_times",
        "Officer time to first reply and to resolution (minutes)",
        ("measure", "count", "median_minutes", "p90_minutes"),
        rows,
    )


def _response_times_by_day(items: list[_Conversation], days: list[date]) -> Figure:
    queued: dict[date, list[_Conversation]] = defaultdict(list)
    for c in items:
        if c.queued_at is not None:
            queued[c.queued_at.date()].append(c)
    rows = []
    for d in sorted(set(days) | set(queued)):
        first = _minutes(queued.get(d, []), "first_reply_at")
        resolved = _minutes(queued.get(d, []), "resolved_at")
        rows.append(
            (d.isoformat(), len(first), _median(first), _p90(first),
             len(resolved), _median(resolved), _p90(resolved))
        )  # fmt: skip
    return Figure(
        "response_times_by_day",
        "Officer response times by day the conversation entered the queue (minutes)",
        ("day", "first_reply_count", "first_reply_median_minutes", "first_reply_p90_minutes",
         "resolution_count", "resolution_median_minutes", "resolution_p90_minutes"),
        rows,
    )  # fmt: skip


_SATISFACTION_COLUMNS = ("ratings", "mean_score", "votes", "helpful_share")


def _satisfaction_row(scores: list[int], helpful: list[bool]) -> tuple[Any, ...]:
    return (len(scores), _mean(scores), len(helpful), _share(sum(helpful), len(helpful)))


def _period_of(day: date, period: Period) -> date:
    return day if period == "day" else day - timedelta(days=day.weekday())


def _satisfaction_over_time(
    ratings: list[tuple[str, int, datetime]],
    votes: list[tuple[str, bool, datetime]],
    period: Period,
    days: list[date],
) -> Figure:
    scores: dict[date, list[int]] = defaultdict(list)
    helpful: dict[date, list[bool]] = defaultdict(list)
    for _, score, at in ratings:
        scores[_period_of(at.date(), period)].append(score)
    for _, value, at in votes:
        helpful[_period_of(at.date(), period)].append(value)
    periods = {_period_of(d, period) for d in days} | set(scores) | set(helpful)
    rows = [
        (p.isoformat(), *_satisfaction_row(scores.get(p, []), helpful.get(p, [])))
        for p in sorted(periods)
    ]
    return Figure(
        "satisfaction_over_time",
        f"Satisfaction by {period} (mean rating 1-5, share of answers rated helpful)",
        (period, *_SATISFACTION_COLUMNS),
        rows,
    )


def _satisfaction_by(
    name: str,
    title: str,
    column: str,
    conversations: dict[str, _Conversation],
    ratings: list[tuple[str, int, datetime]],
    votes: list[tuple[str, bool, datetime]],
    keys: Callable[[_Conversation], Iterable[str]],
) -> Figure:
    scores: dict[str, list[int]] = defaultdict(list)
    helpful: dict[str, list[bool]] = defaultdict(list)
    for cid, score, _ in ratings:
        for key in keys(conversations[cid]) if cid in conversations else ():
            scores[key].append(score)
    for cid, value, _ in votes:
        for key in keys(conversations[cid]) if cid in conversations else ():
            helpful[key].append(value)
    rows = [
        (key, *_satisfaction_row(scores.get(key, []), helpful.get(key, [])))
        for key in sorted(set(scores) | set(helpful))
    ]
    return Figure(name, title, (column, *_SATISFACTION_COLUMNS), rows)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: Sequence[int]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _p90(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[math.ceil(0.9 * len(ordered)) - 1], 1)
