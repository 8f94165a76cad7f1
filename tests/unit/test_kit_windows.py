"""kit.windows.next_change (issue 12): until when what is read from a calendar stays true by
the clock alone — the moment a window opens, or one second after it ends (a window is open
to its end's last second, kit.windows.window_open)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kit.windows import next_change, window_open

T = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
CALENDAR = {"windows": {"application": {"start": T.isoformat(), "end": (T + timedelta(days=10)).isoformat()},
                        "results": {"start": (T + timedelta(days=40)).isoformat(),
                                    "end": (T + timedelta(days=50)).isoformat()},
                        "payment": None, "review": {"start": None, "end": None}}}


def test_before_a_window_the_change_is_its_start():
    assert next_change(CALENDAR, T - timedelta(seconds=1)) == T
    assert not window_open(CALENDAR["windows"]["application"], T - timedelta(seconds=1))
    assert window_open(CALENDAR["windows"]["application"], T)


def test_inside_a_window_the_change_is_one_second_after_its_end_and_then_the_next_window():
    end = T + timedelta(days=10)
    assert next_change(CALENDAR, T) == end + timedelta(seconds=1)
    assert next_change(CALENDAR, end + timedelta(milliseconds=999)) == end + timedelta(seconds=1)
    assert window_open(CALENDAR["windows"]["application"], end + timedelta(milliseconds=999))
    assert not window_open(CALENDAR["windows"]["application"], end + timedelta(seconds=1))
    assert next_change(CALENDAR, end + timedelta(seconds=1)) == T + timedelta(days=40)


def test_after_every_window_or_without_a_calendar_nothing_changes_by_the_clock():
    assert next_change(CALENDAR, T + timedelta(days=60)) is None
    assert next_change(None, T) is None
    assert next_change({"windows": {}}, T) is None
