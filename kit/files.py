"""Files never travel inside an RPC or an event (DESIGN: "Files, events, adapters, jobs").

- **Stored** in the owning service's own database, in chunks (``blobs`` + ``blob_chunks``),
  by the hash of their content: every instance of the service on any host reaches them, no
  directory is shared, a backup of the database holds them, and a file is written in the
  same transaction as the record that refers to it, so a refused request leaves no file.
- **Handed out** as a stream: an RPC of the owning service checks who asks and answers a
  *ticket* (a URL on the service's own small HTTP endpoint, signed, valid for a minute, plus
  type, size and name); the gateway fetches it and streams it on (``resp.stream``). Nothing
  holds a whole file in memory but the chunk in flight.
- **Taken in** the same way: the gateway asks for an upload ticket by RPC (cheap checks
  first), then sends the bytes to the ticket's URL; the service's handler checks them and
  changes its records in one transaction, and answers what the RPC would have answered.

A service that owns files mixes in ``FileEndpoints`` and declares its upload handlers (import
the module, not the class: ``nameko run`` takes every class of a service module that has
entrypoints for a service):

    from kit import files as kit_files

    class ApplicationService(kit_files.FileEndpoints):
        @uploads("application_file", max_bytes=…)
        def receive_application_file(self, principal, args, data) -> dict: …

        @rpc
        def file_ticket(self, principal, kind):
            … checks …
            return self.files.download_ticket(ref, filename="…")
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Literal

import sqlalchemy as sa
from nameko.extensions import DependencyProvider
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, parse_address
from pydantic import BaseModel
from werkzeug.wrappers import Response

from kit import signing
from kit.config import settings
from kit.entrypoints import rpc
from kit.errors import InvalidInput, NotFound, ServiceError, TooLarge

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
TICKET_PURPOSE = "file-ticket"
TICKET_MAX_AGE = 120  # seconds: long enough to start a transfer, too short to share the link


class FileRef(BaseModel):
    """What a message carries of a file: its reference, never its bytes."""

    sha256: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None


class DownloadTicket(BaseModel):
    url: str
    sha256: str | None      # a stored file's hash; None for a file made on request (an export)
    content_type: str
    size: int | None        # None: known when it is made (the endpoint's Content-Length)
    filename: str
    disposition: Literal["inline", "attachment"]


class UploadTicket(BaseModel):
    url: str
    max_bytes: int


# --- storage ---------------------------------------------------------------------------------
def add_file_tables(metadata: sa.MetaData) -> None:
    """The chunks of the service's files (the ``blobs`` table, ``kit.db.BlobColumns``, holds
    one row of metadata per file)."""
    sa.Table(
        "blob_chunks", metadata,
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def copy_files_from_disk(bind, service: str) -> None:
    """For a migration: the files a service kept under the data directory (before they
    moved into its database) copied into ``blob_chunks``, chunk by chunk."""
    from kit.config import settings as current

    root = current().data_dir / "files" / service
    if not root.is_dir():
        return
    blobs = sa.table("blobs", sa.column("sha256", sa.String))
    chunks = sa.table("blob_chunks", sa.column("sha256", sa.String), sa.column("seq", sa.Integer),
                      sa.column("data", sa.LargeBinary))
    for (sha,) in bind.execute(sa.select(blobs.c.sha256)).all():
        path = root / sha[:2] / sha
        if not path.is_file():
            continue
        data = path.read_bytes()
        for seq in range(max(1, math.ceil(len(data) / CHUNK_BYTES))):
            bind.execute(chunks.insert().values(sha256=sha, seq=seq,
                                                data=data[seq * CHUNK_BYTES:(seq + 1) * CHUNK_BYTES]))


def _check_sha(sha256: str) -> str:
    if not isinstance(sha256, str) or len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise InvalidInput("文件标识不正确")
    return sha256


class FileStore:
    """Files by content hash in the service's database (``blobs`` and ``blob_chunks``)."""

    def __init__(self, metadata: sa.MetaData):
        self.blobs = metadata.tables["blobs"]
        self.chunks = metadata.tables["blob_chunks"]

    def put(self, session, data: bytes, content_type: str, width: int | None = None,
            height: int | None = None, now: datetime | None = None, owner: str | None = None) -> FileRef:
        """Stores the bytes (once per content) in the caller's transaction."""
        sha = hashlib.sha256(data).hexdigest()
        ref = FileRef(sha256=sha, content_type=content_type, size=len(data), width=width, height=height)
        if session.execute(sa.select(self.blobs.c.sha256).where(self.blobs.c.sha256 == sha)).first():
            return ref
        values = {"sha256": sha, "content_type": content_type, "size": len(data), "width": width or 0,
                  "height": height or 0, "created_at": now or datetime.now(UTC)}
        if "owner" in self.blobs.c:
            values["owner"] = owner
        try:
            with session.begin_nested():  # the same content stored meanwhile by another request
                session.execute(self.blobs.insert().values(**values))
                for seq in range(max(1, math.ceil(len(data) / CHUNK_BYTES))):
                    session.execute(self.chunks.insert().values(
                        sha256=sha, seq=seq, data=data[seq * CHUNK_BYTES:(seq + 1) * CHUNK_BYTES]))
        except sa.exc.IntegrityError:
            pass
        return ref

    def ref(self, session, sha256: str) -> FileRef | None:
        row = session.execute(sa.select(self.blobs).where(self.blobs.c.sha256 == _check_sha(sha256))).first()
        if row is None:
            return None
        return FileRef(sha256=row.sha256, content_type=row.content_type, size=row.size,
                       width=row.width or None, height=row.height or None)

    def read(self, session, sha256: str) -> bytes:
        """The whole file (for the service's own work on a small file, e.g. stamping a photo)."""
        rows = session.execute(sa.select(self.chunks.c.data).where(self.chunks.c.sha256 == _check_sha(sha256))
                               .order_by(self.chunks.c.seq)).scalars().all()
        if not rows:
            raise NotFound("没有找到该文件")
        return b"".join(rows)

    def stream(self, engine: sa.Engine, sha256: str, size: int) -> Iterator[bytes]:
        """The file chunk by chunk, each read on its own: memory holds one chunk."""
        for seq in range(max(1, math.ceil(size / CHUNK_BYTES))):
            with engine.connect() as conn:
                data = conn.execute(sa.select(self.chunks.c.data).where(
                    self.chunks.c.sha256 == sha256, self.chunks.c.seq == seq)).scalar()
            if data is None:
                log.error("file %s lacks chunk %d", sha256[:12], seq)
                return
            yield bytes(data)


