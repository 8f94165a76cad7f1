"""One clock for every service. Times are timezone-aware; the calendar of the exam is
Beijing time (Asia/Shanghai, UTC+8, no DST)."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")

_cache: dict[str, object] = {"mtime": None, "value": None}


def _test_override() -> tuple[str, object] | None:
    path = os.environ.get("GONGKAO_TEST_CLOCK_FILE")
    if not path:
        return None
    try:
        mtime = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return None
    if _cache["mtime"] != mtime:
        with open(path, encoding="utf-8") as fh:
            text = fh.read().strip()
        value: object = None
        if text.startswith(("+", "-")):
            value = ("offset", timedelta(seconds=float(text)))
        elif text:
            value = ("frozen", datetime.fromisoformat(text))
        _cache.update(mtime=mtime, value=value)
    return _cache["value"]  # type: ignore[return-value]


def now() -> datetime:
    """Current time, UTC, truncated to microseconds."""
    real = datetime.now(UTC)
    override = _test_override()
    if override is None:
        return real
    kind, value = override
    if kind == "frozen":
        return value.astimezone(UTC)  # type: ignore[union-attr]
    return real + value  # type: ignore[operator]


def local_now() -> datetime:
    return now().astimezone(CST)


def aware(dt: datetime) -> datetime:
    """SQLite returns naive datetimes; everything we store is UTC."""
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
