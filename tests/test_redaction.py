"""Redaction of e-mail addresses, phone and passport numbers in logs and safety events."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.redaction import RedactingFilter, install_log_redaction, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Vietnamese
        ("Số của tôi là 0912 345 678", "Số của tôi là [phone]"),
        ("gọi 0912.345.678 hoặc 0912-345-678", "gọi [phone] hoặc [phone]"),
        ("sdt 0912345678 nha", "sdt [phone] nha"),
        ("ĐT bàn (024) 3799 2682", "ĐT bàn [phone]"),
        ("Liên hệ +84 912 345 678.", "Liên hệ [phone]."),
        ("hoặc +84912345678, (+84) 24 3799 2682", "hoặc [phone], [phone]"),
        ("Hộ chiếu của tôi là C1234567", "Hộ chiếu của tôi là [passport]"),
        ("hc mới P01234567, hc cũ N2345678", "hc mới [passport], hc cũ [passport]"),
        ("số hộ chiếu: B12345678", "số hộ chiếu: [passport]"),
        ("so ho chieu la 123456789", "so ho chieu la [passport]"),
        ("email: nguyen.van.an@gmail.com", "email: [email]"),
        # English
        ("My passport no. 987654321 was stolen", "My passport no. [passport] was stolen"),
        ("passport number: X98765432", "passport number: [passport]"),
        ("Call me on +81 3-1234-5678 or +81 90 1234 5678", "Call me on [phone] or [phone]"),
        ("US cell (555) 123-4567", "US cell [phone]"),
        ("write to Tran_B+visa@dsq.gov.vn today", "write to [email] today"),
        ("from 0084 912 345 678", "from [phone]"),
        # French
        ("Mon numéro : 06 12 34 56 78", "Mon numéro : [phone]"),
        ("portable +33 6 12 34 56 78", "portable [phone]"),
        ("passeport n° 12AB34567 perdu à Lyon", "passeport n° [passport] perdu à Lyon"),
        ("numéro de passeport : C7654321", "numéro de passeport : [passport]"),
        ("n° de passeport 18CV12345", "n° de passeport [passport]"),
        ("écrivez à marie.dupont@example.fr", "écrivez à [email]"),
    ],
)
def test_personal_data_is_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Lịch hẹn ngày 2026-11-23 lúc 10:30",
        "Hộ chiếu hết hạn năm 2026, cấp năm 2016",
        "Lệ phí 150 USD, 70 USD nếu gửi bưu điện",
        "Phí 1.500.000 đồng hoặc 150.000.000 VND; 2 000 000 VND; 1,500,000 VND",
        "Phí 150000000 VND",
        "Rendez-vous le 23/11/2026 ou le 03.11.2026 à 10:30",
        "Appointment on 2026-11-23, from 2026-11-23 to 2026-12-01",
        "My passport expired on 2026-11-23 and the passport fee is 1500000 VND",
        "Passport renewal takes 15 working days; file no. 123456",
        "Mã hồ sơ 123456, điều 12 khoản 3",
        "",
    ],
)
def test_dates_years_and_amounts_are_kept(text: str) -> None:
    assert redact(text) == text


def test_mixed_message_keeps_the_useful_parts() -> None:
    text = (
        "Tôi mất hộ chiếu C1234567 ở Tokyo ngày 2026-11-20, gọi +81 90 1234 5678 "
        "hoặc email an.nguyen@yahoo.com; lệ phí 150 USD đúng không?"
    )
    assert redact(text) == (
        "Tôi mất hộ chiếu [passport] ở Tokyo ngày 2026-11-20, gọi [phone] "
        "hoặc email [email]; lệ phí 150 USD đúng không?"
    )


def test_a_phone_number_after_a_date_is_still_found() -> None:
    assert redact("Ngày 23/11/2026 0912345678") == "Ngày 23/11/2026 [phone]"
    assert redact("2026-11-23 +84 912 345 678") == "2026-11-23 [phone]"


def test_long_hostile_input_is_fast() -> None:
    # Regexes with nested repetition can take exponential time; these must not.
    for text in ("+" + "1" * 20000, "0 " * 10000, "passport " * 5000 + "1", "a." * 10000 + "@b"):
        redact(text)


def handler_of(logger: logging.Logger) -> logging.Handler:
    return next(h for h in logger.handlers if type(h) is logging.StreamHandler)


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger tree with one handler, restored afterwards."""
    parent = logging.getLogger("consular-test-redaction")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    parent.addHandler(handler)
    parent.setLevel(logging.INFO)
    parent.propagate = False
    try:
        yield parent, stream
    finally:
        # pytest may attach its own handlers here too: take the filter off every one.
        for each in [parent, *parent.handlers]:
            for f in [f for f in each.filters if isinstance(f, RedactingFilter)]:
                each.removeFilter(f)
        parent.removeHandler(handler)
        parent.propagate = True
        parent.setLevel(logging.NOTSET)


def test_log_filter_redacts_messages_args_and_child_loggers(capture) -> None:
    parent, stream = capture
    install_log_redaction(parent)
    install_log_redaction(parent)  # idempotent
    assert sum(isinstance(f, RedactingFilter) for f in handler_of(parent).filters) == 1

    parent.info("question from an.nguyen@yahoo.com: lost passport C1234567")
    # A child logger's records reach the parent's handler without its logger filters.
    child = logging.getLogger("consular-test-redaction.engine")
    child.info("user %s phoned from %s about %s", "an", "+84 912 345 678", "2026-11-23")
    child.info("callback %(phone)s", {"phone": "0912.345.678"})
    child.info("number %d%d", 912345, 678)  # pieces that only make a number once joined
    child.info("fee %d USD on %s", 150, "2026-11-23")
    try:
        raise ValueError("bad passport no. 987654321")
    except ValueError:
        child.exception("failed for %s", "an@x.vn")

    output = stream.getvalue()
    for secret in ("an.nguyen@yahoo.com", "C1234567", "912", "987654321", "an@x.vn"):
        assert secret not in output
    lines = output.splitlines()
    assert lines[0] == "question from [email]: lost passport [passport]"
    assert lines[1] == "user an phoned from [phone] about 2026-11-23"
    assert lines[2] == "callback [phone]"
    assert lines[3] == "number [phone]"
    assert lines[4] == "fee 150 USD on 2026-11-23"
    assert "ValueError: bad passport no. [passport]" in output


def test_install_defaults_to_the_root_logger() -> None:
    root = logging.getLogger()
    installed = install_log_redaction()
    try:
        assert installed in root.filters
        assert all(installed in handler.filters for handler in root.handlers)
    finally:
        root.removeFilter(installed)
        for handler in root.handlers:
            handler.removeFilter(installed)


def test_filter_keeps_records_that_cannot_be_formatted() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items", ("many",), None)
    assert RedactingFilter().filter(record) is True
    assert record.args == ("many",)
