"""kit.logs: one JSON object per line (or a text line) with service and request id, redacted
whatever a log call is given; the request id rules; refusals stay one short line."""
from __future__ import annotations

import io
import json
import logging

import pytest

from kit import logs

ID_NUMBER = "410102198503120014"
PHONE = "13912345678"


@pytest.fixture
def capture():
    """A logger of its own writing through kit.logs' handler into a string: (logger, lines)."""
    made = []

    def make(fmt: str = "json"):
        stream = io.StringIO()
        logger = logging.getLogger(f"test.kit.logs.{len(made)}.{fmt}")
        logger.handlers[:] = [logs.console_handler(fmt, stream)]
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        made.append(logger)
        return logger, lambda: stream.getvalue().splitlines()

    yield make
    for logger in made:
        logger.handlers.clear()
    logs.unbind()


def test_a_line_is_one_json_object_with_its_context(capture):
    log, lines = capture()
    with logs.bound("req-7.a_B", service="review"):
        log.info("case %s decided", "a1")
    log.warning("outside any request")
    first, second = (json.loads(line) for line in lines())
    assert set(first) == {"time", "level", "logger", "message", "service", "request_id"}
    assert first["level"] == "INFO" and first["logger"] == log.name and first["message"] == "case a1 decided"
    assert first["service"] == "review" and first["request_id"] == "req-7.a_B"
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert second["request_id"] is None and second["level"] == "WARNING"


def test_id_numbers_phones_and_secrets_are_redacted_inside_the_json(capture):
    log, lines = capture()
    with logs.bound("req-1"):
        log.info("applicant %s phone %s", ID_NUMBER, PHONE)
        log.info('body {"password": "Secret123", "sms_code": "123456", "name": "张伟"}')
        log.info("form password=Secret123&token=abc.def")
    text = "\n".join(lines())
    assert ID_NUMBER not in text and PHONE not in text
    assert "Secret123" not in text and "123456" not in text and "abc.def" not in text
    one, two, three = (json.loads(line) for line in lines())           # still valid JSON
    assert one["message"] == "applicant 410102********0014 phone 139****5678"
    assert two["message"] == 'body {"password": "***", "sms_code": "***", "name": "张伟"}'
    assert three["message"] == "form password=***&token=***"
    assert one["request_id"] == "req-1"


def test_a_traceback_is_in_the_line_and_redacted(capture):
    log, lines = capture()
    try:
        raise ValueError(f"no account {ID_NUMBER}")
    except ValueError:
        log.exception("lookup failed for %s", PHONE)
    (line,) = lines()                                                   # one line, traceback inside
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["message"] == "lookup failed for 139****5678"
    assert "Traceback" in entry["exc"] and "ValueError: no account 410102********0014" in entry["exc"]
    assert ID_NUMBER not in line and PHONE not in line


def test_a_refusal_stays_one_info_line_without_a_traceback(capture):
    log, lines = capture()
    try:
        raise RuntimeError("不行")
    except RuntimeError as exc:
        with logs.bound("req-9"):
            log.warning("(expected) error handling worker %s: %s", "<WorkerContext [review.get_case]>", exc,
                        exc_info=True)
    entry = json.loads(lines()[0])
    assert entry["level"] == "INFO" and "exc" not in entry
    assert entry["message"] == "refused <WorkerContext [review.get_case]>: 不行" and entry["request_id"] == "req-9"


def test_the_text_format_keeps_the_context_and_the_redaction(capture):
    log, lines = capture("text")
    with logs.bound("req-2", service="identity"):
        log.info("login %s", ID_NUMBER)
    log.info("no request")
    first, second = lines()
    assert first.endswith("INFO " + log.name + " [identity req-2]: login 410102********0014")
    assert "[" in second and " -]: no request" in second


def test_the_format_comes_from_the_setting(monkeypatch):
    from kit.config import settings

    monkeypatch.setattr(settings(), "log_format", "text")
    assert isinstance(logs.formatter(), logs.RedactingFormatter)
    monkeypatch.setattr(settings(), "log_format", "json")
    assert isinstance(logs.formatter(), logs.JsonFormatter)
    with pytest.raises(ValueError):
        logs.formatter("xml")


@pytest.mark.parametrize("value, sane", [
    ("abc", True), ("a" * 64, True), ("A-z_0.9", True), ("0f3c9e2a-1b2c-4d5e-8f90-123456789abc", True),
    ("a" * 65, False), ("", False), ("has space", False), ("new\nline", False), ("semi;colon", False),
    ("中文", False), ("a/b", False), (None, False), (42, False),
])
def test_request_id_rules(value, sane):
    assert logs.sane_request_id(value) == (value if sane else None)


def test_an_insane_request_id_is_never_bound():
    with logs.bound("bad id\nforged line"):
        assert logs.request_id() is None
    with logs.bound("good-1"):
        assert logs.request_id() == "good-1"
    assert logs.request_id() is None


def test_a_process_of_several_services_names_none_of_them(monkeypatch):
    monkeypatch.setattr(logs, "_process_service", None)
    logs.claim_service("payment")
    logs.claim_service("payment")
    assert logs.current_service() == "payment"
    logs.claim_service("review")
    assert logs.current_service() == logs.MIXED
    with logs.bound(service="review"):
        assert logs.current_service() == "review"
