"""What several services read the same way: spreadsheet uploads. Pure functions. (Who is in
an administrator's scope: kit.access.)"""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, time

from kit.errors import InvalidInput

XLSX_MAX_UNPACKED = 64 * 1024 * 1024     # a few thousand rows unpack to well under 10 MB
XLSX_MAX_ROWS = 100_000
XLSX_MAX_COLUMNS = 50


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


def is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _cell_text(value) -> str:
    """A cell as the text a person typed: whole numbers without ".0", times as ISO text."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value).strip()


def xlsx_lists(data: bytes):
    """(line, [cells]) of the first sheet of an Excel workbook, line 1 being its first row.
    The workbook is data: its unpacked size, rows and columns are bounded before and while
    it is read (no zip bomb, no endless sheet); formulas give their cached value."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > XLSX_MAX_UNPACKED:
                raise InvalidInput("Excel 文件解压后过大", field="file")
    except zipfile.BadZipFile:
        raise InvalidInput("不是有效的 Excel（.xlsx）文件", field="file") from None
    import openpyxl  # only when a workbook comes

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:   # openpyxl raises many kinds for a damaged workbook
        raise InvalidInput("不是有效的 Excel（.xlsx）文件", field="file") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return
        for line, row in enumerate(sheet.iter_rows(values_only=True, max_col=XLSX_MAX_COLUMNS), start=1):
            if line > XLSX_MAX_ROWS:
                raise InvalidInput(f"Excel 文件不能超过{XLSX_MAX_ROWS}行", field="file")
            cells = [_cell_text(v) for v in row]
            while cells and not cells[-1]:
                cells.pop()
            yield line, cells
    except InvalidInput:
        raise
    except Exception:
        raise InvalidInput("Excel 文件内容无法读取", field="file") from None
    finally:
        book.close()


def sheet_lists(data: bytes):
    """(line, [cells]) of a CSV or an Excel workbook (told apart by content), line 1 being
    the header; blank rows are left out."""
    rows = xlsx_lists(data) if is_xlsx(data) else csv_lists(data)
    for line, cells in rows:
        if any(c.strip() for c in cells):
            yield line, [c.strip() for c in cells]


def sheet_dicts(data: bytes, columns: dict[str, str], required: set[str]):
    """(line, {key: text}) of a CSV or Excel table whose header names its columns (in
    Chinese or as the API names them: ``columns`` maps header → key; any order). A missing required column is one
    400 naming them all."""
    rows = sheet_lists(data)
    first = next(rows, None)
    if first is None:
        raise InvalidInput("文件中没有内容", field="file")
    header = [columns.get(h.strip()) for h in first[1]]
    names = {}
    for h, key in columns.items():       # several headers may name one key: the first is shown
        names.setdefault(key, h)
    missing = [names[key] for key in names if key in required and key not in header]
    if missing:
        raise InvalidInput(f"文件首行须为表头，缺少列：{'、'.join(missing)}", field="file")
    for line, cells in rows:
        yield line, {key: (cells[i] if i < len(cells) else "") for i, key in enumerate(header) if key}


def _cells(sheet, row) -> list:
    """A row as cells of the write-only sheet: text is always text. openpyxl writes a string
    that starts with "=" as a formula; a name or a reason typed by somebody ("=HYPERLINK(…)")
    must reach the administrator's Excel as the text it is, never as a formula it runs."""
    from openpyxl.cell import WriteOnlyCell

    out = []
    for value in row:
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            value = cell
        out.append(value)
    return out


def _spooled(book) -> tuple[object, int]:
    import tempfile

    out = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)
    book.save(out)
    size = out.tell()
    out.seek(0)
    return out, size


def xlsx_file(title: str, header: list[str], rows) -> tuple[object, int]:
    """An Excel file of ``rows`` (any iterable, consumed once), written row by row by
    openpyxl's write-only workbook into a temporary file that spills to disk: no list of all
    rows in memory. Returns the file, rewound, and its size (for a kit.files generated
    download)."""
    return xlsx_book([(title, [header], rows)])


def xlsx_book(sheets) -> tuple[object, int]:
    """An Excel file of several sheets: ``sheets`` yields ``(title, head_rows, rows)``, each
    consumed once and in order; a sheet is finished (its temporary file closed) before the
    next one starts, so a workbook of a thousand sheets holds neither a thousand open files
    nor its rows in memory. Titles are made valid and unique (31 characters, no []:*?/\\)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    used: set[str] = set()
    for title, head, rows in sheets:
        sheet = book.create_sheet(_sheet_title(title, used))
        for row in head:
            sheet.append(_cells(sheet, row))
        for row in rows:
            sheet.append(_cells(sheet, row))
        sheet.close()
    if not used:
        book.create_sheet("Sheet1").close()
    return _spooled(book)


def _sheet_title(title: str, used: set[str]) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in (title or "").strip())[:31] or "Sheet"
    name, n = clean, 1
    while name.lower() in used:
        n += 1
        suffix = f"~{n}"
        name = clean[:31 - len(suffix)] + suffix
    used.add(name.lower())
    return name
