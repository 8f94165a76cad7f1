"""The 2-inch personal photo (R-A5) and 添加身份证号 (R-A3): no broker, no database."""
from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from kit.errors import InvalidInput
from services.application import photos
from services.application.schemas import PHOTO_SPEC

W, H = PHOTO_SPEC["width"], PHOTO_SPEC["height"]
MIN_W, MIN_H = PHOTO_SPEC["min_width"], PHOTO_SPEC["min_height"]
ID = "41150219960728440X"


def _ratio_width(height: int, factor: float, inside: bool) -> int:
    """The widest (factor > 1) or narrowest (factor < 1) width still inside, or the first outside."""
    import math

    edge = height * PHOTO_SPEC["ratio"] * factor
    if factor > 1:
        return math.floor(edge) if inside else math.floor(edge) + 1
    return math.ceil(edge) if inside else math.ceil(edge) - 1


UP, DOWN = 1 + PHOTO_SPEC["tolerance"], 1 - PHOTO_SPEC["tolerance"]


def _passes(width: int, height: int) -> bool:
    try:
        photos.check_personal_photo(width, height)
    except InvalidInput:
        return False
    return True


# --- check_personal_photo: the boundaries -------------------------------------------------
@pytest.mark.parametrize(
    ("width", "height", "ok"),
    [
        (MIN_W, MIN_H, True),                                  # 295×413: the smallest accepted
        (MIN_W - 1, MIN_H, False),                             # 294×413: one pixel too narrow
        (MIN_W, MIN_H - 1, False),                             # 295×412: one pixel too short
        (W, H, True),                                          # 413×579: the stored size
        (W * 4, H * 4, True),                                  # a big camera crop
        (_ratio_width(1000, UP, inside=True), 1000, True),     # 735×1000: +2.9 %
        (_ratio_width(1000, UP, inside=False), 1000, False),   # 736×1000: +3.04 %
        (_ratio_width(1000, DOWN, inside=True), 1000, True),   # 693×1000: −2.98 %
        (_ratio_width(1000, DOWN, inside=False), 1000, False),  # 692×1000: −3.12 %
        (515, 700, True),                                      # exactly +3 % (515/700 = 5.15/7)
        (485, 700, True),                                      # exactly −3 % (485/700 = 4.85/7)
        (579, 413, False),                                     # landscape
        (800, 800, False),                                     # square
        (0, 579, False),
        (413, 0, False),
    ],
)
def test_check_personal_photo(width, height, ok):
    assert _passes(width, height) is ok


def test_boundary_cases_are_what_they_claim():
    # The table above is only meaningful if the computed widths straddle the tolerance.
    def deviation(w, h):
        return abs(w / h - PHOTO_SPEC["ratio"]) / PHOTO_SPEC["ratio"]

    tol = PHOTO_SPEC["tolerance"]
    assert deviation(_ratio_width(1000, UP, True), 1000) < tol < deviation(_ratio_width(1000, UP, False), 1000)
    assert deviation(_ratio_width(1000, DOWN, True), 1000) < tol < deviation(_ratio_width(1000, DOWN, False), 1000)


def test_message_names_rule_and_figures():
    with pytest.raises(InvalidInput) as exc:
        photos.check_personal_photo(200, 280)
    err = exc.value
    assert err.field == "file"
    assert f"{MIN_W}×{MIN_H}" in err.message and "200×280" in err.message
    assert err.details["width"] == 200 and err.details["height"] == 280

    with pytest.raises(InvalidInput) as exc:
        photos.check_personal_photo(579, 413)
    msg = exc.value.message
    assert "宽高比" in msg and "5:7" in msg and "±3%" in msg and "579×413" in msg and "1.402" in msg
    assert "像素应不小于" not in msg  # 579×413 is big enough: only the ratio is named

    with pytest.raises(InvalidInput) as exc:
        photos.check_personal_photo(400, 200)  # both rules fail: both named
    assert "宽高比" in exc.value.message and "像素应不小于" in exc.value.message


