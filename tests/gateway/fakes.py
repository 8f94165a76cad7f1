"""A fake RPC for the gateway tests: the same ``rpc.<service>.<method>(...)`` shape as
``gateway.rpc.Rpc``, recording every call and answering from a table (a value, a function of
the arguments, or an exception to raise); a call nobody expected is an error. Plus sealed
principals as identity's ``resolve_session`` hands them out."""
from __future__ import annotations

import copy
from typing import Any

from kit import access
from kit.access import Principal

APPLICANT_TOKEN, ADMIN_TOKEN = "applicant-token", "admin-token"
ID_NUMBER = "410102198503120014"


def sealed_applicant(**kw) -> dict:
    return access.seal(Principal(kind="applicant", id=7, name="张伟", year=2026, id_number=ID_NUMBER,
                                 city_code="410100", **kw))


def sealed_admin(role: str = "province", scope: str | None = None, **kw) -> dict:
    return access.seal(Principal(kind="admin", id=1, name="周明远", username=f"{role}_admin", role=role,
                                 scope_code=scope, **kw))


class UnexpectedCall(AssertionError):
    pass


class FakeRpc:
    def __init__(self):
        self.calls: list[tuple[str, tuple, dict]] = []
        self.answers: dict[str, Any] = {}
        self.sessions: dict[str, dict] = {}
        self.pool = _Pool(self)
        self.answer("identity.resolve_session", lambda token: copy.deepcopy(self.sessions.get(token)))

    def answer(self, name: str, value: Any) -> FakeRpc:
        """``name`` is ``"service.method"``; ``value`` is returned (a copy), called with the
        call's arguments when callable, raised when an exception."""
        self.answers[name] = value
        return self

    def call(self, service: str, method: str, *args, **kwargs):
        name = f"{service}.{method}"
        self.calls.append((name, args, kwargs))
        if name not in self.answers:
            raise UnexpectedCall(f"unexpected RPC {name}")
        value = self.answers[name]
        if isinstance(value, BaseException):
            raise value
        if callable(value):
            return value(*args, **kwargs)
        return copy.deepcopy(value)

    @property
    def names(self) -> list[str]:
        """The calls made so far, in order, by name."""
        return [name for name, _, _ in self.calls]

    def reset(self) -> None:
        self.calls.clear()

    def __getattr__(self, service: str):
        if service.startswith("_"):
            raise AttributeError(service)
        return _Service(self, service)


class _Service:
    def __init__(self, rpc: FakeRpc, service: str):
        self._rpc, self._service = rpc, service

    def __getattr__(self, method: str):
        return lambda *a, **kw: self._rpc.call(self._service, method, *a, **kw)


class _Pool:
    """What ``/readyz`` uses: ``pool.call(service, "ping")``."""

    def __init__(self, rpc: FakeRpc):
        self._rpc = rpc

    def call(self, service: str, method: str, *args, **kwargs):
        return self._rpc.call(service, method, *args, **kwargs)
