"""Helpers for the browser tests (a helper module: test modules import this, never each other).

Every page opened through ``new_page`` records the page's script errors and every Content
Security Policy violation in ``page.js_errors``; the tests assert it stays empty."""
from __future__ import annotations

import random
import re
import time
from datetime import date, timedelta
from pathlib import Path

import helpers
from helpers import (  # noqa: F401 - re-exported: the browser tests take them from here
    VALID_4_BY_YEARS,
    Api,
    decide,
    fill_valid,
    jpeg_bytes,
    new_person,
    png_bytes,
    register,
    registered,
    upload,
    wait_for,
)
from playwright.sync_api import Browser, Locator, Page, expect

from deploy.seed import DEMO_PASSWORD

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 740}

# Reports every CSP violation on the console too (Chromium also logs its own "Refused to …").
_CSP_LISTENER = """document.addEventListener('securitypolicyviolation', (e) => {
  console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI || ''} ${e.sourceFile || ''}:${e.lineNumber || ''}`);
});"""


def new_page(browser: Browser, stack, viewport: dict | None = None, **context_kw) -> Page:
    """A separate browser context (own cookies and sessionStorage) per person."""
    context = browser.new_context(base_url=stack.url, locale="zh-CN", viewport=viewport or DESKTOP, **context_kw)
    context.set_default_timeout(20_000)
    context.add_init_script(_CSP_LISTENER)
    page = context.new_page()
    page.js_errors = []  # the pages' script must not throw, nor break the Content Security Policy

    def console(msg):
        if msg.type == "error" and ("Content Security Policy" in msg.text or "CSP violation" in msg.text):
            page.js_errors.append(f"{page.url}: {msg.text}")

    page.on("pageerror", lambda exc: page.js_errors.append(f"{page.url}: {exc}"))
    page.on("console", console)
    return page


def close(*pages: Page) -> None:
    """Asserts no page had a script error or a CSP violation, then closes them."""
    errors = [e for p in pages for e in p.js_errors]
    for p in pages:
        p.context.close()
    assert not errors, errors


# --- people (the factories live in helpers.py) ---------------------------------------------
def born_1979() -> str:
    """A birthday in 1979 (the forms the tests fill need someone in their forties), random
    within the year: a fixed one would make two tests draw the same ID number."""
    return (date(1979, 1, 1) + timedelta(days=random.randrange(365))).strftime("%Y%m%d")


def applicant(stack, province, birth: str | None = None, **kw):
    """A registered applicant (through the API)."""
    return registered(stack, province, birth=birth or born_1979(), **kw)


def applicant_api(stack, province, birth: str | None = None, **kw) -> tuple[Api, object]:
    return helpers.applicant(stack, province, birth=birth or born_1979(), **kw)


def submitted(stack, province, birth: str | None = None):
    """An applicant whose valid 四级 form (郑州市第一人民医院, 文化程度 高中) is submitted and whose
    case is open at the 主管单位: (api, person, application_id)."""
    return helpers.submitted(stack, province, birth=birth or born_1979())


def admin_api(stack, username: str, password: str = DEMO_PASSWORD) -> Api:
    return helpers.admin(stack, username, password)


def returned(stack, province, reason: str):
    """A submitted application the 主管单位 has 退回ed, with the applicant's form unlocked."""
    api, person, app_id = submitted(stack, province)
    assert decide(admin_api(stack, "zz_wsjw"), app_id, "return", reason).status_code == 200
    wait_for(lambda: api.get("/api/v1/me/application").json()["status"] == "returned")
    return api, person, app_id


# --- pages --------------------------------------------------------------------------------
def login_applicant(page: Page, person, password: str | None = None) -> None:
    page.goto("/login")
    page.fill("#f-id_number", person.id_number)
    page.fill("#f-password", password or person.password)
    page.get_by_role("button", name="登录").click()


def applicant_login(page: Page, person) -> None:
    login_applicant(page, person)
    expect(page).to_have_url(re.compile(r"/home$"))


