"""The Telegram channel against a local Bot API server: polling, webhook, delivery, retries.

The real engine answers over the sample index; python-telegram-bot talks HTTP to
``tests/telegram_server.py`` through its ``base_url``. Store parts run on SQLite and
PostgreSQL (skipped without PostgreSQL, except under CI=true).
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bot.assembly import Assistant
from bot.composer import Citation, Messages
from bot.database import make_engine, upgrade_database
from bot.engine import Reply
from bot.feedback import FeedbackStore
from bot.store import ConversationStore
from channels.telegram import (
    SECRET_HEADER,
    TelegramDeliveryError,
    TelegramNotConfigured,
    build_application,
    build_delivery,
    webhook_router,
)
from channels.telegram_format import MESSAGE_LIMIT, format_reply, split_text, utf16_length
from channels.telegram_send import RetryPolicy
from channels.telegram_store import TelegramStore
from consular.cli import app as cli_app
from consular.settings import Settings
from knowledge.base import KnowledgeBase
from tests.conftest import build_engine
from tests.telegram_server import BotApiServer, Failure, callback_update, text_update

HOTLINE = "+84 981 84 84 84"
OSAKA_HOTLINE = "+81 90 4769 6789"
SECRET = "s3cret-webhook-token_0123456789"
FAST = RetryPolicy(backoff=0.05, flood_margin=0.0)
CHAT = 555001


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def bot_api():
    server = BotApiServer().start()
    yield server
    server.stop()


@pytest.fixture
def settings(bot_api: BotApiServer) -> Settings:
    return Settings(
        telegram_bot_token=bot_api.token,
        telegram_webhook_secret=SECRET,
        telegram_api_base_url=bot_api.base_url,
    )


@pytest.fixture(scope="module")
def knowledge() -> KnowledgeBase:
    defaults = Settings()
    return KnowledgeBase.load(defaults.kb_dir, defaults.missions_file)


def make_assistant(store, sample_searcher, sample_index, knowledge) -> Assistant:
    return Assistant(build_engine(sample_searcher, store), store, knowledge, sample_index)


@pytest.fixture
def assistant(conversation_store, sample_searcher, sample_index, knowledge) -> Assistant:
    return make_assistant(conversation_store, sample_searcher, sample_index, knowledge)


@pytest.fixture
def any_store(database_url: str):  # noqa: F811 (the fixture imported above)
    """A migrated conversation store on SQLite, then on PostgreSQL."""
    engine = make_engine(database_url)
    upgrade_database(engine)
    yield ConversationStore(engine)
    engine.dispose()


# -- helpers -----------------------------------------------------------------------------


@asynccontextmanager
async def polling(application):
    """The Application polling the local server, as `consular telegram` runs it."""
    async with application:
        await application.updater.start_polling(poll_interval=0.0, timeout=timedelta(seconds=1))
        await application.start()
        try:
            yield
        finally:
            await application.updater.stop()
            await application.stop()


async def until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the bot"
        await asyncio.sleep(0.05)


def last_text(bot_api: BotApiServer, chat_id: int = CHAT) -> str:
    return bot_api.sent(chat_id)[-1]["text"]


def conversation_of(store: ConversationStore, chat_id: int = CHAT):
    return store.find_by_channel_ref("telegram", str(chat_id))


# -- polling -----------------------------------------------------------------------------


def test_polling_welcomes_answers_with_sources_and_gives_hotlines(bot_api, settings, assistant):
    store = assistant.store

    async def scenario() -> None:
        async with polling(build_application(settings, assistant, policy=FAST)):
            bot_api.queue(text_update(1, "/start"))
            await until(lambda: len(bot_api.sent(CHAT)) == 1)
            bot_api.queue(text_update(2, "Hộ chiếu hết hạn thì làm lại ở đâu?"))
            await until(lambda: len(bot_api.sent(CHAT)) == 2)
            bot_api.queue(text_update(3, "chồng tôi bị cảnh sát bắt ở Osaka rồi, giờ phải làm sao"))
            await until(lambda: len(bot_api.sent(CHAT)) == 3)
            bot_api.queue(text_update(4, "/hotline"))
            await until(lambda: len(bot_api.sent(CHAT)) == 4)

    asyncio.run(scenario())
    welcome, answer, emergency, hotline = bot_api.sent(CHAT)

    assert "Trợ lý Lãnh sự" in welcome["text"] and HOTLINE in welcome["text"]
    buttons = welcome["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == ["lang:vi", "lang:en", "lang:fr"]

    conversation = conversation_of(store)
    assert conversation.channel == "telegram"
    stored = store.messages(conversation.id)
    assert [m.client_ref for m in stored if m.role == "user"] == ["tg:2", "tg:3"]
    citation = stored[1].citations[0]
    assert citation["doc_id"] == "passport-renewal" and citation["lang"] == "vi"
    assert answer["parse_mode"] == "HTML"
    assert "<b>Nguồn</b>" in answer["text"]
    link = f'<a href="{html.escape(citation["source"])}">{html.escape(citation["title"])}</a>'
    assert link in answer["text"]
    assert f"rà soát ngày {citation['reviewed']}" in answer["text"]
    # The engine's plain "Nguồn: …" line became the linked list, not a duplicate of it.
    assert "Nguồn: " not in answer["text"]

    assert HOTLINE in emergency["text"] and OSAKA_HOTLINE in emergency["text"]
    assert conversation_of(store).handoff_status == "urgent"
    assert HOTLINE in hotline["text"] and OSAKA_HOTLINE in hotline["text"]
    assert "Osaka" in hotline["text"]
    # Every update was taken once and confirmed: Telegram would not send them again.
    assert bot_api.calls("getUpdates")[-1]["offset"] == "5"


def test_polling_human_language_choice_and_non_text(bot_api, settings, assistant):
    store = assistant.store
    chat = 555002

    async def scenario() -> None:
        async with polling(build_application(settings, assistant, policy=FAST)):
            bot_api.queue(text_update(11, "/human", chat_id=chat))
            await until(lambda: len(bot_api.sent(chat)) == 1)
            bot_api.queue(callback_update(12, "lang:en", chat_id=chat))
            await until(lambda: len(bot_api.calls("editMessageText")) == 1)
            bot_api.queue(text_update(13, "Hộ chiếu hết hạn thì làm lại ở đâu?", chat_id=chat))
            await until(lambda: len(bot_api.sent(chat)) == 2)
            location = text_update(14, "x", chat_id=chat)
            del location["message"]["text"]
            location["message"]["location"] = {"latitude": 35.68, "longitude": 139.69}
            bot_api.queue(location)
            await until(lambda: len(bot_api.sent(chat)) == 3)

    asyncio.run(scenario())
    human, answer, not_text = bot_api.sent(chat)
    assert "cán bộ lãnh sự" in human["text"] and HOTLINE in human["text"]
    conversation = conversation_of(store, chat)
    assert conversation.handoff_status == "requested"
    assert [m.text for m in store.messages(conversation.id)][0] == "/human"

    assert bot_api.calls("answerCallbackQuery")[0]["callback_query_id"] == "cb12"
    assert bot_api.calls("editMessageText")[0]["text"] == "English it is. Ask me your question."
    # The choice holds: a Vietnamese question is answered in English.
    assert "<b>Sources</b>" in answer["text"] and "reviewed " in answer["text"]
    assert conversation_of(store, chat).language == "en"
    assert "only read text" in not_text["text"]


def test_an_officer_held_conversation_gets_no_assistant_reply(bot_api, settings, assistant):
    client = TestClient(_webhook_app(settings, assistant))
    with client:
        _post(client, text_update(21, "Hộ chiếu hết hạn thì làm lại ở đâu?"))
        conversation = conversation_of(assistant.store)
        assert assistant.store.claim(conversation.id, "officer:hoa")
        assert _post(client, text_update(22, "Cảm ơn, tôi chờ cán bộ")).status_code == 200
    assert len(bot_api.sent(CHAT)) == 1
    assert [m.text for m in assistant.store.messages(conversation.id)][
        -1
    ] == "Cảm ơn, tôi chờ cán bộ"


def test_group_chats_and_edited_messages_get_no_answer(bot_api, settings, assistant):
    group = text_update(51, "Hộ chiếu hết hạn thì làm lại ở đâu?")
    group["message"]["chat"] = {"id": -100777, "type": "group", "title": "Hội đồng hương"}
    edited = text_update(52, "Hộ chiếu hết hạn thì làm lại ở đâu?")
    edited["edited_message"] = edited.pop("message")
    with TestClient(_webhook_app(settings, assistant)) as client:
        assert _post(client, group).json() == {"ok": True}
        assert _post(client, edited).json() == {"ok": True}
    assert bot_api.sent() == []
    assert conversation_of(assistant.store) is None
    assert conversation_of(assistant.store, -100777) is None


# -- webhook -----------------------------------------------------------------------------


def _webhook_app(settings: Settings, assistant: Assistant) -> FastAPI:
    app = FastAPI()
    app.include_router(webhook_router(settings, assistant))
    return app


def _post(client: TestClient, update: dict, secret: str | None = SECRET):
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return client.post("/telegram/webhook", json=update, headers=headers)


def test_webhook_rejects_a_missing_or_wrong_secret_and_answers_each_update_once(
    bot_api, settings, any_store, sample_searcher, sample_index, knowledge
):
    assistant = make_assistant(any_store, sample_searcher, sample_index, knowledge)
    update = text_update(31, "hc het han thi lam lai o dau")
    with TestClient(_webhook_app(settings, assistant)) as client:
        missing = _post(client, update, secret=None)
        assert missing.status_code == 401
        assert missing.json() == {"detail": f"The {SECRET_HEADER} header is missing."}
        wrong = _post(client, update, secret=SECRET[:-1] + "x")
        assert wrong.status_code == 403
        assert wrong.json() == {"detail": f"The {SECRET_HEADER} header is wrong."}
        assert bot_api.calls("getMe") == []  # rejected before the bot even started
        assert conversation_of(any_store) is None

        bad = client.post("/telegram/webhook", content=b"{", headers={SECRET_HEADER: SECRET})
        assert bad.status_code == 400 and bad.json() == {"detail": "The body is not JSON."}

        assert _post(client, update).json() == {"ok": True}
        assert _post(client, update).json() == {"ok": True}  # Telegram redelivers it
    assert len(bot_api.sent(CHAT)) == 1
    assert "<b>Nguồn</b>" in bot_api.sent(CHAT)[0]["text"]
    messages = any_store.messages(conversation_of(any_store).id)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[0].client_ref == "tg:31"


def test_a_failed_update_is_released_and_answered_once_on_redelivery(bot_api, settings, assistant):
    update = text_update(41, "hc het han thi lam lai o dau")
    # Telegram refuses the answer once (not retryable): the update must not count as done.
    bot_api.fail("sendMessage", Failure(400, "Bad Request: chat not found"))
    with TestClient(_webhook_app(settings, assistant)) as client:
        failed = _post(client, update)
        assert failed.status_code == 500
        assert "Xin lỗi" in last_text(bot_api)  # the error handler told the citizen
        assert _post(client, update).json() == {"ok": True}
    texts = [m["text"] for m in bot_api.sent(CHAT)]
    assert len(texts) == 2 and "<b>Nguồn</b>" in texts[1]
    # The engine answered once: the redelivery got the stored reply (client_ref).
    stored = assistant.store.messages(conversation_of(assistant.store).id)
    assert [m.role for m in stored] == ["user", "assistant"]


def test_webhook_router_needs_a_secret(bot_api, assistant):
    settings = Settings(telegram_bot_token=bot_api.token, telegram_api_base_url=bot_api.base_url)
    with pytest.raises(TelegramNotConfigured, match="CONSULAR_TELEGRAM_WEBHOOK_SECRET"):
        webhook_router(settings, assistant)
    with pytest.raises(TelegramNotConfigured, match="CONSULAR_TELEGRAM_BOT_TOKEN"):
        build_application(Settings(), assistant)


# -- replies: splitting, flood control, officer delivery ---------------------------------


def test_long_replies_are_split_under_the_limit_at_paragraph_boundaries():
    paragraphs = [f"Đoạn {i}: " + "giấy tờ & <thủ tục> " * 40 for i in range(20)]
    citation = Citation(
        "passport-renewal", "vi", "Cấp lại hộ chiếu", "https://e.gov.vn/a?b=1&c=2", "2026-10-01"
    )
    reply = Reply("\n\n".join(paragraphs), "vi", [citation], 0.9, False)
    messages = format_reply(reply, Messages.load())
    assert len(messages) > 1
    assert all(utf16_length(m) <= MESSAGE_LIMIT for m in messages)
    assert "<thủ tục>" not in "".join(messages) and "&lt;thủ tục&gt;" in messages[0]
    # Paragraphs are never cut: each message starts with one.
    assert all(m.startswith("Đoạn ") for m in messages[:-1])
    assert messages[-1].endswith(
        '<a href="https://e.gov.vn/a?b=1&amp;c=2">Cấp lại hộ chiếu</a> (rà soát ngày 2026-10-01)'
    )

    no_spaces = "x" * 9000
    pieces = split_text(no_spaces)
    assert [len(p) for p in pieces] == [4096, 4096, 808]
    emoji = "🛂" * 3000  # two UTF-16 units each
    assert all(utf16_length(p) <= MESSAGE_LIMIT for p in split_text(emoji))


def test_officer_replies_reach_the_chat_split_escaped_and_through_flood_control(
    bot_api, settings, conversation_store
):
    conversation = conversation_store.create_conversation(
        "telegram", language="vi", channel_ref="555003"
    )
    long_reply = "\n".join(
        f"Dòng {i}: <b>không phải HTML</b> & thêm chữ cho dài." for i in range(300)
    )
    bot_api.fail(
        "sendMessage", Failure(429, "Too Many Requests: retry after 1", {"retry_after": 1})
    )
    delivery = build_delivery(settings, policy=FAST)

    async def deliver() -> float:
        started = time.monotonic()
        await delivery.deliver(conversation, long_reply)
        await delivery.aclose()
        return time.monotonic() - started

    elapsed = asyncio.run(deliver())
    sent = bot_api.sent(555003)
    assert len(sent) > 1 and all(utf16_length(m["text"]) <= MESSAGE_LIMIT for m in sent)
    # Cut at line ends only, each message as full as the limit allows.
    assert all(m["text"].endswith("cho dài.") for m in sent)
    assert all(utf16_length(m["text"]) > MESSAGE_LIMIT - 120 for m in sent[:-1])
    assert sent[0]["text"].startswith(
        "Cán bộ lãnh sự:\nDòng 0: &lt;b&gt;không phải HTML&lt;/b&gt; &amp;"
    )
    assert html.unescape("\n".join(m["text"] for m in sent)) == "Cán bộ lãnh sự:\n" + long_reply
    # Flood control: the first attempt got 429, the bot waited retry_after and sent again.
    assert len(bot_api.calls("sendMessage")) == len(sent) + 1 and elapsed >= 1.0


def test_network_errors_are_retried_and_blocked_chats_reported(
    bot_api, settings, conversation_store
):
    conversation = conversation_store.create_conversation("telegram", channel_ref="555004")
    web = conversation_store.create_conversation("web")

    async def run(delivery, target, text: str) -> None:
        try:
            await delivery.deliver(target, text)
        finally:
            await delivery.aclose()

    bot_api.fail("sendMessage", Failure(502, "Bad Gateway"), Failure(502, "Bad Gateway"))
    asyncio.run(run(build_delivery(settings, policy=FAST), conversation, "Chào bạn"))
    assert [m["text"] for m in bot_api.sent(555004)] == ["Consular officer:\nChào bạn"]

    bot_api.fail("sendMessage", Failure(403, "Forbidden: bot was blocked by the user"))
    with pytest.raises(TelegramDeliveryError, match="blocked the bot"):
        asyncio.run(run(build_delivery(settings, policy=FAST), conversation, "Chào bạn"))

    bot_api.fail("sendMessage", *[Failure(502, "Bad Gateway")] * 3)
    with pytest.raises(TelegramDeliveryError) as caught:
        asyncio.run(
            run(
                build_delivery(settings, policy=RetryPolicy(attempts=2, backoff=0.01)),
                conversation,
                "x",
            )
        )
    assert caught.value.user_message.startswith("The reply is saved in the conversation")

    with pytest.raises(TelegramDeliveryError, match="not a Telegram chat"):
        asyncio.run(run(build_delivery(settings, policy=FAST), web, "x"))


# -- store, settings, command line -------------------------------------------------------


def test_update_claims_and_chosen_languages(any_store: ConversationStore):
    chats = TelegramStore(any_store.sessions)
    assert chats.claim_update(2**40) is True  # update ids outgrow 32 bits
    assert chats.claim_update(2**40) is False
    assert chats.is_claimed(2**40)
    chats.release_update(2**40)
    assert not chats.is_claimed(2**40) and chats.claim_update(2**40) is True
    assert chats.prune_updates(timedelta(days=1)) == 0
    assert chats.prune_updates(timedelta(seconds=-1)) == 1

    assert chats.chosen_language("42") is None
    chats.choose_language("42", "fr")
    chats.choose_language("42", "en")
    assert chats.chosen_language("42") == "en"


@pytest.mark.parametrize(
    "secret", ["short", "x" * 15, "has spaces in it, sixteen+", "please-change-me-now-123"]
)
def test_webhook_secret_must_be_long_and_of_telegrams_alphabet(secret: str):
    with pytest.raises(ValueError, match="CONSULAR_TELEGRAM_WEBHOOK_SECRET"):
        Settings(telegram_webhook_secret=secret)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CONSULAR_TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.setenv("CONSULAR_TELEGRAM_WEBHOOK_SECRET", SECRET)
    settings = Settings()
    assert settings.telegram_webhook_enabled
    assert "1:abc" not in repr(settings) and SECRET not in repr(settings)
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"


def test_cli_telegram_without_a_token_says_what_to_set(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CONSULAR_TELEGRAM_BOT_TOKEN", raising=False)
    result = CliRunner().invoke(cli_app, ["telegram"])
    assert result.exit_code == 1
    assert "set CONSULAR_TELEGRAM_BOT_TOKEN" in result.output


def test_cli_sets_the_webhook_with_the_secret(bot_api, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CONSULAR_TELEGRAM_BOT_TOKEN", bot_api.token)
    monkeypatch.setenv("CONSULAR_TELEGRAM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("CONSULAR_TELEGRAM_API_BASE_URL", bot_api.base_url)
    url = "https://consular.example.gov.vn/telegram/webhook"
    result = CliRunner().invoke(cli_app, ["telegram", "--set-webhook", url])
    assert result.exit_code == 0, result.output
    (call,) = bot_api.calls("setWebhook")
    assert call["url"] == url and call["secret_token"] == SECRET


# -- feedback: answer votes, the 1-5 rating and its comment ------------------------------

QUESTION = "Hộ chiếu hết hạn thì làm lại ở đâu?"


def _keyboard(message: dict) -> list[list[tuple[str, str]]]:
    rows = message["reply_markup"]["inline_keyboard"]
    return [[(b["text"], b["callback_data"]) for b in row] for row in rows]


def test_cited_answers_carry_vote_buttons_and_a_vote_is_recorded_once(
    bot_api, settings, any_store, sample_searcher, sample_index, knowledge
):
    assistant = make_assistant(any_store, sample_searcher, sample_index, knowledge)
    feedback = FeedbackStore(any_store.sessions)
    with TestClient(_webhook_app(settings, assistant)) as client:
        _post(client, text_update(61, QUESTION))
        conversation = conversation_of(any_store)
        answer = next(m for m in any_store.messages(conversation.id) if m.role == "assistant")
        assert answer.citations
        (sent,) = bot_api.sent(CHAT)
        assert _keyboard(sent) == [[("👍", f"fb:{answer.id}:1"), ("👎", f"fb:{answer.id}:0")]]

        vote = callback_update(62, f"fb:{answer.id}:0", message_id=7)
        assert _post(client, vote).json() == {"ok": True}
        assert _post(client, vote).json() == {"ok": True}  # redelivered: nothing again
        assert feedback.answer_votes(conversation.id) == {answer.id: False}
        (thanks,) = bot_api.calls("answerCallbackQuery")
        assert (thanks["callback_query_id"], thanks["text"]) == ("cb62", "Cảm ơn bạn đã góp ý!")
        (marked,) = bot_api.calls("editMessageReplyMarkup")
        assert marked["message_id"] == "7"
        assert [b["text"] for b in marked["reply_markup"]["inline_keyboard"][0]] == ["👍", "✅ 👎"]

        _post(client, callback_update(63, f"fb:{answer.id}:1", message_id=7))  # changed mind
        assert feedback.answer_votes(conversation.id) == {answer.id: True}

        # Another chat cannot vote on this chat's answer, nor anyone on a made-up button.
        _post(client, callback_update(64, f"fb:{answer.id}:0", chat_id=555099))
        _post(client, callback_update(65, "fb:x:1"))
        assert feedback.answer_votes(conversation.id) == {answer.id: True}
        notices = [c.get("text") for c in bot_api.calls("answerCallbackQuery")]
        assert notices[-2:] == ["Câu trả lời này không còn nữa.", None]


def test_declines_get_no_vote_buttons(bot_api, settings, assistant):
    with TestClient(_webhook_app(settings, assistant)) as client:
        _post(client, text_update(66, "Viết cho tôi một bài thơ về mùa thu"))
    (sent,) = bot_api.sent(CHAT)
    assert "reply_markup" not in sent


def test_rate_command_score_and_comment(bot_api, settings, assistant):
    store = assistant.store
    feedback = FeedbackStore(store.sessions)
    chats = TelegramStore(store.sessions)
    with TestClient(_webhook_app(settings, assistant)) as client:
        _post(client, text_update(71, "/rate"))
        assert last_text(bot_api).startswith("Chưa có cuộc trò chuyện nào")

        _post(client, text_update(72, QUESTION))
        conversation = conversation_of(store)
        _post(client, text_update(73, "/rate"))
        question = bot_api.sent(CHAT)[-1]
        assert question["text"].startswith("Bạn hài lòng với cuộc trò chuyện này")
        assert _keyboard(question) == [[(str(n), f"rt:{n}") for n in range(1, 6)]]

        score = callback_update(74, "rt:4", message_id=9)
        _post(client, score)
        _post(client, score)  # redelivered
        assert feedback.conversation_rating(conversation.id).score == 4
        (edited,) = bot_api.calls("editMessageText")
        assert edited["text"].startswith("Cảm ơn bạn đã đánh giá 4/5!")
        assert chats.comment_for(str(CHAT)) == conversation.id

        messages_before = len(store.messages(conversation.id))
        _post(client, text_update(75, "Cán bộ rất nhiệt tình, số tôi 0912 345 678"))
        assert last_text(bot_api) == "Cảm ơn góp ý của bạn!"
        rating = feedback.conversation_rating(conversation.id)
        assert (rating.score, rating.comment) == (4, "Cán bộ rất nhiệt tình, số tôi [phone]")
        # The comment is not a question for the assistant.
        assert len(store.messages(conversation.id)) == messages_before
        assert chats.comment_for(str(CHAT)) is None

        _post(client, text_update(76, QUESTION + " Ở Tokyo"))  # a question again
        assert "<b>Nguồn</b>" in last_text(bot_api)

        _post(client, callback_update(77, "rt:2", message_id=9))
        _post(client, text_update(78, "/skip"))
        assert last_text(bot_api) == "Đã bỏ qua. Cảm ơn bạn!"
        assert chats.comment_for(str(CHAT)) is None
        rating = feedback.conversation_rating(conversation.id)
        assert (rating.score, rating.comment) == (2, "Cán bộ rất nhiệt tình, số tôi [phone]")


def test_a_comment_over_the_limit_is_refused_and_the_bot_keeps_waiting(
    bot_api, settings, assistant
):
    store = assistant.store
    with TestClient(_webhook_app(settings, assistant)) as client:
        _post(client, text_update(81, QUESTION))
        _post(client, callback_update(82, "rt:5"))
        _post(client, text_update(83, "dài " * 400))
        assert last_text(bot_api).startswith("Góp ý tối đa 1000 ký tự")
        conversation = conversation_of(store)
        assert TelegramStore(store.sessions).comment_for(str(CHAT)) == conversation.id
        assert FeedbackStore(store.sessions).conversation_rating(conversation.id).comment is None


def test_resolving_a_telegram_conversation_asks_the_chat_for_a_rating(
    bot_api, settings, web_settings, web_assistant
):
    from channels.app import create_app
    from tests.web_helpers import add_user, sign_in

    store = web_assistant.store
    add_user(store, "lan")
    conversation = store.create_conversation("telegram", language="en", channel_ref="555005")
    store.set_handoff(conversation.id, "requested", "asked", "user")
    delivery = build_delivery(settings, policy=FAST)
    app = create_app(web_settings, assistant=web_assistant, deliveries={"telegram": delivery})
    with TestClient(app) as client:
        client.headers["X-CSRF-Token"] = sign_in(client, "lan")
        assert client.post(f"/console/api/conversations/{conversation.id}/claim").status_code == 200
        resolved = client.post(f"/console/api/conversations/{conversation.id}/resolve", json={})
        assert resolved.status_code == 200, resolved.text
        client.portal.call(delivery.aclose)  # in the app's event loop, where it started
    (asked,) = bot_api.sent(555005)
    assert asked["text"].startswith("The consular officer has closed the conversation.")
    assert "How satisfied are you" in asked["text"]
    assert _keyboard(asked) == [[(str(n), f"rt:{n}") for n in range(1, 6)]]

    web = store.create_conversation("web")
    with pytest.raises(TelegramDeliveryError, match="not a Telegram chat"):
        asyncio.run(build_delivery(settings, policy=FAST).resolved(web))


def test_comment_state_of_a_chat(any_store: ConversationStore):
    chats = TelegramStore(any_store.sessions)
    assert chats.comment_for("43") is None
    chats.await_comment("43", "c_x")  # a chat that never chose a language
    assert chats.comment_for("43") == "c_x" and chats.chosen_language("43") is None
    chats.choose_language("43", "en")
    assert chats.comment_for("43") == "c_x"
    chats.await_comment("43", None)
    assert chats.comment_for("43") is None and chats.chosen_language("43") == "en"


def test_an_emergency_after_the_rating_prompt_reaches_the_engine(bot_api, settings, assistant):
    store = assistant.store
    feedback = FeedbackStore(store.sessions)
    chats = TelegramStore(store.sessions)
    with TestClient(_webhook_app(settings, assistant)) as client:
        _post(client, text_update(91, QUESTION))
        conversation = conversation_of(store)
        _post(client, callback_update(92, "rt:2", message_id=9))
        assert chats.comment_for(str(CHAT)) == conversation.id
        _post(client, text_update(93, "chồng tôi bị cảnh sát bắt ở Osaka rồi, giờ phải làm sao"))
        # Not a comment: the hotline and an urgent handoff, as for any emergency.
        assert HOTLINE in last_text(bot_api) and OSAKA_HOTLINE in last_text(bot_api)
        assert last_text(bot_api) != "Cảm ơn góp ý của bạn!"
        assert conversation_of(store).handoff_status == "urgent"
        assert feedback.conversation_rating(conversation.id).comment is None
        assert chats.comment_for(str(CHAT)) is None


def test_a_request_for_a_person_or_a_command_ends_the_wait_for_a_comment(
    bot_api, settings, assistant
):
    store = assistant.store
    feedback = FeedbackStore(store.sessions)
    chats = TelegramStore(store.sessions)
    with TestClient(_webhook_app(settings, assistant)) as client:
        _post(client, text_update(101, QUESTION))
        conversation = conversation_of(store)
        _post(client, callback_update(102, "rt:3", message_id=9))
        _post(client, text_update(103, "/hotline"))
        assert chats.comment_for(str(CHAT)) is None
        _post(client, text_update(104, QUESTION + " Ở Tokyo"))
        assert "<b>Nguồn</b>" in last_text(bot_api)  # answered, not taken as a comment

        _post(client, callback_update(105, "rt:3", message_id=9))
        _post(client, text_update(106, "Tôi muốn nói chuyện với cán bộ lãnh sự"))
        assert last_text(bot_api) != "Cảm ơn góp ý của bạn!"
        assert conversation_of(store).handoff_status == "requested"
        assert feedback.conversation_rating(conversation.id).comment is None
        assert chats.comment_for(str(CHAT)) is None


def test_a_message_long_after_the_rating_prompt_is_a_question(bot_api, settings, assistant):
    from sqlalchemy import update as sql_update

    from bot.models import TelegramChat, utcnow

    store = assistant.store
    feedback = FeedbackStore(store.sessions)
    with TestClient(_webhook_app(settings, assistant)) as client:
        _post(client, text_update(111, QUESTION))
        conversation = conversation_of(store)
        _post(client, callback_update(112, "rt:5", message_id=9))
        with store.sessions() as session:  # the prompt was 11 minutes ago
            session.execute(
                sql_update(TelegramChat).values(comment_asked_at=utcnow() - timedelta(minutes=11))
            )
            session.commit()
        assert TelegramStore(store.sessions).comment_for(str(CHAT)) is None
        _post(client, text_update(113, QUESTION + " Ở Tokyo"))
        assert "<b>Nguồn</b>" in last_text(bot_api)
        assert feedback.conversation_rating(conversation.id).comment is None
