"""Logging set-up with a redaction filter: ID numbers, phone numbers, SMS codes and
passwords never reach a log line, whatever a developer passes to it."""
from __future__ import annotations

import logging
import re

_ID_RE = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_SECRET_RE = re.compile(
    r"(?i)(['\"]?(?:password|password_confirm|old_password|new_password|sms_code|token|sign)['\"]?\s*[:=]\s*)"
    r"(['\"]?)[^'\"&,\s}]+"
)


def redact(text: str) -> str:
    text = _SECRET_RE.sub(r"\1\2***", text)
    text = _ID_RE.sub(r"\1********\2", text)
    return _PHONE_RE.sub(r"\1****\2", text)


class RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted line, traceback included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class ExpectedRefusals(logging.Filter):
    """A refusal the caller is told about (a kit.errors ServiceError: bad input, not allowed,
    wrong state) is one short INFO line, never a traceback: anyone can send bad input, and a
    log flooded with tracebacks hides the real failures (issue 8)."""

    PREFIX = "(expected) error handling worker"

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(self.PREFIX):
            record.msg = "refused %s: %s"
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def setup(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, RedactingFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.addFilter(ExpectedRefusals())
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("kombu").setLevel(logging.WARNING)
    logging.getLogger("amqp").setLevel(logging.WARNING)
    logging.getLogger("nameko.web.server").setLevel(logging.WARNING)  # access lines hold file tickets
