"""The dashboard's figures (bot/analytics.py) on SQLite and PostgreSQL, exactly, on seeded
conversations with known timestamps; filters, CSV, and the dashboard routes' permissions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from bot.analytics import (
    FIGURE_NAMES,
    Analytics,
    Filters,
    InvalidFiltersError,
    UnknownFigureError,
    doc_topics,
)
from bot.models import AnswerRating, Conversation, HandoffEvent, Message, Rating
from bot.store import ConversationStore
from channels.app import create_app
from tests.web_helpers import add_user, sign_in, submit_login

TOPICS = {"passport-renewal": ("passport",), "passport-lost": ("passport", "emergency")}


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def seed(store: ConversationStore) -> None:
    """Five conversations, 2 to 10 November 2026 (a Monday to the next Tuesday):

    A web/vi/tokyo/passport-renewal, answered, rated 5, answer helpful.
    B telegram/en/osaka/passport-lost, urgent at 12:01, officer reply after 10 min,
      resolved after 60 min; rated 2 the next day, answer not helpful.
    C web/vi/tokyo/no topic, requested at 08:30, reply after 30 min, still open; two
      answers voted helpful and not helpful.
    D api/no language/no mission/an unknown document, answered, at 23:59:59 on the 5th.
    E web/en/no topic, an officer wrote without a handoff; rated 4 on the 10th.
    """
    rows: list[object] = [
        _conversation("c_a", at(2, 9), "web", "vi", "jp-tokyo", "passport-renewal"),
        _conversation("c_b", at(2, 12), "telegram", "en", "jp-osaka", "passport-lost",
                      resolved_at=at(2, 13, 1)),
        _conversation("c_c", at(3, 8), "web", "vi", "jp-tokyo", None, status="requested"),
        _conversation("c_d", at(5, 23, 59, 59), "api", None, None, "visa-unknown"),
        _conversation("c_e", at(10, 10), "web", "en", None, None),
        HandoffEvent(conversation_id="c_b", from_status="none", to_status="urgent",
                     actor="assistant", created_at=at(2, 12, 1)),
        HandoffEvent(conversation_id="c_b", from_status="urgent", to_status="none",
                     actor="officer:lan", created_at=at(2, 13, 1)),
        HandoffEvent(conversation_id="c_c", from_status="none", to_status="requested",
                     actor="user", created_at=at(3, 8, 30)),
        Rating(conversation_id="c_a", score=5, created_at=at(2, 10)),
        Rating(conversation_id="c_b", score=2, comment="slow, call 0912 345 678", created_at=at(3, 8)),
        Rating(conversation_id="c_e", score=4, created_at=at(10, 12)),
    ]  # fmt: skip
    messages = {
        "a1": ("c_a", "assistant", at(2, 9, 1)),
        "b1": ("c_b", "assistant", at(2, 12, 1)),
        "b2": ("c_b", "officer", at(2, 12, 11)),
        "b3": ("c_b", "officer", at(2, 12, 40)),
        "c1": ("c_c", "assistant", at(3, 8, 1)),
        "c2": ("c_c", "assistant", at(3, 8, 2)),
        "c3": ("c_c", "officer", at(3, 9)),
        "e1": ("c_e", "officer", at(10, 11)),
    }
    votes = [("a1", True, at(2, 9, 5)), ("b1", False, at(2, 12, 2)),
             ("c1", True, at(3, 8, 10)), ("c2", False, at(3, 8, 20))]  # fmt: skip
    with store.sessions() as session:
        session.add_all(rows[:5])
        session.flush()
        session.add_all(rows[5:])
        stored = {
            key: Message(conversation_id=cid, role=role, text="x", created_at=when)
            for key, (cid, role, when) in messages.items()
        }
        session.add_all(stored.values())
        session.flush()
        for key, helpful, when in votes:
            message = stored[key]
            session.add(
                AnswerRating(message_id=message.id, conversation_id=message.conversation_id,
                             helpful=helpful, created_at=when)
            )  # fmt: skip
        session.commit()


def _conversation(
    cid, created, channel, language, mission, doc, *, status="none", resolved_at=None
):
    return Conversation(
        id=cid,
        channel=channel,
        language=language,
        mission_id=mission,
        topic_doc_id=doc,
        handoff_status=status,
        created_at=created,
        updated_at=created,
        resolved_at=resolved_at,
    )


def _report(store: ConversationStore, **filters):
    return Analytics(store.sessions, TOPICS).report(Filters(**filters))


def _rows(report, name):
    return report.figure(name).rows


DAYS = [f"2026-11-{d:02d}" for d in range(2, 11)]
NO_TIMES = (0, None, None, 0, None, None)
NO_FEEDBACK = (0, None, 0, None)


def test_every_figure_on_the_whole_range(store):
    seed(store)
    report = _report(store)

    assert report.period == "day" and set(report.figures) == set(FIGURE_NAMES)
    counts = dict(zip(DAYS, [2, 1, 0, 1, 0, 0, 0, 0, 1], strict=True))
    assert _rows(report, "conversations_by_day") == list(counts.items())
    assert _rows(report, "conversations_by_language") == [
        ("en", 2, 0.4),
        ("vi", 2, 0.4),
        ("unknown", 1, 0.2),
    ]
    assert _rows(report, "conversations_by_channel") == [
        ("web", 3, 0.6),
        ("api", 1, 0.2),
        ("telegram", 1, 0.2),
    ]
    # B's document has two topics and counts in both; C, D (unknown document), E: other.
    assert _rows(report, "conversations_by_topic") == [
        ("other", 3),
        ("passport", 2),
        ("emergency", 1),
    ]
    assert _rows(report, "handling") == [("assistant", 2, 0.4), ("officer", 3, 0.6)]
    assert _rows(report, "urgent_by_day") == [(d, 1 if d == "2026-11-02" else 0) for d in DAYS]
    # First replies: B 10 min, C 30 min (E never entered the queue). Resolution: B 60 min.
    assert _rows(report, "response_times") == [
        ("first_reply", 2, 20.0, 30.0),
        ("resolution", 1, 60.0, 60.0),
    ]
    by_day = {row[0]: row[1:] for row in _rows(report, "response_times_by_day")}
    assert list(by_day) == DAYS
    assert by_day["2026-11-02"] == (1, 10.0, 10.0, 1, 60.0, 60.0)
    assert by_day["2026-11-03"] == (1, 30.0, 30.0, 0, None, None)
    assert all(by_day[d] == NO_TIMES for d in DAYS[2:])

    over_time = {row[0]: row[1:] for row in _rows(report, "satisfaction_over_time")}
    assert list(over_time) == DAYS
    assert over_time["2026-11-02"] == (1, 5.0, 2, 0.5)  # A's 5; A helpful, B not
    assert over_time["2026-11-03"] == (1, 2.0, 2, 0.5)  # B's 2 (a day later); C's two votes
    assert over_time["2026-11-10"] == (1, 4.0, 0, None)
    assert all(over_time[d] == NO_FEEDBACK for d in DAYS[2:-1])
    assert _rows(report, "satisfaction_by_topic") == [
        ("emergency", 1, 2.0, 1, 0.0),
        ("other", 1, 4.0, 2, 0.5),
        ("passport", 2, 3.5, 2, 0.5),
    ]
    assert _rows(report, "satisfaction_by_channel") == [
        ("telegram", 1, 2.0, 1, 0.0),
        ("web", 2, 4.5, 3, 0.6667),
    ]
    assert report.totals == {
        "conversations": 5,
        "answered_by_assistant": 2,
        "handed_off": 3,
        "handed_off_share": 0.6,
        "urgent": 1,
        "ratings": 3,
        "mean_score": 3.67,
        "votes": 4,
        "helpful_share": 0.5,
        "first_reply_median_minutes": 20.0,
        "resolution_median_minutes": 60.0,
    }


def test_date_range_is_inclusive_in_utc(store):
    seed(store)
    report = _report(store, date_from=date(2026, 11, 3), date_to=date(2026, 11, 5))
    # C (the 3rd) and D (23:59:59 on the 5th) are in; A, B (the 2nd) and E (the 10th) out.
    assert _rows(report, "conversations_by_day") == [
        ("2026-11-03", 1),
        ("2026-11-04", 0),
        ("2026-11-05", 1),
    ]
    assert report.totals["conversations"] == 2 and report.totals["handed_off"] == 1
    assert report.totals["ratings"] == 0 and report.totals["votes"] == 2
    assert _rows(report, "response_times")[0] == ("first_reply", 1, 30.0, 30.0)

    empty = _report(store, date_from=date(2026, 12, 1), date_to=date(2026, 12, 2))
    assert _rows(empty, "conversations_by_day") == [("2026-12-01", 0), ("2026-12-02", 0)]
    assert empty.totals["conversations"] == 0 and empty.totals["handed_off_share"] is None
    assert _rows(empty, "response_times") == [
        ("first_reply", 0, None, None),
        ("resolution", 0, None, None),
    ]
    with pytest.raises(InvalidFiltersError, match="before the start"):
        Filters(date_from=date(2026, 11, 5), date_to=date(2026, 11, 4))


def test_mission_and_channel_filters(store):
    seed(store)
    tokyo = _report(store, mission_id="jp-tokyo")
    assert tokyo.totals["conversations"] == 2
    assert _rows(tokyo, "conversations_by_language") == [("vi", 2, 1.0)]
    assert _rows(tokyo, "satisfaction_by_channel") == [("web", 1, 5.0, 3, 0.6667)]

    telegram = _report(store, channel="telegram")
    assert _rows(telegram, "conversations_by_channel") == [("telegram", 1, 1.0)]
    assert _rows(telegram, "urgent_by_day") == [("2026-11-02", 1)]
    assert telegram.totals["resolution_median_minutes"] == 60.0
    both = _report(store, mission_id="jp-osaka", channel="web")
    assert both.totals["conversations"] == 0


def test_satisfaction_by_week(store):
    seed(store)
    report = _report(store, period="week")
    assert report.period == "week"
    assert report.figure("satisfaction_over_time").columns[0] == "week"
    # Mondays: 2 Nov (A 5, B 2; four votes) and 9 Nov (E 4).
    assert _rows(report, "satisfaction_over_time") == [
        ("2026-11-02", 2, 3.5, 4, 0.5),
        ("2026-11-09", 1, 4.0, 0, None),
    ]


def test_long_ranges_are_shown_by_week(store):
    seed(store)
    report = _report(store, date_from=date(2026, 9, 1), date_to=date(2026, 11, 30))
    assert report.period == "week"
    weeks = [row[0] for row in _rows(report, "satisfaction_over_time")]
    assert weeks[0] == "2026-08-31" and weeks[-1] == "2026-11-30"
    assert all(date.fromisoformat(w).weekday() == 0 for w in weeks)


def test_percentiles_median_and_p90_by_nearest_rank(store):
    """Ten handoffs answered after 1..10 minutes: median 5.5, p90 9 (nearest rank)."""
    with store.sessions() as session:
        for n in range(1, 11):
            cid = f"c_p{n:02d}"
            session.add(_conversation(cid, at(4, 8), "web", "vi", None, None))
            session.flush()
            session.add(
                HandoffEvent(
                    conversation_id=cid,
                    from_status="none",
                    to_status="requested",
                    actor="user",
                    created_at=at(4, 9),
                )
            )
            session.add(Message(conversation_id=cid, role="officer", text="o",
                                created_at=at(4, 9) + timedelta(minutes=n)))  # fmt: skip
        session.commit()
    assert _rows(_report(store), "response_times")[0] == ("first_reply", 10, 5.5, 9.0)


def test_csv_of_every_figure(store):
    seed(store)
    report = _report(store)
    assert report.figure("conversations_by_language").to_csv() == (
        "language,conversations,share\r\nen,2,0.4\r\nvi,2,0.4\r\nunknown,1,0.2\r\n"
    )
    assert report.figure("response_times_by_day").to_csv().splitlines()[1] == (
        "2026-11-02,1,10.0,10.0,1,60.0,60.0"
    )
    assert report.figure("satisfaction_over_time").to_csv().splitlines()[3] == ("2026-11-04,0,,0,")
    for name in FIGURE_NAMES:
        lines = report.figure(name).to_csv().splitlines()
        assert lines[0] == ",".join(report.figure(name).columns)
        assert len(lines) == len(report.figure(name).rows) + 1
    with pytest.raises(UnknownFigureError):
        report.figure("passwords")


def test_topics_come_from_the_knowledge_base(store, sample_knowledge):
    topics = doc_topics(sample_knowledge.documents)
    assert topics["passport-renewal"][0] == "passport"
    seed(store)
    report = Analytics(store.sessions, lambda: topics).report()
    assert ("passport", 2) in _rows(report, "conversations_by_topic")


# -- the routes ----------------------------------------------------------------------------


@pytest.fixture
def app(web_settings, web_assistant):
    for name, role in (("root", "admin"), ("lan", "officer"), ("ha", "content_editor")):
        add_user(web_assistant.store, name, role)
    seed(web_assistant.store)
    return create_app(web_settings, assistant=web_assistant)


def test_only_administrators_see_the_dashboard_and_its_data(app):
    with TestClient(app) as client:
        page = client.get("/console/dashboard", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/console/login"
        assert client.get("/console/api/analytics").status_code == 401
        for name in ("lan", "ha"):
            submit_login(client, name)  # a content editor has no queue page
            page = client.get("/console/dashboard")
            assert page.status_code == 403
            assert "The analytics dashboard is for administrators" in page.text
            for url in ("/console/api/analytics", "/console/api/analytics/handling.csv"):
                refused = client.get(url)
                assert refused.status_code == 403
                assert refused.json()["detail"].startswith("Only administrators may do this")
            client.cookies.clear()


def test_the_admin_gets_the_page_json_and_csv(app):
    with TestClient(app) as client:
        sign_in(client, "root")
        page = client.get("/console/dashboard")
        assert page.status_code == 200
        assert '<script src="/static/vendor/chart.umd.min.js" defer></script>' in page.text
        assert 'href="/console/dashboard">Dashboard</a>' in page.text  # the shared nav
        assert 'value="jp-osaka"' in page.text  # missions from the knowledge base
        assert page.headers["content-security-policy"].startswith("default-src 'self'")

        body = client.get("/console/api/analytics").json()
        assert body["totals"]["conversations"] == 5 and set(body["figures"]) == set(FIGURE_NAMES)
        assert body["figures"]["handling"]["rows"] == [["assistant", 2, 0.4], ["officer", 3, 0.6]]
        filtered = client.get(
            "/console/api/analytics",
            params={"date_from": "2026-11-03", "date_to": "2026-11-05", "mission": "",
                    "channel": "web", "period": ""},
        ).json()  # fmt: skip
        assert filtered["totals"]["conversations"] == 1
        assert filtered["filters"]["channel"] == "web"

        csv = client.get(
            "/console/api/analytics/conversations_by_channel.csv",
            params={"mission": "jp-tokyo"},
        )
        assert csv.status_code == 200
        assert csv.headers["content-type"] == "text/csv; charset=utf-8"
        assert csv.headers["content-disposition"] == (
            'attachment; filename="conversations_by_channel_jp-tokyo.csv"'
        )
        assert csv.text == "channel,conversations,share\r\nweb,2,1.0\r\n"
        (export,) = [
            e for e in app.state.services.audit.entries() if e.action == "analytics_export"
        ]
        assert (export.actor, export.detail) == (
            "root",
            "conversations_by_channel_jp-tokyo.csv",
        )

        missing = client.get("/console/api/analytics/nope.csv")
        assert missing.status_code == 404 and missing.json() == {
            "detail": "There is no such figure."
        }
        bad = client.get("/console/api/analytics", params={"date_from": "yesterday"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.date_from"
        backwards = client.get(
            "/console/api/analytics", params={"date_from": "2026-11-05", "date_to": "2026-11-01"}
        )
        assert backwards.status_code == 422
        assert backwards.json() == {"detail": "The end date is before the start date."}
        assert client.get("/console/api/analytics", params={"channel": "fax"}).status_code == 422


def test_staff_test_and_evaluation_conversations_are_never_counted(store):
    seed(store)
    with store.sessions() as session:
        session.add(_conversation("c_cli", at(4, 9), "cli", "vi", "jp-tokyo", "passport-renewal"))
        session.add(_conversation("c_eval", at(4, 10), "eval", "en", None, None))
        session.commit()
    report = _report(store)
    assert report.totals["conversations"] == 5
    channels = {row[0] for row in _rows(report, "conversations_by_channel")}
    assert channels.isdisjoint({"cli", "eval"})
    assert _report(store, mission_id="jp-tokyo").totals["conversations"] == 2


def test_dates_out_of_bounds_are_refused_at_the_api(app):
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    with TestClient(app) as client:
        sign_in(client, "root")
        for params in (
            {"date_to": "9999-12-31"},
            {"date_from": "0001-01-01", "date_to": "9999-12-30"},
            {"date_from": "1999-12-31"},
            {"date_from": (tomorrow + timedelta(days=1)).isoformat()},
        ):
            for url in ("/console/api/analytics", "/console/api/analytics/handling.csv"):
                refused = client.get(url, params=params)
                assert refused.status_code == 422, (url, params, refused.text)
                assert refused.json() == {
                    "detail": f"Dates must be between 2000-01-01 and {tomorrow.isoformat()}."
                }
        too_long = client.get(
            "/console/api/analytics", params={"date_from": "2020-01-01", "date_to": "2023-12-31"}
        )
        assert too_long.status_code == 422
        assert too_long.json() == {"detail": "The date range can be at most three years."}
        three_years = client.get(
            "/console/api/analytics", params={"date_from": "2023-12-01", "date_to": "2026-11-30"}
        )
        assert three_years.status_code == 200
        assert three_years.json()["totals"]["conversations"] == 5
        assert client.get("/console/api/analytics", params={"channel": "cli"}).status_code == 422
