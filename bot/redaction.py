"""Removal of personal data (e-mail, phone, passport numbers) from logs and analytics.

Stored conversations keep the citizen's original words, because officers need them;
only text that leaves the conversation (logs, safety events, analytics) is redacted.
The patterns lean towards redacting too much, except for dates, years and amounts,
which analytics needs and which carry no identity.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

EMAIL = "[email]"
PHONE = "[phone]"
PASSPORT = "[passport]"

_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")

# A passport number after a label in Vietnamese, English or French, up to three words
# later ("số hộ chiếu của tôi là C1234567"). The number must contain a digit; the
# replacement below also wants five of them, so "passport expired" stays as it is.
_PASSPORT_LABELLED_RE = re.compile(
    r"""
    (?P<label>
        \b(?:passport|passeport)
          (?:\s*(?:no\.?|nr\.?|number|num(?:éro|ero)?\.?|n[°º]\.?|\#))?
      | \bn[°º]\s*(?:de\s+)?passeport
      | \bs[ốo]\s+h[ộo]\s+chi[ếe]u
      | \bh[ộo]\s+chi[ếe]u\s+s[ốo]
      | \b(?:s[ốo]\s+hc|hc\s+s[ốo])
    )
    (?P<between>\s*[:#.]?\s*(?:[^\W\d_]+\s+){0,3}?[:#]?\s*)
    (?P<number>(?=[A-Za-z-]*\d)[A-Za-z0-9][A-Za-z0-9-]{4,14})
    (?![\w-])
    """,
    re.IGNORECASE | re.VERBOSE,
)

# Vietnamese passports: one letter and 7 or 8 digits (C1234567, P01234567, N2345678).
_VN_PASSPORT_RE = re.compile(r"(?<![\w-])[A-Za-z]\d{7,8}(?![\w-])")

# Phone-shaped runs; _replace_phone then checks the digit count (9 to 15) and context.
# Local numbers must start with the trunk 0 and keep one kind of separator, which keeps
# amounts ("1.500.000"), dates ("23.11.2026 10:30") and years out.
_PHONE_RE = re.compile(
    r"""
    (?<![\w+/.,-])
    (?:
        (?:\+|00)\d{1,3}(?:[ .-]?\(0\))?(?:[ .-]?\(?\d{1,4}\)?){2,6}   # +84 912 345 678, +81 3-1234-5678
      | \(\+\d{1,3}\)(?:[ .-]?\d{1,4}){2,6}                             # (+84) 912 345 678
      | \(?0\d{1,4}\)?(?P<sep>[ .-]?)\d{2,4}(?:(?P=sep)\d{2,4}){0,4}    # 0912.345.678, 06 12 34 56 78
      | \(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}                                 # (555) 123-4567
      | \d{9,15}                                                        # 0912345678, 84912345678
    )
    (?![\w/]|[.,-]\d)
    """,
    re.VERBOSE,
)

_DATE_RE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_CURRENCY_AFTER_RE = re.compile(
    r"\s?(?:USD|VND|EUR|JPY|GBP|AUD|CAD|KRW|CNY|đồng|dong|đ|euros?|yen|yens|dollars?|[$€¥₫])(?!\w)",
    re.IGNORECASE,
)


def _replace_labelled_passport(match: re.Match[str]) -> str:
    number = match["number"]
    if sum(c.isdigit() for c in number) < 5 or _DATE_RE.fullmatch(number):
        return match[0]
    if _CURRENCY_AFTER_RE.match(match.string, match.end()):
        return match[0]  # "passport fee is 1500000 VND"
    return f"{match['label']}{match['between']}{PASSPORT}"


def _replace_phone(match: re.Match[str]) -> str:
    text = match[0]
    digits = sum(c.isdigit() for c in text)
    if not 9 <= digits <= 15 or _DATE_RE.match(text):
        return text
    if _CURRENCY_AFTER_RE.match(match.string, match.end()):
        return text  # "150000000 VND" is a fee, not a number to call
    return PHONE


def redact(text: str) -> str:
    """``text`` with e-mail addresses, phone and passport numbers replaced by placeholders."""
    if not text:
        return text
    # E-mail first: an address may contain digits that look like a phone number.
    text = _EMAIL_RE.sub(EMAIL, text)
    text = _PASSPORT_LABELLED_RE.sub(_replace_labelled_passport, text)
    text = _VN_PASSPORT_RE.sub(PASSPORT, text)
    return _PHONE_RE.sub(_replace_phone, text)


def _redact_arg(value: Any) -> Any:
    # Numbers stay numbers so that "%d" still formats; a phone number logged as an int
    # is caught when the message is formatted below.
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    return redact(str(value))


class RedactingFilter(logging.Filter):
    """Redacts each record's message, arguments and traceback text; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        else:
            record.msg = redact(str(record.msg))
        if record.args:
            if isinstance(record.args, Mapping):
                record.args = {k: _redact_arg(v) for k, v in record.args.items()}
            else:
                record.args = tuple(_redact_arg(v) for v in record.args)
            # Formatting can join harmless pieces into a phone number ("%s %s"), so the
            # final text is checked once more and stored pre-formatted.
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                pass  # a broken format string: leave it for logging to report
            else:
                record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            # Exception messages often quote the input that failed.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Attach a ``RedactingFilter`` to ``logger`` (root by default) and its handlers.

    Logger filters do not see records propagated from child loggers, so the filter also
    goes on each handler; call this again after adding handlers. Idempotent.
    """
    logger = logger if logger is not None else logging.getLogger()
    existing = next((f for f in logger.filters if isinstance(f, RedactingFilter)), None)
    redacting = existing or RedactingFilter()
    if existing is None:
        logger.addFilter(redacting)
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redacting)
    return redacting
