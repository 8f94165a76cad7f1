"""The non-tax payment platform (非税支付平台) behind one interface (DESIGN: adapters). The
service and its rules see ``Platform`` and these plain records, never a wire format; each
platform's signature scheme (HMAC-SHA256 today, RSA or SM2 elsewhere) is one module here,
chosen by ``GONGKAO_NONTAX_PLATFORM``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from kit.config import Settings


class PlatformRefused(Exception):
    """A callback or answer the platform did not sign, or signed too long ago."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class PlatformUnavailable(Exception):
    """The platform did not answer (reconciliation tries again later)."""


@dataclass(frozen=True)
class OrderRequest:
    order_no: str
    payment_notice_no: str
    amount_fen: int
    payer_name: str
    expires_at: datetime
    return_url: str


@dataclass(frozen=True)
class Payment:
    """What the platform says of an order: PAID (with when and how much), UNPAID or CLOSED."""

    order_no: str
    payment_notice_no: str
    amount_fen: int
    status: str               # PAID | UNPAID | CLOSED
    paid_at: datetime | None


class Platform(Protocol):
    name: str

    def register(self, order: OrderRequest, now: datetime) -> str:
        """Tells the platform of the order; returns the URL the payer is sent to."""

    def read_callback(self, fields: dict[str, str], now: datetime) -> Payment:
        """A callback's fields, checked (signature, freshness); raises PlatformRefused."""

    def query(self, payment_notice_no: str, now: datetime) -> Payment:
        """The platform's word on an order (reconciliation); raises PlatformUnavailable."""


def platform_from(settings: Settings) -> Platform:
    if settings.nontax_platform == "hmac-sha256":
        from .hmac_sha256 import HmacPlatform

        return HmacPlatform(settings.nontax_url, settings.nontax_secret)
    raise RuntimeError(f"unknown non-tax platform {settings.nontax_platform!r}")
