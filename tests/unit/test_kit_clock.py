"""kit.clock's shared test clock (GONGKAO_TEST_CLOCK_FILE): every process reads the same
file, and a change of it is seen by the next call, even two changes within one tick of the
file system's mtime, and even by a reader that caught the file half-written."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from kit import clock


@pytest.fixture
def clock_file(tmp_path, monkeypatch):
    path = tmp_path / "clock"
    monkeypatch.setenv("GONGKAO_TEST_CLOCK_FILE", str(path))
    monkeypatch.setitem(clock._cache, "stat", None)
    return path


def test_frozen_offset_and_real_time(clock_file):
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)          # no file: real time
    clock_file.write_text("2026-06-13T08:00:00+08:00")
    assert clock.now() == datetime(2026, 6, 13, 0, 0, tzinfo=UTC)
    clock_file.write_text("+90000")
    assert timedelta(hours=24, minutes=59) < clock.now() - datetime.now(UTC) < timedelta(hours=25, minutes=1)
    clock_file.unlink()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_second_write_with_the_same_mtime_and_size_is_seen(clock_file):
    """Two writes within one kernel tick leave the mtime as it was: a fresh file is read anew."""
    clock_file.write_text("2026-06-13T08:00:00+08:00")
    stamp = os.stat(clock_file).st_mtime_ns
    assert clock.now().hour == 0
    clock_file.write_text("2026-06-13T09:00:00+08:00")
    os.utime(clock_file, ns=(stamp, stamp))
    assert clock.now().hour == 1


def test_a_reader_that_saw_the_file_truncated_is_not_stuck_at_real_time(clock_file):
    clock_file.write_text("")                                 # caught between truncate and write
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
    stamp = os.stat(clock_file).st_mtime_ns
    clock_file.write_text("2026-06-13T08:00:00+08:00")
    os.utime(clock_file, ns=(stamp, stamp))
    assert clock.now() == datetime(2026, 6, 13, 0, 0, tzinfo=UTC)


def test_a_settled_file_is_read_once(clock_file, monkeypatch):
    clock_file.write_text("2026-06-13T08:00:00+08:00")
    old = os.stat(clock_file).st_mtime_ns - 5_000_000_000
    os.utime(clock_file, ns=(old, old))
    assert clock.now().hour == 0
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    for _ in range(3):
        assert clock.now().hour == 0
    assert opened == []
    clock_file.write_text("2026-06-13T09:00:00+08:00")        # a later write: a new mtime
    assert clock.now().hour == 1 and len(opened) == 1
