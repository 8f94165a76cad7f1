"""Validation errors reach the person in Chinese and name the field."""
import pytest

from kit.errors import InvalidInput
from kit.validation import parse
from services.identity.schemas import AdminCreate, YearUpdate


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"windows": {"nonsense": {}}}, "windows.nonsense", "取值不在允许范围内"),
        ({"windows": {"registration": {"start": "x", "end": "y"}}}, "windows.registration.start", "时间格式"),
        ({"windows": {"registration": {"start": "2026-12-01T00:00:00", "end": "2026-12-02T00:00:00"}}},
         "windows.registration", "时区"),
        ({"windows": {"registration": {"start": "2026-12-01T00:00:00+08:00", "end": "2026-11-01T00:00:00+08:00"}}},
         "windows.registration", "结束时间须晚于开始时间"),
        ({"switches": {"ticket_printing": "maybe"}}, "switches.ticket_printing", "true 或 false"),
        ({"foo": 1}, "foo", "不支持的字段"),
    ],
)
def test_year_update_errors(data, field, text):
    with pytest.raises(InvalidInput) as exc:
        parse(YearUpdate, data)
    assert exc.value.field == field and text in exc.value.message
    assert all(ord(c) < 128 or "\u3000" <= c <= "\uffef" or "\u4e00" <= c <= "\u9fff" for c in exc.value.message)


def test_none_is_an_empty_object():
    assert parse(AdminCreate, None).username == ""
