"""工考照片审核工具 (R-P3) in a real headless Chromium: the photo is cropped and scaled in the
browser to the 2-inch spec and checked by the same rules as on upload (R-A5)."""
from __future__ import annotations

import io

import pytest
from pages import PHONE, new_page
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page, expect

from services.application.schemas import PHOTO_SPEC

pytestmark = pytest.mark.browser

W, H = PHOTO_SPEC["width"], PHOTO_SPEC["height"]
CHECKS = ["format", "size", "pixels", "ratio", "output"]


@pytest.fixture
def page(browser: Browser, stack) -> Page:
    page = new_page(browser, stack, accept_downloads=True)
    context = page.context
    page.goto("/photo-tool")
    expect(page.locator("#photo-tool")).to_have_attribute("data-state", "empty")
    expect(page.locator('[data-check="format"]')).to_have_class("is-pending")
    yield page
    context.close()


def portrait(width: int, height: int) -> bytes:
    """A photo-like PNG: light-blue background, a face, dark shoulders."""
    img = Image.new("RGB", (width, height), (120, 170, 230))
    draw = ImageDraw.Draw(img)
    draw.ellipse((width * 0.3, height * 0.18, width * 0.7, height * 0.62), fill=(230, 195, 170))
    draw.ellipse((width * 0.4, height * 0.33, width * 0.45, height * 0.38), fill=(40, 30, 30))
    draw.ellipse((width * 0.55, height * 0.33, width * 0.6, height * 0.38), fill=(40, 30, 30))
    draw.ellipse((-width * 0.1, height * 0.72, width * 1.1, height * 1.5), fill=(35, 40, 55))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def choose(page: Page, name: str, data: bytes, mime: str = "image/png") -> dict:
    page.set_input_files("#photo-file", files=[{"name": name, "mimeType": mime, "buffer": data}])
    page.wait_for_function("() => window.photoTool && ['ready', 'refused'].includes(window.photoTool.result().status)")
    return page.evaluate("() => window.photoTool.result()")