def admin_login(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/admin/login")
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin$"))


def reload_until(page: Page, url: str, locator: Locator, timeout: float = 15.0) -> None:
    """Open ``url`` again until ``locator`` is visible: another service's state arrives by event."""
    deadline = time.time() + timeout
    while True:
        page.goto(url, wait_until="networkidle")
        if locator.count() and locator.first.is_visible():
            return
        if time.time() > deadline:
            raise AssertionError(f"{url}: {locator} did not show within {timeout}s")
        time.sleep(0.3)


def loaded(page: Page, selector: str) -> None:
    img = page.locator(selector)
    expect(img).to_be_visible()
    page.wait_for_function("(el) => el.complete && el.naturalWidth > 0", arg=img.element_handle())


def shoot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)


# --- measurements in the page -----------------------------------------------------------------
CONTRAST_JS = """(el) => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map((x) => parseFloat(x)); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
  const over = (top, under) => ({ r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a), a: 1 });
  // the background behind the element: its own and its ancestors' colours, blended upwards
  const layers = [];
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
    const style = getComputedStyle(node);
    if (style.backgroundImage && style.backgroundImage !== 'none') return { ratio: null, reason: 'background image' };
    const bg = parse(style.backgroundColor);
    if (bg && bg.a > 0) { layers.push(bg); if (bg.a >= 1) break; }
  }
  let bg = { r: 255, g: 255, b: 255, a: 1 };
  for (const layer of layers.reverse()) bg = over(layer, bg);
  let opacity = 1;
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) opacity *= parseFloat(getComputedStyle(node).opacity);
  const fg = over({ ...parse(getComputedStyle(el).color), a: parse(getComputedStyle(el).color).a * opacity }, bg);
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  return { ratio: (hi + 0.05) / (lo + 0.05), color: getComputedStyle(el).color };
}"""

# Every element with its own visible text under ``root`` that is not a disabled control: the
# ones below 4.5:1 (WCAG AA), as [text, ratio].
LOW_CONTRAST_JS = """([root, contrastSrc]) => {
  const contrast = eval(contrastSrc);
  const out = [];
  for (const el of document.querySelectorAll(root + ' *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest(':disabled, [hidden], script, .visually-hidden, option')) continue;
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(el).visibility === 'hidden') continue;
    const c = contrast(el);
    if (c.ratio !== null && c.ratio < 4.5) out.push([el.textContent.trim().slice(0, 30), Math.round(c.ratio * 100) / 100]);
  }
  return out;
}"""


# --- phones: the layout every page must keep at 360–414 px --------------------------------------
LAYOUT_JS = """() => {
  const width = window.innerWidth;
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const gaps = [];
  for (const row of document.querySelectorAll('.field')) {
    const label = row.querySelector(':scope > .field-label');
    const control = row.querySelector(':scope > .field-control');
    if (!label || !control || !visible(row)) continue;
    // from the label's text (not its box, which a wide-screen flex-basis can make 140 px tall)
    const text = document.createRange();
    text.selectNodeContents(label);
    const l = text.getBoundingClientRect(), c = control.getBoundingClientRect();
    gaps.push([row.dataset.field || label.textContent.trim(), Math.round(c.top - l.bottom)]);
  }
  const tables = [];
  for (const table of document.querySelectorAll('main table')) {
    if (!visible(table)) continue;
    let box = table, contained = table.getBoundingClientRect().right <= width + 1;
    for (let el = table.parentElement; el && !contained; el = el.parentElement) {
      const o = getComputedStyle(el).overflowX;
      if ((o === 'auto' || o === 'scroll') && el.getBoundingClientRect().right <= width + 1) { contained = true; box = el; }
    }
    tables.push([table.id || table.className, contained]);
  }
  return { overflow: document.documentElement.scrollWidth - width, gaps, tables };
}"""


def check_layout(page: Page, where: str) -> None:
    layout = page.evaluate(LAYOUT_JS)
    assert layout["overflow"] <= 0, (where, "the page scrolls sideways by", layout["overflow"])
    too_far = [g for g in layout["gaps"] if g[1] > 16]
    assert not too_far, (where, "label far above its control", too_far)
    assert all(ok for _, ok in layout["tables"]), (where, "table wider than the screen", layout["tables"])


def contrast(locator: Locator) -> float:
    result = locator.evaluate(CONTRAST_JS)
    assert result["ratio"] is not None, result
    return result["ratio"]


def low_contrast(page: Page, root: str = "main") -> list:
    return page.evaluate(LOW_CONTRAST_JS, [root, CONTRAST_JS])
