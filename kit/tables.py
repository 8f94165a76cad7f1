"""What several services read and decide the same way: spreadsheet uploads and who is in
an administrator's scope. Pure functions."""
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


def in_scope(role: str, scope: str | None, city_code: str, county_code: str | None,
             supervisor_id: str | None) -> bool:
    """Whether an application lies in an administrator's scope: the province everything, a
    city its city, a county its county, a 主管单位 its units' applicants."""
    if role == "province":
        return True
    if role == "city":
        return scope == city_code
    if role == "county":
        return county_code is not None and scope == county_code
    if role == "supervisor":
        return supervisor_id is not None and scope == supervisor_id
    return False
