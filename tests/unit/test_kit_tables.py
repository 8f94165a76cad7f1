"""kit.tables' Excel writer, which every export uses (issue 14, R-P4): rows go out as they come,
a sheet per group when asked, typed text stays text (never a formula), sheet titles valid."""
from __future__ import annotations

import io

import openpyxl

from kit.tables import xlsx_book, xlsx_file


def test_an_export_writes_its_rows_and_text_that_looks_like_a_formula_stays_text():
    """A name typed as "=HYPERLINK(…)" reaches Excel as text (no formula runs in the
    administrator's Excel); numbers stay numbers."""
    body, size = xlsx_file("名单", ["姓名", "金额"], iter([["=HYPERLINK(\"http://x\")", 150.5], ["张伟", None]]))
    data = body.read()
    assert len(data) == size
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.title == "名单"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["姓名", "金额"], ["=HYPERLINK(\"http://x\")", 150.5], ["张伟", None]]
    assert sheet["A2"].data_type == "s"


def test_a_book_of_many_sheets_gets_valid_unique_titles_and_an_empty_one_is_still_a_workbook():
    def sheets():
        for n in range(3):
            yield "ZZ01-R1:第一考场/很长很长很长很长很长很长很长很长很长", [["考场"], ["座号", "姓名"]], ([k, f"考生{n}{k}"] for k in range(2))

    body, _ = xlsx_book(sheets())
    book = openpyxl.load_workbook(body)
    assert len(book.sheetnames) == 3 and len(set(book.sheetnames)) == 3
    assert all(len(t) <= 31 and ":" not in t and "/" not in t for t in book.sheetnames)
    assert [c.value for c in book.worksheets[2][4]] == [1, "考生21"]
    assert openpyxl.load_workbook(xlsx_book([])[0]).sheetnames == ["Sheet1"]
