"""A fake RPC for the gateway tests: the same ``rpc.<service>.<method>(...)`` shape as
``gateway.rpc.Rpc``, recording every call and answering from a table (a value, a function of
the arguments, or an exception to raise); a call nobody expected is an error. Plus sealed
principals (and applicants' accounts) as identity's ``resolve_session_view`` hands them out."""
from __future__ import annotations

import copy
from typing import Any

from kit import access
from kit.access import Principal

APPLICANT_TOKEN, ADMIN_TOKEN = "applicant-token", "admin-token"
ID_NUMBER = "410102198503120014"


# --- what the applicant API's services plausibly answer (tests/gateway/conftest.py: answers)
APPLICANT_ACCOUNT = {"year": 2026, "id_number": ID_NUMBER, "name": "张伟", "must_change_password": False}
FORM = {"application_id": "a1", "status": "not_submitted", "files": {}}
FILE_TICKET = {"url": "http://127.0.0.1:1/files/t", "sha256": "0" * 64, "content_type": "image/jpeg", "size": 3,
               "filename": "个人照片.jpg", "disposition": "inline"}


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
        self.accounts: dict[str, dict] = {}        # token → the account identity hands out with it
        self.pool = _Pool(self)
        self.answer("identity.resolve_session_view", self._view)

    def _view(self, token: str) -> dict | None:
        if token not in self.sessions:
            return None
        return {"principal": copy.deepcopy(self.sessions[token]), "account": copy.deepcopy(self.accounts.get(token))}

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


class FakeListener:
    """gateway.events without a broker: always connected; a test delivers events itself."""

    def __init__(self):
        import threading

        self.connected = threading.Event()
        self.connected.set()
        self.handlers: dict[str, list] = {}
        self.resets: list = []

    def on(self, event_type, handler, on_reset) -> None:
        self.handlers.setdefault(event_type, []).append(handler)
        self.resets.append(on_reset)

    def ensure_started(self) -> None:
        pass

    def deliver(self, event_type: str, data: dict) -> None:
        for handler in self.handlers.get(event_type, []):
            handler(data)

    def lose_broker(self) -> None:
        self.connected.clear()
        for reset in self.resets:
            reset()
