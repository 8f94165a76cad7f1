"""PDFs from layouts that are data (``layouts/*.json``, validated by ``schemas.Layout``),
drawn with reportlab and an embedded TrueType Chinese font, so every text is extractable and
every font embedded (API.md: ``pdftotext`` finds every field, ``pdffonts`` says embedded).
The one place that knows reportlab: the rest of the service hands it data and gets bytes."""
from __future__ import annotations

import io
import json
from functools import lru_cache
from pathlib import Path

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from .schemas import ISSUER, BoxItem, Layout, ParagraphsItem, SeatListLayout, TableItem, TextItem

LAYOUTS = Path(__file__).resolve().parent / "layouts"
FONT = "GongkaoSans"
FONT_PATHS = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",)


@lru_cache(maxsize=8)
def layout(name: str) -> Layout:
    return Layout.model_validate(json.loads((LAYOUTS / f"{name}.json").read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def font() -> str:
    """Registers the Chinese TrueType font once per process (subset and embedded in each PDF)."""
    for path in FONT_PATHS:
        if Path(path).exists():
            pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=0))
            return FONT
    raise RuntimeError("no Chinese TrueType font: install Debian's fonts-wqy-zenhei")


def wrap(text: str, width: float, size: float) -> list[str]:
    """Greedy line breaking by measured width (Chinese has no spaces to break at)."""
    lines, line = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(line + ch, font(), size) > width and line:
            lines.append(line)
            line = ch
        else:
            line += ch
    return [*lines, line] if line else lines


def _text(c: canvas.Canvas, item: TextItem, data: dict) -> None:
    content = item.content.format_map({k: v for k, v in data.items() if isinstance(v, str)})
    c.setFont(font(), item.size)
    {"left": c.drawString, "center": c.drawCentredString, "right": c.drawRightString}[item.align](
        item.x, item.y, content)


def _photo(c: canvas.Canvas, item: BoxItem, photo: bytes | None) -> None:
    c.setLineWidth(0.6)
    c.rect(item.x, item.y, item.width, item.height)
    if photo:
        c.drawImage(ImageReader(io.BytesIO(photo)), item.x, item.y, item.width, item.height,
                    preserveAspectRatio=True, anchor="c")
    else:
        c.setFont(font(), 9)
        c.drawCentredString(item.x + item.width / 2, item.y + item.height / 2, "照片")


def _qr(c: canvas.Canvas, item: BoxItem, value: str) -> None:
    """The QR code's modules drawn as filled squares straight on the canvas (reportlab's
    renderer would add an unembedded Helvetica to the file)."""
    widget = QrCodeWidget(value, barLevel="M")
    widget.qr.make()
    modules = widget.qr.modules
    count, border = len(modules), 2
    box = min(item.width, item.height) / (count + 2 * border)
    c.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(modules):
        for col, dark in enumerate(row):
            if dark:
                c.rect(item.x + (col + border) * box, item.y + item.height - (r + border + 1) * box, box, box,
                       stroke=0, fill=1)


def _table(c: canvas.Canvas, item: TableItem, rows: list[dict]) -> None:
    """A header row and one row per record; a cell's text wraps (a line break in the data
    starts a new line), three lines at most."""
    y = item.y
    c.setLineWidth(0.6)
    widths = [w for _, w, _ in item.columns]
    for cells, bold in [([h for h, _, _ in item.columns], True),
                        *[([row.get(key, "") for _, _, key in item.columns], False) for row in rows]]:
        x = item.x
        for text, width in zip(cells, widths, strict=True):
            c.rect(x, y - item.row_height, width, item.row_height)
            lines = [part for para in str(text).split("\n") for part in wrap(para, width - 6, item.size)][:3]
            c.setFont(font(), item.size + (0.5 if bold else 0))
            top = y - (item.row_height - len(lines) * (item.size + 2)) / 2 - item.size
            for i, line in enumerate(lines):
                c.drawString(x + 3, top - i * (item.size + 2), line)
            x += width
        y -= item.row_height


def _paragraphs(c: canvas.Canvas, item: ParagraphsItem, points: list[str]) -> None:
    c.setFont(font(), item.size)
    y = item.y
    for n, point in enumerate(points, start=1):
        for i, line in enumerate(wrap(f"{n}. {point}", item.width - 12, item.size)):
            c.drawString(item.x + (0 if i == 0 else 12), y, line)
            y -= item.leading


def render(layout_name: str, data: dict, photo: bytes | None, qr_value: str) -> bytes:
    """One PDF page of ``layout_name`` filled with ``data`` (texts, and lists of rows or of
    paragraphs for tables and numbered notes), the photo and the QR code's value."""
    page = layout(layout_name)
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(page.width, page.height), pageCompression=1, initialFontName=font(),
                      initialFontSize=10)   # no unembedded Helvetica left in the file
    c.setTitle(data.get("title", page.name))
    c.setAuthor(ISSUER)
    for item in page.items:
        if isinstance(item, TextItem):
            _text(c, item, data)
        elif isinstance(item, BoxItem) and item.type == "photo":
            _photo(c, item, photo)
        elif isinstance(item, BoxItem):
            _qr(c, item, qr_value)
        elif isinstance(item, TableItem):
            _table(c, item, data.get(item.source) or [])
        elif isinstance(item, ParagraphsItem):
            _paragraphs(c, item, data.get(item.source) or [])
    c.showPage()
    c.save()
    return out.getvalue()


