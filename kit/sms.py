"""The pluggable SMS gateway (R-I5; issue 14's notices), one adapter for every service that
sends: identity its verification codes, application its notices to applicants. The
development gateway appends each message to a JSON-lines file (``GONGKAO_SMS_OUTBOX``)
instead of sending it; a real provider is another class here, chosen by
``GONGKAO_SMS_GATEWAY``. The line formats are API.md's ("Development stand-ins" and
"Administrators' overview"); the callers never see them."""
from __future__ import annotations

import json
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Protocol

from kit.config import Settings

_lock = threading.Lock()

PURPOSE_TEXT = {"register": "注册", "delete_self": "删除本人信息", "unlock": "解除账号登录锁定"}


class SmsGateway(Protocol):
    def send_code(self, phone: str, purpose: str, code: str, sent_at: datetime, ttl_minutes: int) -> None: ...

    def send_notice(self, phone: str, kind: str, text: str, sent_at: datetime) -> None: ...


class OutboxSmsGateway:
    def __init__(self, path: Path):
        self.path = path

    def send_code(self, phone: str, purpose: str, code: str, sent_at: datetime, ttl_minutes: int) -> None:
        self._append({"phone": phone, "purpose": purpose, "code": code, "sent_at": sent_at.isoformat(),
                      "text": f"【河南工考】您正在{PURPOSE_TEXT.get(purpose, '')}，验证码{code}，"
                              f"{ttl_minutes}分钟内有效。如非本人操作，请忽略本短信。"})

    def send_notice(self, phone: str, kind: str, text: str, sent_at: datetime) -> None:
        """A notice to an applicant: ``{phone, purpose: "notice", kind, text, sent_at}``."""
        self._append({"phone": phone, "purpose": "notice", "kind": kind, "text": text,
                      "sent_at": sent_at.isoformat()})

    def _append(self, message: dict) -> None:
        line = json.dumps(message, ensure_ascii=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")


def gateway_from(settings: Settings) -> SmsGateway:
    if settings.sms_gateway == "outbox":
        return OutboxSmsGateway(settings.sms_outbox_path)
    raise RuntimeError(f"unknown SMS gateway {settings.sms_gateway!r}")
