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

from .schemas import ISSUER, BoxItem, Layout, ParagraphsItem, TableItem, TextItem

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