# --- the proctors' seat lists (issue 14) ------------------------------------------------------
@lru_cache(maxsize=1)
def seat_layout() -> SeatListLayout:
    return SeatListLayout.model_validate(json.loads((LAYOUTS / "seat_list.json").read_text(encoding="utf-8")))


class SeatLists:
    """A PDF of seat lists written into ``out`` (a file): ``room()`` draws one room's pages —
    a header (考点, 考场, times), the table of seats, the proctors' signature line; a room
    longer than a page goes on with the header again, marked 续. reportlab keeps each finished
    page's compressed content (a few KB) until ``finish()`` writes the file; the rows are
    handed over one room at a time."""

    def __init__(self, out, year: int):
        self.layout = seat_layout()
        self.title = self.layout.title.format(year=year)
        self.c = canvas.Canvas(out, pagesize=(self.layout.width, self.layout.height), pageCompression=1,
                               initialFontName=font(), initialFontSize=10)
        self.c.setTitle(self.title)
        self.c.setAuthor(ISSUER)
        self.pages = 0

    def _head(self, lines: list[str], part: int, parts: int) -> float:
        """The page's title and header lines; returns where the table starts."""
        lay, c = self.layout, self.c
        top = lay.height - lay.margin
        c.setFont(font(), lay.title_size)
        c.drawCentredString(lay.width / 2, top - lay.title_size, self.title)
        y = top - lay.title_size - 10
        width = lay.width - 2 * lay.margin
        c.setFont(font(), lay.size + 1)
        for text in lines:
            for line in wrap(text, width, lay.size + 1):
                y -= lay.size + 6
                c.drawString(lay.margin, y, line)
        if parts > 1:
            c.drawRightString(lay.width - lay.margin, top - lay.title_size - 10 - (lay.size + 6),
                              f"第{part}/{parts}页{'（续）' if part > 1 else ''}")
        return y - 8

    def _foot(self) -> float:
        """The signature line at the bottom; returns the lowest y the table may reach."""
        lay = self.layout
        self.c.setFont(font(), lay.size + 1)
        self.c.drawString(lay.margin, lay.margin, lay.signature)
        return lay.margin + lay.size + 18

    def _fit(self, text: str, width: float, size: float) -> tuple[list[str], float]:
        """A cell's text in its width: as it is (nearly always), else a little smaller, else
        wrapped small to the lines the row holds (a very long trade name is cut)."""
        if len(text) * size <= width:       # no glyph is wider than its size: fits unmeasured
            return [text], size
        for candidate in (size, size * 0.85, size * 0.75):
            if pdfmetrics.stringWidth(text, font(), candidate) <= width:
                return [text], candidate
        small = size * 0.75
        return wrap(text, width, small)[:max(1, int((self.layout.row_height - 2) // (small + 1.5)))], small

    def _table(self, y: float, rows: list[dict]) -> None:
        """The grid as whole lines (a rectangle per cell costs several times as much to write),
        then each cell's text."""
        lay, c = self.layout, self.c
        c.setLineWidth(0.6)
        edges = [lay.margin]
        for _, width, _ in lay.columns:
            edges.append(edges[-1] + width)
        bottom = y - (len(rows) + 1) * lay.row_height
        c.lines([(edges[0], y - i * lay.row_height, edges[-1], y - i * lay.row_height) for i in range(len(rows) + 2)]
                + [(x, y, x, bottom) for x in edges])
        for cells, size in [([h for h, _, _ in lay.columns], lay.size + 0.5),
                            *[([row.get(key, "") if key else "" for _, _, key in lay.columns], lay.size)
                              for row in rows]]:
            x = lay.margin
            for text, (_, width, _) in zip(cells, lay.columns, strict=True):
                if text != "":
                    lines, fitted = self._fit(str(text), width - 4, size)
                    c.setFont(font(), fitted)
                    top = y - (lay.row_height - len(lines) * (fitted + 1.5)) / 2 - fitted + 1
                    for i, line in enumerate(lines):
                        c.drawString(x + 2, top - i * (fitted + 1.5), line)
                x += width
            y -= lay.row_height

    def room(self, lines: list[str], rows: list[dict]) -> None:
        """One room: its header ``lines`` and its seats (as many pages as they need)."""
        lay = self.layout
        # how many rows a page holds under this header (the same on every page of the room)
        probe_top = lay.height - lay.margin - lay.title_size - 10 - 8 - sum(
            len(wrap(t, lay.width - 2 * lay.margin, lay.size + 1)) * (lay.size + 6) for t in lines)
        per_page = max(1, int((probe_top - (lay.margin + lay.size + 18)) // lay.row_height) - 1)
        parts = max(1, -(-len(rows) // per_page))
        for part in range(parts):
            y = self._head(lines, part + 1, parts)
            self._foot()
            self._table(y, rows[part * per_page:(part + 1) * per_page])
            self.c.showPage()
            self.pages += 1

    def note(self, text: str) -> None:
        """A page that says why there is no list (nobody seated in the scope)."""
        self._head([text], 1, 1)
        self.c.showPage()
        self.pages += 1

    def finish(self) -> None:
        self.c.save()