# --- the service's HTTP endpoint ------------------------------------------------------------
def fetch(ticket: dict, max_bytes: int = 20 * 1024 * 1024) -> bytes:
    """For a service that needs another's file (e.g. documents printing a photo): its bytes
    from the owning service's endpoint, by a ticket that service handed out."""
    import requests

    with requests.get(ticket["url"], stream=True, timeout=(3, 30)) as r:
        if r.status_code != 200:
            raise NotFound("没有找到该文件")
        data = r.raw.read(max_bytes + 1, decode_content=True)
    if len(data) > max_bytes:
        raise TooLarge("文件过大")
    return data


class FileWebServer(WebServer):
    """nameko's web server on ``GONGKAO_FILES_LISTEN`` (default any free port on loopback),
    knowing the port it got, so that tickets can name it."""

    @property
    def bind_addr(self):
        return parse_address(self.container.config.get("FILES_LISTEN") or settings().files_listen)

    @property
    def port(self) -> int | None:
        """The port it listens on (None before it started)."""
        return self._sock.getsockname()[1] if self._sock is not None else None


class FileHttp(HttpRequestHandler):
    server = FileWebServer()

    def response_from_exception(self, exc):
        return _error_response(exc)


file_http = FileHttp.decorator


def _error_response(exc: Exception) -> Response:
    if isinstance(exc, ServiceError):
        status, body = exc.status, exc.as_dict()
    else:
        log.error("file endpoint failed: %s: %s", type(exc).__name__, exc)
        status, body = 500, {"code": "internal_error", "message": "系统内部错误，请稍后再试", "field": None}
    return Response(json.dumps({"error": body}, ensure_ascii=False), status=status,
                    content_type="application/json; charset=utf-8")


class Files:
    """What a worker gets from ``FileGate``: tickets for its files and uploads."""

    def __init__(self, gate: FileGate):
        self._gate = gate

    def _url(self, token: str) -> str:
        host = self._gate.container.config.get("FILES_HOST") or settings().files_host
        return f"http://{host}:{self._gate.server.port}/files/{token}"

    def download_ticket(self, ref: FileRef | dict, filename: str,
                        disposition: Literal["inline", "attachment"] = "inline") -> dict:
        ref = ref if isinstance(ref, FileRef) else FileRef.model_validate(ref)
        token = signing.dumps(TICKET_PURPOSE, {"op": "get", "svc": self._gate.container.service_name,
                                               "sha": ref.sha256, "size": ref.size})
        return DownloadTicket(url=self._url(token), sha256=ref.sha256, content_type=ref.content_type,
                              size=ref.size, filename=filename, disposition=disposition).model_dump()

    def generated_ticket(self, action: str, args: dict, principal: dict | None, filename: str,
                         content_type: str) -> dict:
        """A file the service makes when it is fetched (an export), by its ``@generates``
        handler, streamed as it is written out; the RPC has checked who asks."""
        token = signing.dumps(TICKET_PURPOSE, {"op": "gen", "svc": self._gate.container.service_name,
                                               "action": action, "args": args, "principal": principal})
        return DownloadTicket(url=self._url(token), sha256=None, content_type=content_type, size=None,
                              filename=filename, disposition="attachment").model_dump()

    def upload_ticket(self, action: str, args: dict, principal: dict | None, max_bytes: int) -> dict:
        token = signing.dumps(TICKET_PURPOSE, {"op": "put", "svc": self._gate.container.service_name,
                                               "action": action, "args": args, "principal": principal,
                                               "max": max_bytes})
        return UploadTicket(url=self._url(token), max_bytes=max_bytes).model_dump()


