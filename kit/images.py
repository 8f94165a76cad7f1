"""Uploaded images, shared by the services that own uploads (application: the applicant's
files; review: the 一级 materials). Checked by their content, never trusted by name (R-A5).
Everything is re-encoded, which strips EXIF (GPS included) and anything riding along.

Decoding is bounded before it starts (issue 8): the header's dimensions are read without
decoding; a PNG beyond 16 megapixels is refused at once, a large JPEG is decoded at a half,
a quarter or an eighth of its size (JPEG's own DCT scaling), so no upload ever costs more
than decoding 16 megapixels; what is stored is at most 4000 pixels on its long side. The
work runs off the eventlet hub, two at a time per process (``check_image_off_hub``)."""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from kit import offload
from kit.config import settings
from kit.errors import InvalidInput, TooLarge, UnsupportedMedia

MAX_DECODED_PIXELS = 16_000_000      # the most any upload is decoded at
MAX_HEADER_PIXELS = {"JPEG": 100_000_000, "PNG": MAX_DECODED_PIXELS}
MAX_STORED_SIDE = 4000               # a document stays legible; a 100 MP photo is not kept as such
_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
TOO_MANY_PIXELS = "图片像素过大，请缩小后再上传"


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    sha256: str
    content_type: str
    width: int
    height: int


def probe(data: bytes, max_bytes: int, field: str = "file") -> tuple[str, int, int]:
    """Format and pixel size from the header alone (no decoding): the cheap refusals."""
    if not data:
        raise InvalidInput("请选择要上传的图片", field=field)
    if len(data) > max_bytes:
        raise TooLarge(f"图片大小不能超过{max_bytes // (1024 * 1024)}MB", field=field)
    kind = next((k for magic, k in _MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise UnsupportedMedia("只能上传 JPG 或 PNG 格式的图片", field=field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as header:
                width, height = header.size
    except Image.DecompressionBombError:
        raise TooLarge(TOO_MANY_PIXELS, field=field) from None
    except Exception:  # noqa: BLE001 - an unreadable header: not a usable image
        raise UnsupportedMedia("图片文件已损坏或格式不正确，请重新选择", field=field) from None
    if width <= 0 or height <= 0:
        raise UnsupportedMedia("图片文件已损坏或格式不正确，请重新选择", field=field)
    if width * height > MAX_HEADER_PIXELS[kind]:
        raise TooLarge(TOO_MANY_PIXELS, field=field)
    return kind, width, height


def check_image(data: bytes, max_bytes: int, field: str = "file") -> CheckedImage:
    kind, width, height = probe(data, max_bytes, field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as img:
                if kind == "JPEG" and width * height > MAX_DECODED_PIXELS:
                    scale = 2
                    while width * height > MAX_DECODED_PIXELS * scale * scale and scale < 8:
                        scale *= 2
                    img.draft("RGB", (width // scale, height // scale))
                img.load()
                if img.width * img.height > MAX_DECODED_PIXELS:
                    raise TooLarge(TOO_MANY_PIXELS, field=field)
                img = ImageOps.exif_transpose(img)
                if max(img.size) > MAX_STORED_SIDE:
                    img.thumbnail((MAX_STORED_SIDE, MAX_STORED_SIDE), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                if kind == "JPEG":
                    img.convert("RGB").save(out, "JPEG", quality=92, optimize=True)
                else:
                    if img.mode not in ("RGB", "RGBA", "L", "LA"):
                        img = img.convert("RGBA")
                    img.save(out, "PNG", compress_level=6)
                width, height = img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge(TOO_MANY_PIXELS, field=field) from None
    except (TooLarge, UnsupportedMedia):
        raise
    except Exception:  # noqa: BLE001 - any decoder failure means: not a usable image
        raise UnsupportedMedia("图片文件已损坏或格式不正确，请重新选择", field=field) from None
    stored = out.getvalue()
    return CheckedImage(stored, hashlib.sha256(stored).hexdigest(), CONTENT_TYPES[kind], width, height)


def off_hub(fn, *args):
    """Image work in a native thread, at most ``GONGKAO_IMAGE_WORKERS`` per process."""
    return offload.run(fn, *args, gate="images", size=settings().image_workers)


def check_image_off_hub(data: bytes, max_bytes: int, field: str = "file") -> CheckedImage:
    probe(data, max_bytes, field)   # the cheap refusals need no thread
    return off_hub(check_image, data, max_bytes, field)
