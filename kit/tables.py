"""What several services read the same way: spreadsheet uploads. Pure functions. (Who is in
an administrator's scope: kit.access.)"""
from __future__ import annotations

import csv
import io

from kit.errors import InvalidInput


def decode_csv(data: bytes) -> str:
    """Excel in China saves CSV as GBK; accept UTF-8 (with or without BOM) or GB 18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("无法识别文件编码，请保存为 UTF-8 或 GBK 编码的 CSV 文件", field="file")


def _rows(text: str, reader_factory):
    """The rows of a CSV text; a malformed file is a 400 naming the line, never a crash."""
    if "\x00" in text:
        raise InvalidInput("文件中含有空字符（NUL），不是有效的 CSV 文件", field="file")
    reader = reader_factory(io.StringIO(text))
    line = 1
    try:
        for line, row in enumerate(reader, start=2):  # noqa: B007 - line is used after a failure
            yield line, row
    except csv.Error:
        raise InvalidInput(f"CSV 文件第{line}行格式不正确", field="file") from None


def csv_dicts(data: bytes, required: set[str], header_text: str):
    """(line, {column: text}) for every row of a CSV with a header (line numbers as a
    spreadsheet shows them, the header being line 1). Extra cells are kept joined under
    "" so that they cannot crash a parser; every value is a stripped string."""
    text = decode_csv(data)
    reader = csv.DictReader(io.StringIO(text))
    try:
        fields = {(f or "").strip() for f in (reader.fieldnames or [])}
    except csv.Error:
        raise InvalidInput("CSV 文件首行格式不正确", field="file") from None
    if not fields or not required <= fields:
        raise InvalidInput(f"CSV 首行须为表头 {header_text}", field="file")
    for line, rec in _rows(text, csv.DictReader):
        out: dict[str, str] = {}
        for key, value in rec.items():
            if isinstance(value, list):
                value = ",".join(v or "" for v in value)
            out[(key or "").strip()] = (value or "").strip()
        yield line, out


def csv_lists(data: bytes):
    """(line, [cells]) for every row of a CSV, the header included as line 1."""
    for line, row in _rows(decode_csv(data), csv.reader):
        yield line - 1, row
