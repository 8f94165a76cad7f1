"""Short-lived signed tokens between the gateway and the services (sealed principals, file
tickets): itsdangerous's timed serializer (Pallets; HMAC-SHA256 here), keyed with the
internal secret only the gateway and the services hold. Real time, not the test clock: a
token's age is a transport matter, not a business rule."""
from __future__ import annotations

import hashlib
import time
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from kit.config import settings


@lru_cache(maxsize=16)
def _serializer(purpose: str, secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"gongkao.{purpose}",
                                  signer_kwargs={"digest_method": hashlib.sha256})


def dumps(purpose: str, claims: Any) -> str:
    return _serializer(purpose, settings().internal_secret).dumps(claims)


def loads_timed(purpose: str, token: str, max_age: int) -> tuple[Any, int] | None:
    """``loads``, with the token's time of signing (whole seconds since the epoch)."""
    try:
        claims, signed = _serializer(purpose, settings().internal_secret).loads(token, max_age=max_age,
                                                                                return_timestamp=True)
    except (BadSignature, UnicodeDecodeError, ValueError):
        return None
    return claims, int(signed.timestamp())


def is_fresh(signed: int, max_age: int) -> bool:
    """itsdangerous's own rule for a token signed at ``signed``: not older than ``max_age``
    seconds, and not from the future."""
    age = int(time.time()) - signed
    return 0 <= age <= max_age


def loads(purpose: str, token: str, max_age: int) -> Any | None:
    """The claims of a token made for this purpose, or None when it is forged, altered,
    made for another purpose or older than ``max_age`` seconds."""
    verified = loads_timed(purpose, token, max_age)
    return None if verified is None else verified[0]
