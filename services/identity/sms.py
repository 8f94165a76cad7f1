"""The pluggable SMS gateway (R-I5). The development gateway appends each message to a
JSON-lines file instead of sending it; a real provider is another class here."""
from __future__ import annotations

import json
import os
import threading
from datetime import datetime
from pathlib import Path

from kit.config import Settings

_lock = threading.Lock()

PURPOSE_TEXT = {"register": "注册", "delete_self": "删除本人信息", "unlock": "解除账号登录锁定"}


class OutboxSmsGateway:
    def __init__(self, path: Path):
        self.path = path

    def send_code(self, phone: str, purpose: str, code: str, sent_at: datetime, ttl_minutes: int) -> None:
        line = json.dumps({"phone": phone, "purpose": purpose, "code": code,
                           "sent_at": sent_at.isoformat(),
                           "text": f"【河南工考】您正在{PURPOSE_TEXT.get(purpose, '')}，验证码{code}，"
                                   f"{ttl_minutes}分钟内有效。如非本人操作，请忽略本短信。"},
                          ensure_ascii=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")


def gateway_from(settings: Settings):
    if settings.sms_gateway == "outbox":
        return OutboxSmsGateway(settings.sms_outbox_path)
    raise RuntimeError(f"unknown SMS gateway {settings.sms_gateway!r}")
