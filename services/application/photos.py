"""The 2-inch personal photo (个人照片, R-A5) and 添加身份证号 (R-A3). Pillow only.

The functions take the output of ``files.check_image`` (a decoded, validated, re-encoded JPEG or
PNG without EXIF); every figure comes from ``schemas.PHOTO_SPEC``, which the photo tool (R-P3)
reads too, so the browser and the server apply the same rules."""
from __future__ import annotations

import io
import re
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from kit.errors import InvalidInput

from .schemas import PHOTO_SPEC

FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
JPEG_QUALITY = 90     # the stored photo
STAMP_QUALITY = 95    # the derived copy: a second encoding, kept close to the first
BAND = 0.1           # the white band under the photo holding the ID number: a tenth of the height
_EPSILON = 1e-9      # a ratio exactly at the tolerance passes despite float rounding
_WHITE = (255, 255, 255)


def ratio_text() -> str:
    """'5:7' from PHOTO_SPEC['ratio']."""
    frac = Fraction(PHOTO_SPEC["ratio"]).limit_denominator(20)
    return f"{frac.numerator}:{frac.denominator}"


def check_personal_photo(width: int, height: int) -> None:
    """Refuses a photo that is not 5:7 (±3 %) or smaller than 295×413 pixels (R-A5)."""
    spec = PHOTO_SPEC
    if width <= 0 or height <= 0:
        raise InvalidInput(f"个人照片尺寸不正确（{width}×{height}像素）", field="file")
    problems = []
    actual = width / height
    deviation = abs(actual - spec["ratio"]) / spec["ratio"]
    if deviation > spec["tolerance"] + _EPSILON:
        problems.append(f"宽高比应为{ratio_text()}（{spec['ratio']:.3f}，允许误差±{spec['tolerance'] * 100:g}%），"
                        f"当前照片{width}×{height}像素的宽高比为{actual:.3f}，相差{deviation * 100:.2f}%"
                        + ("（照片应为竖版）" if width > height else ""))
    if width < spec["min_width"] or height < spec["min_height"]:
        problems.append(f"像素应不小于{spec['min_width']}×{spec['min_height']}（宽×高），"
                        f"当前照片为{width}×{height}像素")
    if problems:
        raise InvalidInput(f"个人照片不符合2寸证件照要求：{'；'.join(problems)}",
                           field="file",
                           details={"width": width, "height": height, "min_width": spec["min_width"],
                                    "min_height": spec["min_height"], "ratio": spec["ratio"],
                                    "tolerance": spec["tolerance"]})


def _open_rgb(data: bytes) -> Image.Image:
    """Decodes and returns an RGB image, transparency flattened onto white."""
    try:
        with Image.open(io.BytesIO(data)) as src:
            src.load()
            img = ImageOps.exif_transpose(src)  # a no-op after check_image; kept for direct callers
    except Exception:  # noqa: BLE001 - any decoder failure means: not a usable image
        raise InvalidInput("图片文件已损坏或格式不正确，请重新选择", field="file") from None
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img.convert("RGB")


def _jpeg(img: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    out = io.BytesIO()
    # No exif= and no icc_profile=: nothing of the source rides along.
    img.save(out, "JPEG", quality=quality, optimize=True, dpi=(PHOTO_SPEC["dpi"], PHOTO_SPEC["dpi"]))
    return out.getvalue()


def normalize_personal_photo(data: bytes) -> bytes:
    """The stored 个人照片: exactly 413×579 px, JPEG quality 90, 300 dpi, no EXIF. The ratio's
    small excess (within the tolerance) is cropped centrally; the photo is never distorted."""
    img = _open_rgb(data)
    check_personal_photo(*img.size)
    target_w, target_h = PHOTO_SPEC["width"], PHOTO_SPEC["height"]
    w, h = img.size
    if w * target_h > h * target_w:          # too wide: trim left and right
        crop_w = h * target_w / target_h
        box = ((w - crop_w) / 2, 0.0, (w + crop_w) / 2, float(h))
    else:                                    # too tall (or exact): trim top and bottom
        crop_h = w * target_h / target_w
        box = (0.0, (h - crop_h) / 2, float(w), (h + crop_h) / 2)
    out = img.resize((target_w, target_h), Image.Resampling.LANCZOS, box=box)
    return _jpeg(out)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if FONT_PATH.exists():
        return ImageFont.truetype(str(FONT_PATH), size)
    return ImageFont.load_default(size=size)


def _fitting_font(text: str, max_w: float, max_h: float):
    size = max(6, int(max_h))
    while True:
        font = _font(size)
        left, top, right, bottom = font.getbbox(text)
        if (right - left <= max_w and bottom - top <= max_h) or size <= 6:
            return font
        size -= 1


def stamp_id_number(data: bytes, id_number: str) -> bytes:
    """添加身份证号 (R-A3): a derived JPEG of the same size with the ID number in black on a white
    band across the bottom tenth. The input is left as it is (bytes; a new image is returned)."""
    if not isinstance(id_number, str) or not ID_NUMBER.fullmatch(id_number):
        raise InvalidInput("身份证号应为18位（前17位为数字，最后一位为数字或X）", field="id_number")
    img = _open_rgb(data)
    w, h = img.size
    band_h = max(12, round(h * BAND))
    band_top = h - band_h
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, band_top, w - 1, h - 1), fill=_WHITE)
    font = _fitting_font(id_number, w * 0.92, band_h * 0.7)
    draw.text((w / 2, band_top + band_h / 2), id_number, fill=(0, 0, 0), font=font, anchor="mm")
    return _jpeg(img, STAMP_QUALITY)
