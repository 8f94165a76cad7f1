"""Logging, configured here once for the services and the gateway: one JSON object per line
(``GONGKAO_LOG_FORMAT=json``, the default) or a plain text line (``text``), each carrying the
process's service and the request id of the work it belongs to; and a redaction step that ID
numbers, phone numbers, SMS codes and passwords never get past, whatever a developer passes
to a log call.

The request id travels with the work: the gateway takes or makes one per HTTP request
(``X-Request-Id``), hands it to the services in the RPC context data, a service worker binds
it here (kit.metrics.Metrics) and every event it emits carries it in its envelope (kit.db), so
a handler of that event logs with the same id."""
from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime

_ID_RE = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_SECRET_RE = re.compile(
    r"(?i)(['\"]?(?:password|password_confirm|old_password|new_password|sms_code|token|sign)['\"]?\s*[:=]\s*)"
    r"(['\"]?)[^'\"&,\s}]+"
)
# a request id a client may choose (X-Request-Id); anything else is replaced by one we make
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("gongkao_request_id", default=None)
_service: contextvars.ContextVar[str | None] = contextvars.ContextVar("gongkao_service", default=None)
_process_service: str | None = None      # what a line outside any worker or request belongs to
MIXED = "gongkao"                        # several services in one process (the embedded run)


def redact(text: str) -> str:
    text = _SECRET_RE.sub(r"\1\2***", text)
    text = _ID_RE.sub(r"\1********\2", text)
    return _PHONE_RE.sub(r"\1****\2", text)


# --- the context of a line -------------------------------------------------------------------
def sane_request_id(value: object) -> str | None:
    """``value`` if it is a request id a client may choose (≤ 64 of ``[A-Za-z0-9._-]``)."""
    return value if isinstance(value, str) and REQUEST_ID_RE.fullmatch(value) else None


def request_id() -> str | None:
    """The request id of the work this thread (or green thread) is doing, if any."""
    return _request_id.get()


def current_service() -> str | None:
    return _service.get() or _process_service


def bind(request_id: str | None = None, service: str | None = None) -> None:
    """Marks the lines of this thread (or green thread) from now on; ``unbind`` ends it."""
    _request_id.set(sane_request_id(request_id))
    if service is not None:
        _service.set(service)


def unbind() -> None:
    _request_id.set(None)
    _service.set(None)


@contextlib.contextmanager
def bound(request_id: str | None = None, service: str | None = None) -> Iterator[None]:
    tokens = [_request_id.set(sane_request_id(request_id))]
    if service is not None:
        tokens.append(_service.set(service))
    try:
        yield
    finally:
        _request_id.reset(tokens[0])
        if len(tokens) > 1:
            _service.reset(tokens[1])


def claim_service(name: str) -> None:
    """The service this process runs (its lines outside any worker name it); a process running
    several (the embedded run) names none of them."""
    global _process_service
    if _process_service is None:
        _process_service = name
    elif _process_service != name:
        _process_service = MIXED


class Context(logging.Filter):
    """Puts ``service`` and ``request_id`` on every record (``-`` in text when there is none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = current_service()
        record.request_id = request_id()
        return True


# --- formatters ------------------------------------------------------------------------------
class RedactingFormatter(logging.Formatter):
    """A text line, redacted whole, traceback included."""

    def format(self, record: logging.LogRecord) -> str:
        for name in ("service", "request_id"):
            if getattr(record, name, None) is None:
                setattr(record, name, "-")
        return redact(super().format(record))


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(service)s %(request_id)s]: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time, level, logger, message, service, request_id`` (and
    ``exc`` with a traceback). Each value is redacted before it is encoded, so the guarantee
    holds and the line stays valid JSON whatever the message holds."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "service": getattr(record, "service", None) or current_service(),
            "request_id": getattr(record, "request_id", None) or request_id(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = redact(record.exc_text)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, default=str)


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


def formatter(fmt: str | None = None) -> logging.Formatter:
    """The formatter ``GONGKAO_LOG_FORMAT`` asks for (``fmt`` overrides it)."""
    if fmt is None:
        from kit.config import settings

        fmt = settings().log_format
    if fmt == "text":
        return RedactingFormatter(TEXT_FORMAT)
    if fmt == "json":
        return JsonFormatter()
    raise ValueError(f"unknown log format {fmt!r} (json or text)")


def console_handler(fmt: str | None = None, stream=None) -> logging.Handler:
    """The one handler every process logs through (stderr): refusals shortened, context added,
    redacted. deploy/nameko.yaml names it for the services (``(): kit.logs.console_handler``)."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(ExpectedRefusals())
    handler.addFilter(Context())
    handler.setFormatter(formatter(fmt))
    handler.gongkao = True
    return handler


QUIET = {
    "kombu": logging.WARNING,
    "amqp": logging.WARNING,
    "nameko.web.server": logging.WARNING,  # access lines hold file tickets
}


def setup(level: str = "INFO", service: str | None = None, fmt: str | None = None) -> None:
    """The gateway's and the embedded run's logging (the services get the same handler from
    deploy/nameko.yaml)."""
    if service:
        claim_service(service)
    root = logging.getLogger()
    if any(getattr(h, "gongkao", False) for h in root.handlers):
        return
    root.handlers[:] = [console_handler(fmt)]
    root.setLevel(level)
    for name, lvl in QUIET.items():
        logging.getLogger(name).setLevel(lvl)