class FileGate(DependencyProvider):
    """The dependency a file-owning service declares (``FileEndpoints`` does it for you)."""

    server = FileWebServer()

    def get_dependency(self, worker_ctx):
        return Files(self)


def _claims(token: str, op: str, service: str) -> dict:
    claims = signing.loads(TICKET_PURPOSE, token, max_age=TICKET_MAX_AGE)
    if not isinstance(claims, dict) or claims.get("op") != op or claims.get("svc") != service:
        raise NotFound("链接已失效，请刷新页面后重试", code="ticket_invalid")
    return claims


def generates(action: str):
    """Marks ``def handler(self, principal, args) -> (body, size)`` as the maker of the files
    named ``action``: ``body`` a binary file object (an export written to a temporary file) or
    an iterable of byte chunks (a ZIP written as it streams); ``size`` None when it is not
    known before the last chunk (sent without a length)."""

    def deco(fn):
        fn.generate_action = action
        return fn

    return deco


def uploads(action: str, max_bytes: int | None = None, precheck: str | None = None):
    """Marks ``def handler(self, principal, args, data) -> dict`` as the receiver of the
    uploads named ``action``. ``precheck`` names a method ``(self, principal, args)`` that the
    ticket RPC runs first, to refuse before any byte is sent."""

    def deco(fn):
        fn.upload_action = action
        fn.upload_max_bytes = max_bytes
        fn.upload_precheck = precheck
        return fn

    return deco


class FileEndpoints:
    """Mix into a service that owns files or takes uploads: its file endpoint (GET and PUT
    ``/files/<ticket>``) and the ``upload_ticket`` RPC. The service declares ``db``."""

    files = FileGate()

    @classmethod
    def _handler(cls, marker: str, action: str):
        for name in dir(cls):
            fn = getattr(cls, name, None)
            if callable(fn) and getattr(fn, marker, None) == action:
                return name, fn
        raise NotFound("不支持的文件操作", code="unknown_upload")

    @classmethod
    def _upload_handler(cls, action: str):
        return cls._handler("upload_action", action)

    @rpc
    def upload_ticket(self, principal: dict | None, action: str, args: dict | None = None) -> dict:
        """Where to send the bytes of an upload: cheap checks first, nothing stored yet."""
        args = args if isinstance(args, dict) else {}
        _, fn = self._upload_handler(str(action))
        if fn.upload_precheck:
            getattr(self, fn.upload_precheck)(principal, args)
        limit = fn.upload_max_bytes or settings().upload_max_bytes
        return self.files.upload_ticket(str(action), args, principal, limit)

    @file_http("GET", "/files/<token>")
    def serve_file(self, request, token):
        claims = signing.loads(TICKET_PURPOSE, token, max_age=TICKET_MAX_AGE)
        if isinstance(claims, dict) and claims.get("op") == "gen":
            return self._serve_generated(token)
        claims = _claims(token, "get", self.name)
        sha, size = claims["sha"], int(claims["size"])
        body = self.db.files.stream(self.db.engine, sha, size)
        return Response(body, status=200, direct_passthrough=True,
                        headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)})

    def _serve_generated(self, token: str):
        try:
            claims = _claims(token, "gen", self.name)
            name, _ = self._handler("generate_action", claims["action"])
            body, size = getattr(self, name)(claims.get("principal"), claims.get("args") or {})
        except Exception as exc:  # noqa: BLE001 - every failure answers the JSON error shape
            return _error_response(exc)

        def chunks():
            if not hasattr(body, "read"):   # an iterable of chunks (a ZIP written as it goes)
                yield from body
                return
            try:
                while True:
                    block = body.read(256 * 1024)
                    if not block:
                        return
                    yield block
            finally:
                body.close()

        headers = {"Content-Type": "application/octet-stream"}
        if size is not None:        # None: made while it streams (a ZIP of PDFs made one by one), sent chunked
            headers["Content-Length"] = str(size)
        return Response(chunks(), status=200, direct_passthrough=True, headers=headers)

    @file_http("PUT", "/files/<token>")
    def receive_file(self, request, token):
        try:
            claims = _claims(token, "put", self.name)
            name, fn = self._upload_handler(claims["action"])
            limit = int(claims["max"])
            if (request.content_length or 0) > limit:
                raise TooLarge(f"上传文件不能超过{_mb(limit)}", field="file")
            data = request.stream.read(limit + 1)
            if len(data) > limit:
                raise TooLarge(f"上传文件不能超过{_mb(limit)}", field="file")
            result = getattr(self, name)(claims.get("principal"), claims.get("args") or {}, data)
        except Exception as exc:  # noqa: BLE001 - every failure answers the JSON error shape
            return _error_response(exc)
        return Response(json.dumps(result, ensure_ascii=False, default=str), status=200,
                        content_type="application/json; charset=utf-8")


def _mb(limit: int) -> str:
    return f"{limit // (1024 * 1024)}MB" if limit >= 1024 * 1024 else f"{limit // 1024}KB"
