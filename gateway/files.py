"""Files through the gateway (kit.files): the service hands out a ticket by RPC; the gateway
fetches the bytes from the service's own endpoint and streams them on, or sends an upload's
bytes there. No file crosses the broker; no whole file is held here beyond an upload's
form part."""
from __future__ import annotations

import logging
import threading

import falcon
import requests

from kit.errors import REMOTE_ERRORS, ServiceError

from .rpc import ServiceUnavailable

log = logging.getLogger(__name__)

STREAM_CHUNK = 64 * 1024
CONNECT_TIMEOUT, READ_TIMEOUT = 3.0, 30.0
# A file made on request (an export: its ticket has no hash) is written whole before its first
# byte: a province-wide Excel of 100,000 rows takes openpyxl half a minute on a busy host.
GENERATED_READ_TIMEOUT = 180.0
_local = threading.local()
_ERRORS_BY_STATUS = {cls.status: cls for cls in REMOTE_ERRORS if cls is not ServiceError}


def _session() -> requests.Session:
    """One keep-alive session per gateway thread."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.trust_env = False  # the services are reached directly, never through a proxy
    return session


def _refusal(response: requests.Response) -> ServiceError:
    try:
        body = response.json()["error"]
        cls = _ERRORS_BY_STATUS.get(response.status_code, ServiceError)
        return cls(body["message"], code=body.get("code"), field=body.get("field"), details=body.get("details"))
    except (ValueError, KeyError, TypeError):
        return ServiceUnavailable(f"file endpoint answered {response.status_code}")


class _Body:
    """The upstream stream as a WSGI body: closed when the server is done with it."""

    def __init__(self, upstream: requests.Response):
        self.upstream = upstream
        self.chunks = upstream.iter_content(STREAM_CHUNK)

    def __iter__(self):
        return self.chunks

    def close(self):
        self.upstream.close()


def pass_on(resp: falcon.Response, ticket: dict) -> None:
    """Streams the ticket's file as the response: its type and length, inline or as an
    attachment with its name; files are data, never a page (sandboxed, no sniffing)."""
    try:
        read = READ_TIMEOUT if ticket.get("sha256") else GENERATED_READ_TIMEOUT
        upstream = _session().get(ticket["url"], stream=True, timeout=(CONNECT_TIMEOUT, read))
    except requests.RequestException as exc:
        raise ServiceUnavailable(f"file endpoint: {type(exc).__name__}") from exc
    if upstream.status_code != 200:
        error = _refusal(upstream)
        upstream.close()
        raise error
    resp.content_type = ticket["content_type"]
    size = ticket.get("size")
    if size is None:   # made on request: its length is the endpoint's
        size = upstream.headers.get("Content-Length")
    if size is not None:
        resp.content_length = int(size)
    resp.stream = _Body(upstream)
    if ticket.get("disposition") == "attachment":
        resp.downloadable_as = ticket["filename"]
    else:
        resp.viewable_as = ticket["filename"]
    resp.set_header("Content-Security-Policy", "default-src 'none'; sandbox")
    resp.set_header("Cache-Control", "private, no-store")
    if ticket.get("sha256"):
        resp.set_header("ETag", f'"{ticket["sha256"]}"')


def send(ticket: dict, data: bytes, content_type: str = "application/octet-stream") -> dict:
    """Sends an upload's bytes to the ticket's endpoint; the service's answer, or its refusal
    raised as the same error an RPC would have raised."""
    try:
        answer = _session().put(ticket["url"], data=data, headers={"Content-Type": content_type},
                                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
    except requests.RequestException as exc:
        raise ServiceUnavailable(f"file endpoint: {type(exc).__name__}") from exc
    if answer.status_code != 200:
        raise _refusal(answer)
    return answer.json()
