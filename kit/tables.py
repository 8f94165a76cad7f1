"""What several services read the same way: spreadsheet uploads. Pure functions. (Who is in
an administrator's scope: kit.access.)"""
from __future__ import annotations

from kit.errors import InvalidInput


def decode_csv(data: bytes) -> str:
    """Excel in China saves CSV as GBK; accept UTF-8 (with or without BOM) or GB 18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("无法识别文件编码，请保存为 UTF-8 或 GBK 编码的 CSV 文件", field="file")