def check_states(page: Page) -> dict[str, str]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#photo-checks [data-check]')]
        .map((li) => [li.dataset.check, li.classList.contains('is-ok') ? 'ok'
                      : li.classList.contains('is-fail') ? 'fail' : 'pending']))""")


def test_good_photo_passes_every_check_and_downloads(page: Page, tmp_path):
    # The page explains the spec, from PHOTO_SPEC.
    expect(page.get_by_role("heading", name="工考照片审核工具")).to_be_visible()
    body = page.locator("main")
    for text in ("2 寸", "35 × 49 mm", "白色或蓝色背景（背景由本人负责）", "免冠",
                 "上传个人照片时，系统按同样的规则再次检查"):
        expect(body).to_contain_text(text)

    result = choose(page, "photo.png", portrait(800, 1000))
    assert result["status"] == "ready"
    assert [c["key"] for c in result["checks"]] == CHECKS
    assert all(c["passed"] for c in result["checks"]), result
    assert result["passed"] is True
    assert (result["width"], result["height"]) == (W, H)
    # 800×1000 is wider than 5:7: the largest frame is the full height, 714×1000.
    assert result["crop"] == {"x": 43, "y": 0, "w": 714, "h": 1000}
    assert check_states(page) == dict.fromkeys(CHECKS, "ok")
    expect(page.locator("#photo-message")).to_contain_text("照片符合要求")
    download_button = page.get_by_role("button", name="下载照片")
    expect(download_button).to_be_enabled()

    # The zoom slider and arrow keys change the frame; the checks follow.
    page.locator("#photo-zoom").fill("300")
    zoomed = page.evaluate("() => window.photoTool.result()")
    assert zoomed["crop"]["w"] == 238 and zoomed["passed"] is False
    assert check_states(page)["pixels"] == "fail"
    expect(page.locator("#photo-message")).to_contain_text("请把裁剪框放大一些")
    expect(download_button).to_be_disabled()
    page.locator("#photo-zoom").fill("100")
    assert page.evaluate("() => window.photoTool.result().passed") is True

    # Dragging the bottom-right corner inward shrinks the frame (mouse), keeping 5:7 ...
    frame = page.evaluate("() => window.photoTool.frame()")
    page.mouse.move(frame["right"] - 2, frame["bottom"] - 2)
    page.mouse.down()
    page.mouse.move(frame["right"] - 80, frame["bottom"] - 80, steps=5)
    page.mouse.up()
    shrunk = page.evaluate("() => window.photoTool.result().crop")
    assert shrunk["w"] < 714 and abs(shrunk["w"] / shrunk["h"] - PHOTO_SPEC["ratio"]) < 0.01
    assert (shrunk["x"], shrunk["y"]) == (43, 0)  # the opposite corner stays put
    # ... and dragging inside moves it.
    frame = page.evaluate("() => window.photoTool.frame()")
    middle = ((frame["left"] + frame["right"]) / 2, (frame["top"] + frame["bottom"]) / 2)
    page.mouse.move(*middle)
    page.mouse.down()
    page.mouse.move(middle[0] + 20, middle[1] + 30, steps=4)
    page.mouse.up()
    dragged = page.evaluate("() => window.photoTool.result().crop")
    assert dragged["x"] > shrunk["x"] and dragged["y"] > shrunk["y"]
    assert (dragged["w"], dragged["h"]) == (shrunk["w"], shrunk["h"])
    page.locator("#photo-canvas").focus()
    before = page.evaluate("() => window.photoTool.result()")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("ArrowDown")
    moved = page.evaluate("() => window.photoTool.result().crop")
    assert moved == {**before["crop"], "x": before["crop"]["x"] + 10, "y": before["crop"]["y"] + 1}
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert page.evaluate("() => window.photoTool.result().crop.w") > before["crop"]["w"]
    page.locator("#photo-zoom").fill("100")

    page.screenshot(path=str(tmp_path / "photo-tool-ok.png"), full_page=True)

    with page.expect_download() as info:
        download_button.click()
    download = info.value
    assert download.suggested_filename == f"个人照片_{W}x{H}.jpg"
    saved = tmp_path / "download.jpg"
    download.save_as(saved)
    with Image.open(saved) as img:
        assert img.format == "JPEG" and img.size == (W, H)
        assert tuple(round(v) for v in img.info["dpi"]) == (PHOTO_SPEC["dpi"], PHOTO_SPEC["dpi"])
        # The face is in the middle, the background at the top corners.
        r, g, b = img.convert("RGB").getpixel((W // 2, int(H * 0.25)))
        assert r > 180 and g > 150          # skin
        r, g, b = img.convert("RGB").getpixel((5, 5))
        assert b > 180 and r < 160          # blue background
    assert page.js_errors == []


def test_small_photo_fails_the_pixel_check(page: Page, tmp_path):
    result = choose(page, "small.png", portrait(200, 280))
    assert result["status"] == "ready"
    assert result["passed"] is False
    passed = {c["key"]: c["passed"] for c in result["checks"]}
    assert passed == {"format": True, "size": True, "pixels": False, "ratio": True, "output": True}
    assert check_states(page)["pixels"] == "fail"
    message = page.locator("#photo-message")
    expect(message).to_contain_text("照片像素不足")
    expect(message).to_contain_text("200×280")
    expect(message).to_contain_text(f"{PHOTO_SPEC['min_width']}×{PHOTO_SPEC['min_height']}")
    expect(page.locator('[data-check="pixels"]')).to_contain_text("当前 200×280 像素")
    expect(page.get_by_role("button", name="下载照片")).to_be_disabled()
    page.screenshot(path=str(tmp_path / "photo-tool-small.png"), full_page=True)
    assert page.js_errors == []


def test_text_file_named_png_is_refused(page: Page, tmp_path):
    result = choose(page, "notes.png", "这不是照片，只是一段文字。\n".encode() * 20)
    assert result["status"] == "refused"
    assert result["passed"] is False and (result["width"], result["height"]) == (0, 0)
    assert check_states(page)["format"] == "fail"
    message = page.locator("#photo-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("不是 JPG 或 PNG 格式的图片")
    expect(message).to_contain_text("notes.png")
    expect(page.get_by_role("button", name="下载照片")).to_be_disabled()
    page.screenshot(path=str(tmp_path / "photo-tool-refused.png"), full_page=True)

    # A good photo afterwards clears the refusal.
    result = choose(page, "photo.png", portrait(500, 700))
    assert result["passed"] is True
    expect(message).to_contain_text("照片符合要求")
    assert page.js_errors == []


def test_too_big_file_is_refused(page: Page):
    # A valid PNG header padded past max_bytes: refused for its size before decoding.
    data = portrait(500, 700)
    padded = data + b"\0" * (PHOTO_SPEC["max_bytes"] + 1 - len(data))
    result = choose(page, "huge.png", padded)
    assert result["status"] == "refused"
    states = check_states(page)
    assert states["size"] == "fail" and states["format"] == "ok"
    expect(page.locator("#photo-message")).to_contain_text("超过 5 MB")
    assert page.js_errors == []


def test_touch_drag_on_a_phone(browser: Browser, stack, tmp_path):
    page = new_page(browser, stack, PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    context = page.context
    errors = page.js_errors
    try:
        page.goto("/photo-tool")
        # 1000×1000 is square: the 5:7 frame (714×1000) can slide sideways.
        result = choose(page, "phone.png", portrait(1000, 1000))
        assert result["passed"] is True and result["crop"] == {"x": 143, "y": 0, "w": 714, "h": 1000}
        page.locator("#photo-canvas").scroll_into_view_if_needed()
        frame = page.evaluate("() => window.photoTool.frame()")
        x, y = (frame["left"] + frame["right"]) / 2, (frame["top"] + frame["bottom"]) / 2
        cdp = context.new_cdp_session(page)

        def touch(kind: str, px: float, py: float) -> None:
            points = [] if kind == "touchEnd" else [{"x": px, "y": py}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        touch("touchStart", x, y)
        for i in range(1, 6):
            touch("touchMove", x - 6 * i, y)
        touch("touchEnd", x - 30, y)
        moved = page.evaluate("() => window.photoTool.result()")
        assert moved["crop"]["x"] < 143 and moved["crop"]["w"] == 714 and moved["passed"] is True
        page.screenshot(path=str(tmp_path / "photo-tool-phone.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