# --- normalize_personal_photo -------------------------------------------------------------
def _photo(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A photo-like test image: a blue gradient background, a head and dark shoulders at the bottom."""
    shade = Image.linear_gradient("L").resize((width, height))
    img = Image.merge("RGB", (shade.point(lambda v: 40 + v // 4), shade.point(lambda v: 110 + v // 4),
                              Image.new("L", (width, height), 220)))
    draw = ImageDraw.Draw(img)
    draw.ellipse((width * 0.3, height * 0.15, width * 0.7, height * 0.6), fill=(225, 190, 165))
    draw.ellipse((-width * 0.1, height * 0.7, width * 1.1, height * 1.5), fill=(30, 30, 40))
    return img.convert(mode)


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_normalize_jpeg_with_exif():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"      # Make
    exif[0x0110] = "PhoneModel"      # Model
    exif[0x0131] = "SomeEditor 1.0"  # Software
    source = _encode(_photo(1000, 1400), "JPEG", quality=95, exif=exif.tobytes())
    with Image.open(io.BytesIO(source)) as probe:
        assert probe.getexif().get(0x010F) == "PhoneMaker"  # the input really carries EXIF

    out = photos.normalize_personal_photo(source)
    assert out[:3] == b"\xff\xd8\xff"
    with Image.open(io.BytesIO(out)) as img:
        assert img.format == "JPEG"
        assert img.size == (W, H)
        assert img.mode == "RGB"
        assert tuple(round(v) for v in img.info["dpi"]) == (PHOTO_SPEC["dpi"], PHOTO_SPEC["dpi"])
        assert "exif" not in img.info and len(img.getexif()) == 0
    assert b"Exif" not in out and b"PhoneMaker" not in out


def test_normalize_crops_the_ratio_excess_centrally():
    # 735×1000 is 2.9 % too wide: a red stripe on each edge, 10 px each, must be cropped away
    # rather than squeezed in; the (centred) content keeps its proportions.
    img = Image.new("RGB", (735, 1000), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 9, 999), fill=(255, 0, 0))
    draw.rectangle((725, 0, 734, 999), fill=(255, 0, 0))
    out = Image.open(io.BytesIO(photos.normalize_personal_photo(_encode(img, "PNG"))))
    assert out.size == (W, H)
    for x in (0, W - 1):
        r, g, b = out.getpixel((x, H // 2))
        assert g > 200 and b > 200, (x, (r, g, b))  # no red left at the edges


def test_normalize_flattens_png_alpha_onto_white():
    img = Image.new("RGBA", (MIN_W * 2, MIN_H * 2), (0, 0, 0, 0))              # transparent
    ImageDraw.Draw(img).rectangle((200, 300, 400, 500), fill=(0, 0, 255, 255))  # opaque blue
    out = Image.open(io.BytesIO(photos.normalize_personal_photo(_encode(img, "PNG"))))
    assert out.format == "JPEG" and out.mode == "RGB" and out.size == (W, H)
    assert min(out.getpixel((5, 5))) >= 250  # transparent became white, not black
    r, g, b = out.getpixel((int(300 * W / img.width), int(400 * H / img.height)))
    assert b > 200 and r < 40 and g < 40


def test_normalize_refuses_what_the_rule_refuses():
    with pytest.raises(InvalidInput) as exc:
        photos.normalize_personal_photo(_encode(_photo(200, 280), "PNG"))
    assert "200×280" in exc.value.message
    with pytest.raises(InvalidInput):
        photos.normalize_personal_photo(_encode(_photo(1400, 1000), "JPEG"))  # landscape


def test_normalize_refuses_garbage():
    with pytest.raises(InvalidInput):
        photos.normalize_personal_photo(b"not an image at all")


# --- stamp_id_number (添加身份证号) ----------------------------------------------------------
@pytest.fixture(scope="module")
def stored() -> bytes:
    return photos.normalize_personal_photo(_encode(_photo(826, 1158), "JPEG", quality=95))


def _rgb(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def test_stamp_same_size_band_changed_top_untouched(stored):
    before = bytes(stored)
    out = photos.stamp_id_number(stored, ID)
    assert stored == before  # the original is not modified
    assert out != stored and out[:3] == b"\xff\xd8\xff"
    orig, stamped = _rgb(stored), _rgb(out)
    assert stamped.size == orig.size == (W, H)

    band = (0, H - H // 10, W, H)
    band_diff = ImageStat.Stat(ImageChops.difference(orig.crop(band), stamped.crop(band))).mean
    assert min(band_diff) > 40  # the dark shoulders at the bottom became a white band with black digits
    band_img = stamped.crop(band).convert("L")
    hist = band_img.histogram()
    dark, light = sum(hist[:80]), sum(hist[231:])
    assert light > 0.6 * band_img.width * band_img.height  # mostly white
    assert dark > 0.03 * band_img.width * band_img.height  # with black text in it
    # The text spans most of the width (18 characters, centred).
    cols = [x for x in range(band_img.width) if any(band_img.getpixel((x, y)) < 80
                                                     for y in range(band_img.height))]
    assert cols[0] < W * 0.2 and cols[-1] > W * 0.8
    assert abs((cols[0] + cols[-1]) / 2 - W / 2) < W * 0.03

    top = (0, 0, W, H // 2)
    # Apart from the band the derived photo is a plain re-encoding of the original: pixel for pixel.
    plain = _rgb(photos._jpeg(photos._open_rgb(stored), photos.STAMP_QUALITY))
    assert ImageChops.difference(plain.crop(top), stamped.crop(top)).getbbox() is None
    # ... which is visually the original (a second JPEG pass, nothing more).
    diff = ImageChops.difference(orig.crop(top), stamped.crop(top))
    assert max(ImageStat.Stat(diff).mean) < 1.0
    grey = diff.convert("L").histogram()
    assert sum(grey[9:]) < 0.01 * sum(grey)  # a few edge pixels move by more than 8 levels, no more


def test_stamp_keeps_dpi_and_adds_no_exif(stored):
    out = photos.stamp_id_number(stored, ID)
    with Image.open(io.BytesIO(out)) as img:
        assert img.format == "JPEG"
        assert tuple(round(v) for v in img.info["dpi"]) == (PHOTO_SPEC["dpi"], PHOTO_SPEC["dpi"])
        assert len(img.getexif()) == 0


def test_stamp_any_size():
    # A non-normalised (but valid) photo keeps its own size.
    data = _encode(_photo(600, 840), "PNG")
    assert _rgb(photos.stamp_id_number(data, "410102198503120011")).size == (600, 840)


@pytest.mark.parametrize(
    "bad",
    ["", "41150219960728440", "41150219960728440X1", "41150219960728440x", "4115021996072844X0",
     "41150219960728440Y", "４１１５０２１９９６０７２８４４０Ｘ", " 41150219960728440X", None, 411502199607284400],
)
def test_stamp_refuses_bad_id_number(stored, bad):
    with pytest.raises(InvalidInput) as exc:
        photos.stamp_id_number(stored, bad)
    assert exc.value.field == "id_number" and "18位" in exc.value.message
