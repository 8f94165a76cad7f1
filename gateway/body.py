"""Reading request bodies: JSON objects and multipart forms, with size limits."""
from __future__ import annotations

import json

import falcon
from pydantic import BaseModel

from kit.config import settings
from kit.errors import InvalidInput, TooLarge, UnsupportedMedia
from kit.validation import parse

from . import files

FORM_OVERHEAD = 256 * 1024


JSON_MAX_BYTES = 1024 * 1024


_KIND_NAMES = {dict: "对象", list: "数组"}


def json_body(req: falcon.Request, required: bool = False, kind: type = dict):
    """The JSON object (or, with ``kind=list``, array) of the request; an absent body is empty
    unless the operation needs one. A body sent in chunks (no Content-Length) is read too,
    within the same limit."""
    if (req.content_length or 0) > JSON_MAX_BYTES:
        raise TooLarge("请求内容过大")
    chunked = req.content_length is None and "chunked" in (req.get_header("Transfer-Encoding") or "").lower()
    stream = req.stream if chunked else req.bounded_stream
    raw = stream.read(JSON_MAX_BYTES + 1) if req.content_length or chunked else b""
    if len(raw) > JSON_MAX_BYTES:
        raise TooLarge("请求内容过大")
    if not raw:
        if required:
            raise InvalidInput(f"请求内容不能为空，须为 JSON {_KIND_NAMES[kind]}")
        return kind()
    if not (req.content_type or "").startswith("application/json"):
        raise UnsupportedMedia("请求内容须为 JSON（Content-Type: application/json）")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise InvalidInput("请求内容不是有效的 JSON") from None
    if not isinstance(data, kind):
        raise InvalidInput(f"请求内容须为 JSON {_KIND_NAMES[kind]}")
    require_storable(data)
    return data


def _storable(text: str) -> bool:
    """Text a database can hold: no NUL, no lone UTF-16 surrogate (JSON's \\ud800 escapes)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def require_storable(value, field: str | None = None) -> None:
    """Refuses, anywhere in a body, text that no service could store (issue 8: a NUL in a
    login name was a 500)."""
    if isinstance(value, str):
        if not _storable(value):
            raise InvalidInput("内容含有无法识别的字符（空字符或无效的编码）", field=field)
    elif isinstance(value, dict):
        for key, sub in value.items():
            require_storable(key, field)
            require_storable(sub, f"{field}.{key}" if field else key)   # named like the schemas name it
    elif isinstance(value, list):
        for sub in value:
            require_storable(sub, field)


def model_body(req: falcon.Request, model: type[BaseModel]) -> dict:
    """The JSON body checked against the contract's model (a 400 naming the field), as the
    plain data the RPC carries."""
    return parse(model, json_body(req, required=True)).model_dump(mode="json", exclude_unset=True)


def multipart(req: falcon.Request, file_fields: tuple[str, ...]) -> tuple[dict[str, str], dict[str, bytes]]:
    """Text fields and the named file fields (their bytes). Files larger than the upload
    limit are 413 before they are read into memory in full."""
    limit = settings().upload_max_bytes
    if (req.content_length or 0) > limit * len(file_fields or ("x",)) + FORM_OVERHEAD:
        raise TooLarge(f"上传文件不能超过{limit // (1024 * 1024)}MB", field=(file_fields or (None,))[0])
    if not (req.content_type or "").startswith("multipart/form-data"):
        raise UnsupportedMedia("请以 multipart/form-data 方式提交表单")
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    try:
        form = req.get_media()
        for part in form:
            if part.name in file_fields:
                data = part.stream.read(limit + 1)
                if len(data) > limit:
                    raise TooLarge(f"上传文件不能超过{limit // (1024 * 1024)}MB", field=part.name)
                if data:
                    files[part.name] = data
            elif part.name:
                fields[part.name] = part.get_text() or ""
                require_storable(fields[part.name], part.name)
    except falcon.MediaMalformedError:
        raise InvalidInput("表单内容格式不正确") from None
    except falcon.HTTPError as exc:
        if exc.status_code == 413:
            raise TooLarge("上传文件过大") from None
        raise InvalidInput("表单内容格式不正确") from None
    return fields, files


def upload_bytes(req: falcon.Request, what: str = "CSV 文件") -> bytes:
    """The single file of a multipart upload (field ``file``), for kit.files to carry on."""
    _, files = multipart(req, ("file",))
    if "file" not in files:
        raise InvalidInput(f"请选择要上传的{what}", field="file")
    return files["file"]


def upload(req: falcon.Request, service: str, action: str, principal: dict | None, args: dict | None = None,
           what: str = "CSV 文件") -> dict:
    """An upload handed to the service that owns it (kit.files): the file part of the form,
    an upload ticket by RPC (the service's cheap checks first), then the bytes over HTTP."""
    data = upload_bytes(req, what)
    ticket = getattr(req.context.rpc, service).upload_ticket(principal, action, args or {})
    return files.send(ticket, data)
