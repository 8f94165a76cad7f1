"""Today's platform (API.md "The non-tax payment platform"): form fields signed with
HMAC-SHA256 over the other fields sorted by name and joined as ``k=v&k=v``, keyed with the
shared secret; ``timestamp`` in Unix seconds, within 5 minutes of our clock; a fresh
``nonce`` every delivery (a reused nonce is no error by itself)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import requests

from . import OrderRequest, Payment, PlatformRefused, PlatformUnavailable

SIGN_TYPE = "HMAC-SHA256"
MAX_SKEW_SECONDS = 300
UNSIGNED = ("sign", "sign_type")


def signature(fields: dict[str, str], secret: str) -> str:
    text = "&".join(f"{k}={fields[k]}" for k in sorted(fields) if k not in UNSIGNED)
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def signed(fields: dict, secret: str, now: datetime) -> dict[str, str]:
    """The fields with a fresh timestamp and nonce, signed."""
    out = {k: "" if v is None else str(v) for k, v in fields.items()}
    out.update(timestamp=str(int(now.timestamp())), nonce=secrets.token_hex(8))
    out["sign_type"] = SIGN_TYPE
    out["sign"] = signature(out, secret)
    return out


def verify(fields: dict[str, str], secret: str, now: datetime) -> None:
    """Refuses what the platform did not sign, or signed more than 5 minutes off our clock."""
    if fields.get("sign_type") != SIGN_TYPE:
        raise PlatformRefused("bad_sign_type", "签名方式不正确")
    given = str(fields.get("sign") or "")
    if not hmac.compare_digest(given.lower().encode(), signature(fields, secret).encode()):
        raise PlatformRefused("bad_signature", "签名不正确")
    try:
        stamp = int(str(fields.get("timestamp")))
    except ValueError:
        raise PlatformRefused("bad_timestamp", "时间戳不正确") from None
    if abs(now.timestamp() - stamp) > MAX_SKEW_SECONDS:
        raise PlatformRefused("stale_timestamp", "时间戳超出允许范围")


def _payment(fields: dict[str, str]) -> Payment:
    try:
        amount = int(fields["amount_fen"])
        paid_at = datetime.fromisoformat(fields["paid_at"]) if fields.get("paid_at") else None
        if paid_at is not None and paid_at.tzinfo is None:
            raise ValueError("paid_at without offset")
        return Payment(order_no=fields["order_no"], payment_notice_no=fields["payment_notice_no"],
                       amount_fen=amount, status=str(fields.get("status") or ""), paid_at=paid_at)
    except (KeyError, ValueError):
        raise PlatformRefused("bad_fields", "回调内容不完整或格式不正确") from None


class HmacPlatform:
    name = "hmac-sha256"

    def __init__(self, base_url: str, secret: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.timeout = timeout
        self.http = requests.Session()
        self.http.trust_env = False

    def register(self, order: OrderRequest, now: datetime) -> str:
        fields = signed({"order_no": order.order_no, "payment_notice_no": order.payment_notice_no,
                         "amount_fen": order.amount_fen, "payer_name": order.payer_name,
                         "expires_at": order.expires_at.isoformat(), "return_url": order.return_url},
                        self.secret, now)
        try:
            r = self.http.post(f"{self.base_url}/api/orders", data=fields, timeout=self.timeout)
        except requests.RequestException as exc:
            raise PlatformUnavailable(str(exc)) from exc
        if r.status_code not in (200, 201):
            raise PlatformUnavailable(f"the platform refused the order: {r.status_code}")
        return f"{self.base_url}/pay/{order.payment_notice_no}"

    def read_callback(self, fields: dict[str, str], now: datetime) -> Payment:
        verify(fields, self.secret, now)
        payment = _payment(fields)
        if payment.status != "PAID":
            raise PlatformRefused("bad_status", "回调状态不正确")
        return payment

    def query(self, payment_notice_no: str, now: datetime) -> Payment:
        try:
            r = self.http.get(f"{self.base_url}/api/orders/{payment_notice_no}", timeout=self.timeout)
            body = r.json()
        except (requests.RequestException, ValueError) as exc:
            raise PlatformUnavailable(str(exc)) from exc
        if r.status_code != 200 or not isinstance(body, dict):
            raise PlatformUnavailable(f"the platform answered {r.status_code}")
        fields = {k: "" if v is None else str(v) for k, v in body.items()}
        fields.setdefault("sign_type", SIGN_TYPE)
        verify(fields, self.secret, now)
        return _payment(fields)
