"""Slow salted hashing (argon2id, R-I6), off the eventlet hub when one runs."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kit import offload

# argon2id with the OWASP profile (19 MiB, t=2, p=1): slow for an attacker, ~4x cheaper per
# login than the library default on a 2-core box; old hashes keep their own parameters.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY = _hasher.hash("dummy-password-for-timing-0")


def hash_password(password: str) -> str:
    return offload.run(_hasher.hash, password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists."""
    try:
        return offload.run(_hasher.verify, stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
