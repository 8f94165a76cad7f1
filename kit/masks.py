"""Masked personal data (API.md conventions), one rule for every service and page:
ID ``410102********0011``, name ``李*栋`` / ``孔**``, phone ``138****0001``."""
from __future__ import annotations


def mask_id(id_number: str | None) -> str:
    """411502********4408: enough to recognise, not enough to misuse."""
    value = id_number or ""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(phone: str | None) -> str:
    value = phone or ""
    return value[:3] + "****" + value[-4:] if len(value) == 11 else "***"


def mask_name(name: str | None) -> str:
    """李*, 孔**: the family name and one star per other character (R-R3, the manual's
    reviewers)."""
    value = name or ""
    return value[:1] + "*" * (len(value) - 1)
