"""Uploaded images, shared by the services that own uploads (application: the applicant's
files; review: the 一级 materials). Checked by decoding their content, never trusted by name
(R-A5). Everything is re-encoded, which strips EXIF and anything riding along in the file."""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from kit.errors import InvalidInput, TooLarge, UnsupportedMedia

MAX_PIXELS = 36_000_000  # 6000×6000: a phone photo fits; a decompression bomb does not
_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    sha256: str
    content_type: str
    width: int
    height: int


def check_image(data: bytes, max_bytes: int, field: str = "file") -> CheckedImage:
    if not data:
        raise InvalidInput("请选择要上传的图片", field=field)
    if len(data) > max_bytes:
        raise TooLarge(f"图片大小不能超过{max_bytes // (1024 * 1024)}MB", field=field)
    kind = next((k for magic, k in _MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise UnsupportedMedia("只能上传 JPG 或 PNG 格式的图片", field=field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise TooLarge("图片像素过大，请缩小后再上传", field=field)
                probe.verify()
            with Image.open(io.BytesIO(data), formats=[kind]) as img:
                img.load()
                img = ImageOps.exif_transpose(img)
                out = io.BytesIO()
                if kind == "JPEG":
                    img.convert("RGB").save(out, "JPEG", quality=92, optimize=True)
                else:
                    if img.mode not in ("RGB", "RGBA", "L", "LA"):
                        img = img.convert("RGBA")
                    img.save(out, "PNG", optimize=True)
                width, height = img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge("图片像素过大，请缩小后再上传", field=field) from None
    except (TooLarge, UnsupportedMedia):
        raise
    except Exception:  # noqa: BLE001 - any decoder failure means: not a usable image
        raise UnsupportedMedia("图片文件已损坏或格式不正确，请重新选择", field=field) from None
    stored = out.getvalue()
    return CheckedImage(stored, hashlib.sha256(stored).hexdigest(), CONTENT_TYPES[kind], width, height)
