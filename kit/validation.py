"""Pydantic validation with Chinese messages: bad input is a 400 that names the field."""
from __future__ import annotations

import re
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, ValidationError

from kit.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)

MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不支持的字段",
    "string_type": "应为文本",
    "string_too_long": "内容过长",
    "string_too_short": "内容过短",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "datetime_parsing": "时间格式不正确，例如 2026-01-08T00:00:00+08:00",
    "datetime_type": "时间格式不正确，例如 2026-01-08T00:00:00+08:00",
    "datetime_from_date_parsing": "时间格式不正确，例如 2026-01-08T00:00:00+08:00",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "date_parsing": "日期格式不正确，例如 2026-03-01",
    "date_from_datetime_parsing": "日期格式不正确，例如 2026-03-01",
    "date_from_datetime_inexact": "日期格式不正确，例如 2026-03-01",
    "date_type": "日期格式不正确，例如 2026-03-01",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "too_short": "至少需要一项",
    "too_long": "项目过多",
    "int_from_float": "应为整数",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "model_type": "应为对象",
}


def parse(model: type[M], data) -> M:
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(p) for p in first.get("loc", ()) if not isinstance(p, int) and p != "[key]"]
        field = ".".join(loc) or None
        if first["type"] == "value_error":   # our own validators speak whole Chinese sentences
            raise InvalidInput(str(first.get("msg", "")).removeprefix("Value error, "), field=field) from None
        message = MESSAGES.get(first["type"], "格式不正确")
        info = model.model_fields.get(loc[0]) if loc else None
        name = (info.title if info is not None and info.title else None) or field
        raise InvalidInput(f"{name}：{message}" if name else message, field=field) from None


def check_year(year) -> int:
    """An exam year as the API names it: four digits, 2000–2100 (bad input is a 400, never
    an overflow deeper down)."""
    if isinstance(year, bool) or not isinstance(year, int | str):
        raise InvalidInput("年度应为四位数字", field="year")
    try:
        value = int(year.strip()) if isinstance(year, str) else int(year)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput("年度应为四位数字", field="year") from None
    if not 2000 <= value <= 2100:
        raise InvalidInput("年度应在2000至2100之间", field="year")
    return value


# Characters no name, reason, phone or password has any business holding: C0 controls and
# DEL (NUL included), the byte-order mark, and the bidirectional overrides and isolates that
# make text display other than it reads (a right-to-left override turns 张三gpj.exe around).
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_HIDDEN_LINE = re.compile("[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
HIDDEN_MESSAGE = "含有不可见的控制字符，请重新输入"


def has_hidden(value: str, multiline: bool = False) -> bool:
    return bool((_HIDDEN if multiline else _HIDDEN_LINE).search(value))


def check_text(value: str, field: str | None, label: str, multiline: bool = False) -> str:
    """Refuses control characters and direction overrides (issue 8); line breaks only where
    the text may have lines (reasons, accounts of a case)."""
    if has_hidden(value, multiline):
        raise InvalidInput(f"{label}{HIDDEN_MESSAGE}", field=field)
    return value


def _plain_line(value: str) -> str:
    if has_hidden(value):
        raise ValueError(HIDDEN_MESSAGE)
    return value


def _plain_text(value: str) -> str:
    if has_hidden(value, multiline=True):
        raise ValueError(HIDDEN_MESSAGE)
    return value


# for the contracts' models: one line of text / text that may have lines
Line = Annotated[str, AfterValidator(_plain_line)]
Text = Annotated[str, AfterValidator(_plain_text)]
